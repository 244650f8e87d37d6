"""The worker's side of storages: an import sync and an export storage's full re-export, as Jobs
(progress in the row, the storage's status block kept as they go), and the export outbox drained
by a sweep every second (app/storages/exporting.py)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from celery import signals

from app.jobs import handler
from app.storages import exporting, sync

if TYPE_CHECKING:
    from app.tables import Job

log = logging.getLogger("labelwell.storages")
_stop = threading.Event()


@handler("storage_sync")
async def storage_sync(job: Job) -> dict[str, Any]:
    return await sync.run_sync(job)


@handler("storage_export")
async def storage_export(job: Job) -> dict[str, Any]:
    return await exporting.export_all(job)


def _sweep_loop() -> None:
    while not _stop.wait(exporting.SWEEP_SECONDS):
        try:
            while asyncio.run(exporting.drain()) >= exporting.BATCH:
                pass  # a backlog: the next batch at once
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log.exception("export storage sweep failed")


@signals.worker_ready.connect
def start_sweep(**_: object) -> None:
    _stop.clear()
    threading.Thread(target=_sweep_loop, name="storage-export-sweep", daemon=True).start()


@signals.worker_shutdown.connect
def stop_sweep(**_: object) -> None:
    _stop.set()
