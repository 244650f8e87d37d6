"""The Celery app. Embedded default: the filesystem transport in the data folder (no broker server);
production: CELERY_BROKER_URL=redis://…. Job state lives in the database (the Job table), not in a
Celery result backend, so pages can show progress whichever broker runs."""

from __future__ import annotations

from celery import Celery, signals

from app.settings import settings
from app.system import heartbeat


def make_celery() -> Celery:
    app = Celery("labelwell", broker=settings.broker_url, include=["app.job_kinds"])
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
        }
    return app


celery_app = make_celery()


@signals.worker_ready.connect
def start_heartbeat(sender: object, **_: object) -> None:
    # sender is the worker's consumer; its hostname is the worker's node name (celery@host)
    heartbeat.start(sender.hostname)  # type: ignore[attr-defined]


@signals.worker_shutdown.connect
def stop_heartbeat(**_: object) -> None:
    heartbeat.stop()
