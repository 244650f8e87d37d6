"""What Settings → Instance shows of this installation: the live settings (app/instance.py) beside
their defaults, the jobs' counts, and where the data lives."""

from __future__ import annotations

from typing import Any

from kombu.utils.url import sanitize_url

from app import instance
from app.db import engine_name
from app.settings import settings
from app.system import job_queue
from app.system.heartbeat import broker_label
from app.uploads import media_store


def storage() -> dict[str, str]:
    return {
        "Data folder": str(settings.data_dir),
        "Database": f"{engine_name()} · {sanitize_url(settings.database_url)}",
        "Uploads": media_store.describe(),
        "Local files root": str(settings.local_files_root) if settings.local_files_root else "off",
        "Job broker": broker_label(),
    }


async def context(errors: dict | None = None, typed: dict | None = None) -> dict[str, Any]:
    """The page's context; `typed` (what a refused form held) is shown instead of the stored values."""
    values = (await instance.refresh(force=True)).__dict__
    return {
        "section": "instance", "fields": instance.FIELDS, "values": {**values, **(typed or {})},
        "defaults": instance.defaults(), "saved": instance.saved(), "errors": errors or {},
        "jobs": await job_queue.state_counts(), "storage": storage(),
    }
