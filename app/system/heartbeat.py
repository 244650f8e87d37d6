"""The worker's heartbeat: a running worker keeps its lw_worker row fresh, so the web side can
tell whether anything will pick up the jobs it queues (the broker itself cannot say), and other
workers can tell whether the owner of a running job still lives (app/system/recovery.py)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING

from kombu.utils.url import sanitize_url

from app.clock import now
from app.settings import settings
from app.tables import Worker

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger("labelwell.heartbeat")
BEAT_SECONDS = 10
FRESH_SECONDS = 30  # a heartbeat younger than this means the worker is alive
FORGET_AFTER = dt.timedelta(days=1)  # rows of workers that died without saying so (a killed container)

_stop = threading.Event()
_thread: threading.Thread | None = None
# this worker: its node name, its main process and the moment it started, set before Celery
# forks the pool, so the processes that run jobs name the same worker as the row they beat in
_name = ""
_pid = 0
_started: dt.datetime | None = None
_steady_since: float | None = None  # monotonic time since which every beat succeeded


def broker_label() -> str:
    """Where jobs are queued, password masked; the worker and the web server compare these."""
    if settings.broker_url.startswith("filesystem://"):
        return f"filesystem:// in {settings.broker_dir}"
    return sanitize_url(settings.broker_url)


def identify(name: str) -> None:
    """Called in the worker's main process before its pool starts (Celery's celeryd_after_setup)."""
    global _name, _pid, _started
    _name, _pid, _started = name, os.getpid(), now()


def identity() -> tuple[str, int, dt.datetime]:
    """(node name, main process id, start) of the worker this process belongs to."""
    if _started is None:  # a process Celery did not set up (a solo pool started by hand, a test)
        identify(f"celery@{socket.gethostname()}")
    assert _started is not None
    return _name, _pid, _started


def steady_seconds() -> float:
    """How long every beat of this worker has succeeded: the database has been reachable that
    long, so another worker silent for as long is silent because it is gone, not because of it."""
    return 0.0 if _steady_since is None else time.monotonic() - _steady_since


def beat(*, starting: bool = False) -> None:
    """Insert or refresh this worker's row. Each query runs in an event loop and a connection of
    its own (Piccolo's run_sync), so the heartbeat shares nothing with the jobs."""
    name, pid, started = identity()
    moment = now()
    if starting:
        Worker.delete().where(Worker.seen_at < moment - FORGET_AFTER).run_sync()
    row = Worker(name=name, pid=pid, broker=broker_label()[:255], started_at=started, seen_at=moment)
    # pid and start together: the row always names one process, whichever beat last
    refreshed = [Worker.pid, Worker.broker, Worker.started_at, Worker.seen_at]
    Worker.insert(row).on_conflict(target=Worker.name, action="DO UPDATE", values=refreshed).run_sync()


def _run(after_beat: Callable[[float], None] | None) -> None:
    global _steady_since
    delay, starting = 0.0, True
    while not _stop.wait(delay):
        try:
            beat(starting=starting)
        except Exception as exc:  # the database may be restarting, or not migrated yet: try again soon
            log.warning("the worker heartbeat could not be written (%s: %s)", type(exc).__name__, exc)
            _steady_since = None
            delay = min(BEAT_SECONDS, delay * 2 or 1)
            continue
        if _steady_since is None:
            _steady_since = time.monotonic()
        starting, delay = False, BEAT_SECONDS
        if after_beat is not None:
            try:
                after_beat(steady_seconds())
            except Exception:
                log.warning("the check for jobs of stopped workers failed; it runs again at the next beat", exc_info=True)


def start(name: str, after_beat: Callable[[float], None] | None = None) -> None:
    """Called when the worker is ready (the `worker_ready` signal, in the worker's main process);
    `after_beat(steady_seconds)` runs in the heartbeat's thread after each beat that succeeded."""
    global _thread
    if _thread is not None and _thread.is_alive():  # worker_ready comes again after a broker reconnect
        return
    if _name != name or _started is None:
        identify(name)
    _stop.clear()
    _thread = threading.Thread(target=_run, args=(after_beat,), name="labelwell-heartbeat", daemon=True)
    _thread.start()


def stop() -> None:
    """Called on a warm shutdown: the worker leaves the list at once instead of ageing out of it."""
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=5)
    if _name:
        try:
            # by pid too: another worker started under the same name may have taken the row over
            Worker.delete().where((Worker.name == _name) & (Worker.pid == _pid)).run_sync()
        except Exception:
            log.warning("the worker's heartbeat row could not be removed", exc_info=True)
