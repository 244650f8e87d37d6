"""Background jobs: a Job row tracks state and progress; a Celery task runs the handler for its kind."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import anyio

from app.db import write_tx
from app.tables import Annotation, Job, Prediction, Project, Task
from app.worker import celery_app

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

log = logging.getLogger("labelwell.jobs")
HANDLERS: dict[str, Callable[[Job], Awaitable[dict[str, Any]]]] = {}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def handler(kind: str) -> Callable:
    def register(fn: Callable[[Job], Awaitable[dict[str, Any]]]) -> Callable:
        HANDLERS[kind] = fn
        return fn

    return register


async def enqueue(kind: str, *, project_id: int | None, user_id: int | None, params: dict | None = None) -> Job:
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, project=project_id, created_by=user_id, params=params or {})
    async with write_tx():
        await job.save()
    # sending is blocking I/O (a file or a socket): keep it off the event loop
    await anyio.to_thread.run_sync(run_job.delay, job.id)
    return job


async def _set(job_id: int, **values: Any) -> None:
    async with write_tx():
        await Job.update({getattr(Job, k): v for k, v in values.items()}).where(Job.id == job_id)


async def execute(job_id: int) -> None:
    job = await Job.objects().where(Job.id == job_id).output(load_json=True).first()
    if job is None or job.state not in ("queued", "running"):
        return  # deleted, or already finished by an earlier delivery
    await _set(job_id, state="running", started_at=now())
    try:
        result = await HANDLERS[job.kind](job)
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, job.kind)
        await _set(job_id, state="failed", error=f"{type(exc).__name__}: {exc}", finished_at=now())
    else:
        await _set(job_id, state="done", result=result, progress=job.total, finished_at=now())


@celery_app.task(name="labelwell.run_job")
def run_job(job_id: int) -> None:
    asyncio.run(execute(job_id))


@handler("recount")
async def recount(job: Job) -> dict[str, Any]:
    """Recompute a project's counters from its rows: repairs drift after a crash or a manual edit."""
    pid = job.project
    labeled = Task.count().where(Task.project == pid, Task.is_labeled.eq(True))
    done = Annotation.count().where(Annotation.project == pid, Annotation.was_cancelled.eq(False))
    skipped = Annotation.count().where(Annotation.project == pid, Annotation.was_cancelled.eq(True))
    counts = {
        "task_number": await Task.count().where(Task.project == pid),
        "finished_task_number": await labeled,
        "total_annotations_number": await done,
        "skipped_annotations_number": await skipped,
        "total_predictions_number": await Prediction.count().where(Prediction.project == pid),
    }
    async with write_tx():
        await Project.update({getattr(Project, k): v for k, v in counts.items()}).where(Project.id == pid)
    return counts


def job_json(job: Job) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {"id": job.id, "kind": job.kind, "project": job.project, "state": job.state,
            "progress": job.progress, "total": job.total, "result": job.result, "error": job.error,
            "created_at": iso(job.created_at), "started_at": iso(job.started_at), "finished_at": iso(job.finished_at)}
