"""Exports as background jobs: the same streamed writer, into a file in the data folder, with
progress in the Job row and the written count checked against the expected count."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from app.data_export import records
from app.data_export.formats import FORMATS
from app.jobs import JobFailed, handler, set_progress
from app.settings import settings
from app.tables import Job, Project


def filters_to_params(filters: records.Filters) -> dict[str, Any]:
    out = dataclasses.asdict(filters)
    out["since"] = filters.since.isoformat() if filters.since else None
    return out


def filters_from_params(params: dict[str, Any]) -> records.Filters:
    values = dict(params)
    values["since"] = dt.datetime.fromisoformat(values["since"]) if values.get("since") else None
    return records.Filters(**values)


def export_path(job: Job) -> Any:
    fmt = FORMATS[job.params["format"]]
    return settings.data_dir / "exports" / str(job.project) / f"project-{job.project}-export-{job.id}.{fmt.extension}"


@handler("export")
async def export_file(job: Job) -> dict[str, Any]:
    from app.data_export.api import export_stream

    project = await Project.objects().where(Project.id == job.project).first()
    filters = filters_from_params(job.params["filters"])
    body, expected, counted = await export_stream(project, job.params["format"], filters)
    path = export_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with open(path, "wb") as fh:
            async for chunk in body:
                fh.write(chunk.encode() if isinstance(chunk, str) else chunk)
                written += 1
                if written % 200 == 0:  # chunks, not records: cheap enough to say often
                    await set_progress(job.id, min(expected, counted.count), expected)
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise JobFailed(f"The export stopped: {exc}", {"expected": expected}) from exc
    await set_progress(job.id, expected, expected)
    return {"file": path.name, "records": expected, "size": path.stat().st_size, "format": job.params["format"]}
