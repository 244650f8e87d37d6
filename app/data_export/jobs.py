"""Exports as background jobs: the same streamed writer, into a file in the data folder, with
progress in the Job row and the written count checked against the expected count."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.data_export import service
from app.data_export.schemas import filters_from_params
from app.jobs import JobFailed, handler, set_progress

if TYPE_CHECKING:
    from app.tables import Job


@handler("export")
async def export_file(job: Job) -> dict[str, Any]:
    project = await service.project_of(job)
    filters = filters_from_params(job.params["filters"])
    body, expected, counted = await service.export_stream(project, job.params["format"], filters)
    path = service.export_path(job)
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
