"""GET /api/projects/{id}/export?exportType=… (Label Studio's easy export, streamed), the list of
formats the project's config allows, and exports as background jobs with their download."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import File, Stream

from app import clock, idempotency, jobs
from app.auth import user_of
from app.data_export import service
from app.data_export.formats import FORMATS
from app.data_export.schemas import filters_from, formats_json
from app.web import both
from components import parse_config

if TYPE_CHECKING:
    from app.tables import Project


@get(both("/api/projects/{project_id:int}/export"))
async def project_export(request: Request, project: Project) -> Stream:
    await service.exportable(user_of(request), project)
    name = request.query_params.get("exportType", request.query_params.get("export_type", "JSON")).upper()
    body, expected, _ = await service.export_stream(project, name, filters_from(request.query_params))
    fmt = FORMATS[name]
    stamp = clock.now().strftime("%Y-%m-%d-%H-%M-%S")
    return Stream(body, media_type=fmt.media_type, headers={
        "Content-Disposition": f'attachment; filename="project-{project.id}-at-{stamp}.{fmt.extension}"',
        "X-Labelwell-Records": str(expected)})


@get(both("/api/projects/{project_id:int}/export/formats"))
async def export_formats(request: Request, project: Project) -> list[dict[str, Any]]:
    await service.exportable(user_of(request), project)
    return formats_json(parse_config(project.label_config))


@post(both("/api/projects/{project_id:int}/exports"), status_code=202, opt={"audit": None})
async def export_job_create(request: Request, project: Project) -> Response:
    """A big export as a background job: answers at once; the file is downloaded when the job is done.
    With an Idempotency-Key the key covers the job's creation (it queues a job: see app/idempotency.py)."""
    await service.exportable(user_of(request), project)
    query = request.query_params
    return await idempotency.once_claimed(request, lambda: service.queue_export(
        user_of(request), project, query.get("exportType", "JSON").upper(), filters_from(query)), jobs.job_json, 202)


@get(both("/api/projects/{project_id:int}/exports/{job_id:int}/download"))
async def export_job_download(request: Request, project: Project, job_id: int) -> File:
    await service.exportable(user_of(request), project)
    found = await service.finished_export(project, job_id)
    if found is None:
        raise NotFoundException("No finished export with that id")
    path, fmt = found
    return File(path=path, media_type=fmt.media_type, filename=path.name)


ROUTES = [project_export, export_formats, export_job_create, export_job_download]
