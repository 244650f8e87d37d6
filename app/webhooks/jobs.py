"""The worker's side of webhooks: the `labelwell.webhooks.deliver` message a commit sends, and a
sweep every few seconds (retries that came due, deliveries whose message was lost, the log kept
to its last 1000 per webhook). Deliveries are their own record (the log), so no Job row is made
for each event."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from celery import signals

from app.db import close_pool, open_pool
from app.webhooks import delivery, outbox
from app.worker import celery_app

log = logging.getLogger("labelwell.webhooks")
PRUNE_EVERY = 300.0  # seconds
_stop = threading.Event()


async def _pooled(work) -> int:  # noqa: ANN001 - a coroutine function
    await open_pool()
    try:
        return await work()
    finally:
        await close_pool()


@celery_app.task(name=outbox.DELIVER_TASK, acks_late=True)
def deliver(webhook_ids: list[int]) -> None:
    asyncio.run(_pooled(lambda: delivery.deliver(webhook_ids)))


def _sweep_loop() -> None:
    pruned = time.monotonic()
    while not _stop.wait(delivery.SWEEP_SECONDS):
        try:
            asyncio.run(delivery.sweep())
            if time.monotonic() - pruned >= PRUNE_EVERY:
                pruned = time.monotonic()
                asyncio.run(delivery.prune())
        except Exception:  # noqa: BLE001 - the next sweep tries again
            log.exception("webhook sweep failed")


@signals.worker_ready.connect
def start_sweep(**_: object) -> None:
    _stop.clear()
    threading.Thread(target=_sweep_loop, name="webhook-sweep", daemon=True).start()


@signals.worker_shutdown.connect
def stop_sweep(**_: object) -> None:
    _stop.set()
