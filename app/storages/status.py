"""A storage's sync status block, as Label Studio keeps it: status initialized -> queued ->
in_progress -> completed | completed_with_errors | failed, and meta (attempts, time_queued,
time_in_progress, time_last_ping, time_completed, duration, tasks_existed). A sync whose worker
died is found when storages are read: in_progress with no ping for STALE_SECONDS, or a job that
failed or is gone, becomes failed with a traceback saying so."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app import jobs
from app.system import recovery
from app.clock import iso, now
from app.db import write_tx
from app.tables import Storage

STALE_SECONDS = 25  # Label Studio: 5 x STORAGE_IN_PROGRESS_TIMER (5 s)
RUNNING = ("queued", "in_progress")
DIED = ("The sync stopped without finishing: its worker was stopped or lost. Nothing it created is "
        "lost, and Sync again carries on where it stopped.")


def _parse(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


async def _set(storage_id: int, meta: dict[str, Any] | None = None, **values: Any) -> None:
    columns = {getattr(Storage, k): v for k, v in values.items()}
    if meta is not None:
        columns[Storage.meta] = meta
    async with write_tx():
        await Storage.update(columns).where(Storage.id == storage_id)


async def queued(storage: Storage, job_id: int) -> None:
    """After the job is handed to the broker; unless its worker has started it already."""
    meta = {**(storage.meta or {}), "attempts": int((storage.meta or {}).get("attempts", 0)) + 1,
            "time_queued": iso(now())}
    columns = {Storage.status: "queued", Storage.traceback: None, Storage.last_sync_job: str(job_id),
               Storage.meta: meta}
    async with write_tx():
        await Storage.update(columns).where(
            (Storage.id == storage.id) & (Storage.last_sync_job.is_null() | (Storage.last_sync_job != str(job_id))))


async def started(storage: Storage, job_id: int) -> dict[str, Any]:
    stamp = iso(now())
    meta = {**(storage.meta or {}), "time_in_progress": stamp, "time_last_ping": stamp, "tasks_existed": 0}
    meta.setdefault("time_queued", stamp)
    meta["attempts"] = max(1, int(meta.get("attempts", 0)))
    await _set(storage.id, meta, status="in_progress", traceback=None, last_sync_job=str(job_id))
    return meta


async def ping(storage_id: int, meta: dict[str, Any]) -> None:
    meta["time_last_ping"] = iso(now())
    await _set(storage_id, meta)


async def finished(storage_id: int, meta: dict[str, Any], state: str, created: int, traceback: str | None) -> None:
    end = now()
    began = _parse(meta.get("time_in_progress")) or end
    meta.update(time_last_ping=iso(end), time_completed=iso(end), duration=round((end - began).total_seconds(), 3))
    if state == "failed":
        meta["time_failure"] = iso(end)
    await _set(storage_id, meta, status=state, traceback=traceback, last_sync=end, last_sync_count=created)


async def _died(storage: Storage) -> bool:
    job = await jobs.get(int(storage.last_sync_job)) if (storage.last_sync_job or "").isdigit() else None
    if job is None or job.state in ("failed", "done"):
        return True
    if job.state == "running" and await recovery.interrupt_if_gone(job):  # its worker process is gone
        return True
    if storage.status != "in_progress":
        return False
    last = _parse((storage.meta or {}).get("time_last_ping"))
    return last is None or (now() - last).total_seconds() > STALE_SECONDS


async def recovered(storage: Storage) -> Storage:
    """The storage, marked failed first if its sync died (kill -9, a lost worker)."""
    if storage.status not in RUNNING or not await _died(storage):
        return storage
    meta = {**(storage.meta or {}), "time_failure": iso(now())}
    async with write_tx():  # only if nobody moved it on meanwhile
        await Storage.update({Storage.status: "failed", Storage.traceback: DIED, Storage.meta: meta}).where(
            (Storage.id == storage.id) & (Storage.status == storage.status)
            & (Storage.last_sync_job == storage.last_sync_job))
    storage.status, storage.traceback, storage.meta = "failed", DIED, meta
    return storage
