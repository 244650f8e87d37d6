"""The worker's heartbeat: a running worker keeps its lw_worker row fresh, so the web side can
tell whether anything will pick up the jobs it queues (the broker itself cannot say)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading

from kombu.utils.url import sanitize_url

from app.clock import now
from app.settings import settings
from app.tables import Worker

log = logging.getLogger("labelwell.heartbeat")
BEAT_SECONDS = 10
FRESH_SECONDS = 30  # a heartbeat younger than this means the worker is alive
FORGET_AFTER = dt.timedelta(days=1)  # rows of workers that died without saying so (a killed container)

_stop = threading.Event()
_thread: threading.Thread | None = None
_name = ""


def broker_label() -> str:
    """Where jobs are queued, password masked; the worker and the web server compare these."""
    if settings.broker_url.startswith("filesystem://"):
        return f"filesystem:// in {settings.broker_dir}"
    return sanitize_url(settings.broker_url)


def beat(*, starting: bool = False) -> None:
    """Insert or refresh this worker's row. Each query runs in an event loop and a connection of
    its own (Piccolo's run_sync), so the heartbeat shares nothing with the jobs."""
    moment = now()
    if starting:
        Worker.delete().where(Worker.seen_at < moment - FORGET_AFTER).run_sync()
    row = Worker(name=_name, pid=os.getpid(), broker=broker_label()[:255], started_at=moment, seen_at=moment)
    refreshed = [Worker.pid, Worker.broker, Worker.seen_at] + ([Worker.started_at] if starting else [])
    Worker.insert(row).on_conflict(target=Worker.name, action="DO UPDATE", values=refreshed).run_sync()


def _run() -> None:
    delay, starting = 0.0, True
    while not _stop.wait(delay):
        try:
            beat(starting=starting)
        except Exception as exc:  # the database may be restarting, or not migrated yet: try again soon
            log.warning("the worker heartbeat could not be written (%s: %s)", type(exc).__name__, exc)
            delay = min(BEAT_SECONDS, delay * 2 or 1)
        else:
            starting, delay = False, BEAT_SECONDS


def start(name: str) -> None:
    """Called when the worker is ready (the `worker_ready` signal, in the worker's main process)."""
    global _thread, _name
    if _thread is not None and _thread.is_alive():  # worker_ready comes again after a broker reconnect
        return
    _name = name
    _stop.clear()
    _thread = threading.Thread(target=_run, name="labelwell-heartbeat", daemon=True)
    _thread.start()


def stop() -> None:
    """Called on a warm shutdown: the worker leaves the list at once instead of ageing out of it."""
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=5)
    if _name:
        try:
            # by pid too: another worker started under the same name may have taken the row over
            Worker.delete().where((Worker.name == _name) & (Worker.pid == os.getpid())).run_sync()
        except Exception:
            log.warning("the worker's heartbeat row could not be removed", exc_info=True)
