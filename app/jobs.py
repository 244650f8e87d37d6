"""Background jobs: a Job row tracks state and progress; a Celery task runs the handler for its kind.

Handlers live with their domain (`app/<domain>/jobs.py`, `@handler("kind")`) and register when
imported: `app/job_kinds.py` imports them all, for the worker and the web app alike. This module
imports no domain, so any service may enqueue a job by its kind."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import anyio

from app.clock import iso, now
from app.db import close_pool, open_pool, write_tx
from app.system import recovery
from app.tables import Job
from app.worker import celery_app

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from app.tables import User

log = logging.getLogger("labelwell.jobs")
HANDLERS: dict[str, Callable[[Job], Awaitable[dict[str, Any]]]] = {}


class JobFailed(Exception):
    """A job that ends in a way the user must read: `result` says what went wrong, in detail."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def handler(kind: str) -> Callable:
    def register(fn: Callable[[Job], Awaitable[dict[str, Any]]]) -> Callable:
        HANDLERS[kind] = fn
        return fn

    return register


async def enqueue(kind: str, *, project_id: int | None, user_id: int | None, params: dict | None = None,
                  quiet: bool = False) -> Job:
    """Store the job and hand it to the broker. If the broker will not take it, the job is marked
    failed, so nothing waits for it; `quiet` callers (side effects of work already saved) get
    that failed job back instead of an exception."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, project=project_id, created_by=user_id, params=params or {})
    async with write_tx():
        await job.save()
    try:
        # sending is blocking I/O (a file or a socket): keep it off the event loop
        await anyio.to_thread.run_sync(run_job.delay, job.id)
    except Exception as exc:
        log.exception("the broker did not take job %s (%s)", job.id, kind)
        await _set(job.id, state="failed", error=f"The job could not be queued: {type(exc).__name__}: {exc}",
                   finished_at=now())
        if not quiet:
            raise
    return await get(job.id)


async def get(job_id: int, project_id: int | None = None) -> Job | None:
    """A job by id (of that project, when given)."""
    query = Job.objects().where(Job.id == job_id)
    if project_id is not None:
        query = query.where(Job.project == project_id)
    return await query.output(load_json=True).first()


def shown_to(user: User, job: Job) -> bool:
    """ML jobs carry the backend's own answers, which belong with its (admin-only) settings; a
    built-in model's run carries its quality, which annotators do not see either."""
    return user.role == "admin" or not job.kind.startswith(("ml_", "builtin_"))


async def recent(project_id: int, kind: str = "", limit: int = 50) -> list[Job]:
    """A project's newest jobs (of one kind, when given), newest first."""
    query = Job.objects().where(Job.project == project_id)
    if kind:
        query = query.where(Job.kind == kind)
    return await query.order_by(Job.id, ascending=False).limit(limit).output(load_json=True)


async def set_progress(job_id: int, done: int, total: int) -> None:
    await _set(job_id, progress=done, total=total)


async def _set(job_id: int, **values: Any) -> None:
    async with write_tx():
        await Job.update({getattr(Job, k): v for k, v in values.items()}).where(Job.id == job_id)


async def claim(job_id: int) -> Job | None:
    """Take a queued job for this process, or say why not: a message can come twice (the broker
    hands an unacknowledged job out again after a crash or a timeout), and a job runs once."""
    token = recovery.me()
    async with write_tx():
        job = await get(job_id)
        if job is not None and job.state == "queued":
            taken = await Job.update({Job.state: "running", Job.started_at: now(), Job.worker: token}).where(
                (Job.id == job_id) & (Job.state == "queued")).returning(Job.id)
            if taken:
                job.state, job.worker = "running", token
                return job
            return None  # another worker took it between the two statements
    if job is None:
        log.warning("job %s no longer exists: nothing to run", job_id)
    elif job.state == "running" and await recovery.interrupt_if_gone(job):
        log.warning("job %s was delivered again after its worker stopped: marked failed, not run again "
                    "(Retry runs it)", job_id)
    elif job.state == "running":
        log.warning("job %s is running on %s: this second delivery is dropped", job_id,
                    recovery.worker_name(job.worker) or "another worker")
    else:
        log.warning("job %s is %s already: this late delivery is dropped, not run again", job_id, job.state)
    return None


async def _finish(job: Job, **values: Any) -> None:
    """The outcome, written only by the process that ran the job. If a check took the job for
    interrupted meanwhile (its worker was unreachable long enough), the true outcome replaces that."""
    async with write_tx():
        await Job.update({getattr(Job, k): v for k, v in values.items()}).where(
            (Job.id == job.id) & (Job.worker == job.worker))


async def execute(job_id: int) -> None:
    job = await claim(job_id)
    if job is None:
        return
    try:
        result = await HANDLERS[job.kind](job)
    except JobFailed as exc:
        await _finish(job, state="failed", error=str(exc), result=exc.result, finished_at=now())
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, job.kind)
        await _finish(job, state="failed", error=f"{type(exc).__name__}: {exc}", finished_at=now())
    else:
        await _finish(job, state="done", result=result, progress=Job.total, finished_at=now())


async def _in_pool(job_id: int) -> None:
    # a connection per query costs ~1 ms on SQLite and more on PostgreSQL; a job runs thousands
    # of queries, so it gets a pool of its own for its event loop
    await open_pool()
    try:
        await execute(job_id)
    finally:
        await close_pool()


@celery_app.task(name="labelwell.run_job")
def run_job(job_id: int) -> None:
    asyncio.run(_in_pool(job_id))


def job_json(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "project": job.project, "state": job.state,
            "progress": job.progress, "total": job.total, "result": job.result, "error": job.error,
            "created_at": iso(job.created_at), "started_at": iso(job.started_at), "finished_at": iso(job.finished_at),
            "worker": recovery.worker_name(job.worker)}

