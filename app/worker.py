"""The Celery app. Embedded default: the filesystem transport in the data folder (no broker server);
production: CELERY_BROKER_URL=redis://…. Job state lives in the database (the Job table), not in a
Celery result backend, so pages can show progress whichever broker runs."""

from __future__ import annotations

import logging
import os
import sys
import warnings

from celery import Celery, signals
from celery.exceptions import SecurityWarning

from app.settings import settings
from app.system import heartbeat, recovery


# `labelwell serve` says once that it runs as root, with what to do; Celery's warning says it again
# in capitals, and Piccolo logs the database version on every start
warnings.filterwarnings("ignore", category=SecurityWarning)
logging.getLogger("piccolo").setLevel(logging.WARNING)


def make_celery() -> Celery:
    # kombu warns "No hostname was supplied" for a bare filesystem://; the folder is what counts
    broker = "filesystem://localhost//" if settings.broker_url in ("filesystem://", "filesystem:///") else settings.broker_url
    app = Celery("labelwell", broker=broker, include=["app.job_kinds"])
    if settings.broker_url.startswith("filesystem://"):
        app.conf.broker_transport = "app.broker_files:Transport"  # messages appear whole (see there)
    app.conf.update(
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        task_acks_late=True,  # a job whose worker dies is delivered again
        worker_prefetch_multiplier=1,
    )
    if settings.broker_url.startswith("filesystem://"):
        queue = settings.broker_dir / "queue"
        processed = settings.broker_dir / "processed"
        # the exchange tables: kombu's default is ./control of whatever folder the process runs in
        control = settings.broker_dir / "control"
        for folder in (queue, processed, control):
            folder.mkdir(parents=True, exist_ok=True)
        # producer (web) and consumer (worker) must use the same folder
        app.conf.broker_transport_options = {
            "data_folder_in": str(queue), "data_folder_out": str(queue),
            "processed_folder": str(processed), "store_processed": False, "control_folder": str(control),
            # a folder is read often: a job starts a tenth of a second after it is queued, not a second
            "polling_interval": 0.1,
        }
    return app


celery_app = make_celery()


@signals.celeryd_after_setup.connect
def identify_worker(sender: str, **_: object) -> None:
    # before the pool forks: the processes that run jobs then name this worker (sender: its node name)
    heartbeat.identify(sender)


@signals.worker_ready.connect
def start_heartbeat(sender: object, **_: object) -> None:
    # sender is the worker's consumer; its hostname is the worker's node name (celery@host). After
    # each beat (the first one as the worker starts), jobs left running by stopped workers are failed
    heartbeat.start(sender.hostname, after_beat=recovery.sweep)  # type: ignore[attr-defined]
    size = getattr(getattr(sender, "pool", None), "num_processes", None) or "?"
    # past Celery's capture of stdout (which would make it a log line with a level and a time)
    out = sys.__stdout__
    if out is not None:
        out.write(f"  Worker:    ready ({size} process(es), pid {os.getpid()})\n")
        out.flush()


@signals.worker_shutdown.connect
def stop_heartbeat(**_: object) -> None:
    heartbeat.stop()
