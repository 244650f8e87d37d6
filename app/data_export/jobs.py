"""Export jobs: a snapshot's JSON file written into the data folder, and a snapshot converted to
another format once (app/data_export/snapshots.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.data_export import snapshots
from app.jobs import handler

if TYPE_CHECKING:
    from app.tables import Job


@handler("export")
async def export_snapshot(job: Job) -> dict[str, Any]:
    return await snapshots.build(job)


@handler("export_convert")
async def export_convert(job: Job) -> dict[str, Any]:
    return await snapshots.convert_file(job)
