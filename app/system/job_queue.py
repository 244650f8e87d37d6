"""All projects' background jobs for the admin: counts, lists, the stale ones, and retry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar.exceptions import HTTPException, NotFoundException
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from app import jobs
from app.clock import now
from app.db import is_postgres
from app.system import health, recovery
from app.tables import JOB_STATES, Job

LIMIT = 50
STALE_AFTER = dt.timedelta(minutes=3)  # queued this long with no worker: nothing will ever run it
SECTIONS = {"": [("Queued and running", ("queued", "running")), ("Failed", ("failed",))],
            **{state: [(state.capitalize(), (state,))] for state in JOB_STATES}}


async def state_counts() -> dict[str, int]:
    rows = await Job.select(Job.state, Count(Job.id, alias="n")).group_by(Job.state)
    counted = {row["state"]: row["n"] for row in rows}
    return {state: counted.get(state, 0) for state in JOB_STATES}


async def list_jobs(states: tuple[str, ...], kind: str) -> tuple[list[dict[str, Any]], int]:
    """The newest LIMIT jobs in these states (of this kind, if given), and how many there are."""
    where = Job.state.is_in(list(states))
    if kind:
        where &= Job.kind == kind
    rows = await Job.select(
        *Job.all_columns(), Job.project.title.as_alias("project_title"), Job.created_by.email.as_alias("creator"),
    ).where(where).order_by(Job.id, ascending=False).limit(LIMIT).output(load_json=True)
    for row in rows:
        row["worker_name"] = recovery.worker_name(row["worker"])
    return rows, await Job.count().where(where)


def _retry_of_sql() -> str:
    return "(params->>'retry_of')::integer" if is_postgres() else "json_extract(params, '$.retry_of')"


async def retried_as(job_ids: list[int]) -> dict[int, int]:
    """For each of these failed jobs that was retried, the id of the job that retried it."""
    if not job_ids:
        return {}
    marks = ", ".join("{}" for _ in job_ids)
    rows = await Job.select(Job.id, Job.params).where(
        WhereRaw(f"{_retry_of_sql()} IN ({marks})", *job_ids)).output(load_json=True)
    return {row["params"]["retry_of"]: row["id"] for row in rows}


async def stale_count() -> int:
    return await Job.count().where((Job.state == "queued") & (Job.created_at < now() - STALE_AFTER))


class Conflict(HTTPException):
    status_code = 409


async def retry(job_id: int) -> Job:
    """Queue a new job with the failed one's kind, project, params and author; the new job's
    params name the one it retries, so both stay in the history as they happened."""
    job = await Job.objects().where(Job.id == job_id).output(load_json=True).first()
    if job is None:
        raise NotFoundException(f"No job with id {job_id}")
    if job.state != "failed":
        raise Conflict(f"Job {job_id} is {job.state}, not failed: only a failed job can be retried.")
    if job.kind not in jobs.HANDLERS:
        raise Conflict(f"Job {job_id} is a {job.kind!r} job, which this version of Labelwell no longer runs.")
    if again := (await retried_as([job_id])).get(job_id):
        raise Conflict(f"Job {job_id} was already retried as job {again}.")
    return await jobs.enqueue(job.kind, project_id=job.project, user_id=job.created_by,
                              params={**job.params, "retry_of": job_id}, quiet=True)


async def overview(state: str, kind: str) -> dict[str, Any]:
    """What /settings/jobs shows: the broker and worker checks, counts, and the filtered lists."""
    state = state if state in SECTIONS else ""
    kind = kind if kind in jobs.HANDLERS else ""
    status = await health.system_status(full=False)
    sections = [(title, *await list_jobs(states, kind)) for title, states in SECTIONS[state]]
    failed = [job["id"] for _, rows, _ in sections for job in rows if job["state"] == "failed"]
    worker_ok = all(c.ok for c in status["checks"] if c.key == "worker")
    return {"status": status, "sections": sections, "counts": await state_counts(), "state": state, "kind": kind,
            "retried": await retried_as(failed), "kinds": sorted(jobs.HANDLERS), "states": list(SECTIONS),
            "limit": LIMIT, "stale": 0 if worker_ok else await stale_count(),
            "stale_minutes": int(STALE_AFTER.total_seconds() // 60)}
