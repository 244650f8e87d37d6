"""GET /api/projects/{id}/export?exportType=… (Label Studio's easy export, streamed), the list of
formats the project's config allows, and Label Studio's export snapshots (/exports: list, create,
get, delete, download in any format, convert) made by a background job."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.response import File, Stream

from app import clock, idempotency
from app.auth import user_of
from app.data_export import service, snapshots
from app.data_export.formats import FORMATS
from app.data_export.schemas import filters_from, formats_json
from app.web import both
from components import parse_config

if TYPE_CHECKING:
    from app.tables import Project

SNAPSHOT = "/api/projects/{project_id:int}/exports/{export_id:int}"


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


@get(both("/api/projects/{project_id:int}/exports"))
async def snapshot_list(request: Request, project: Project) -> list[dict[str, Any]]:
    await service.exportable(user_of(request), project)
    return await snapshots.listed(project)


@post(both("/api/projects/{project_id:int}/exports"), status_code=201, opt={"audit": None})
async def snapshot_create(request: Request, project: Project, data: Any = None) -> Response:
    """Label Studio's create: the snapshot at once, its file written by a job. Our export filters
    (since, annotators, only_accepted, …) may come in the query string too. An Idempotency-Key
    covers the creation (it queues a job: see app/idempotency.py)."""
    await service.exportable(user_of(request), project)
    query = request.query_params
    return await idempotency.once_claimed(request, lambda: snapshots.create(
        user_of(request), project, data, query, filters_from(query)), None, 201)


@get(both(SNAPSHOT))
async def snapshot_get(request: Request, project: Project, export_id: int) -> dict[str, Any]:
    await service.exportable(user_of(request), project)
    if (found := await snapshots.one(project, export_id)) is None:
        raise NotFoundException("No export with that id in this project")
    return found


@delete(both(SNAPSHOT), status_code=204, opt={"audit": None})
async def snapshot_delete(request: Request, project: Project, export_id: int) -> None:
    await service.exportable(user_of(request), project)
    if not await snapshots.delete(project, export_id):
        raise NotFoundException("No export with that id in this project")


@get(both(SNAPSHOT + "/download"))
async def snapshot_download(request: Request, project: Project, export_id: int) -> File | Stream:
    await service.exportable(user_of(request), project)
    name = request.query_params.get("exportType") or request.query_params.get("export_type")
    if (found := await snapshots.download(project, export_id, name)) is None:
        raise NotFoundException("Export is not completed")
    body, fmt, filename = found
    if isinstance(body, Path):
        return File(path=body, media_type=fmt.media_type, filename=filename)
    return Stream(body, media_type=fmt.media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@post(both(SNAPSHOT + "/convert"), status_code=200, opt={"audit": None})
async def snapshot_convert(request: Request, project: Project, export_id: int, data: Any = None) -> dict[str, Any]:
    await service.exportable(user_of(request), project)
    name = data.get("export_type") if isinstance(data, dict) else None
    if (found := await snapshots.convert(user_of(request), project, export_id, name)) is None:
        raise NotFoundException("No export with that id in this project")
    return found


ROUTES = [project_export, export_formats, snapshot_list, snapshot_create, snapshot_get, snapshot_delete,
          snapshot_download, snapshot_convert]
