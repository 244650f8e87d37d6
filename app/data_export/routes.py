"""Exporting from the project page: the export card lists the project's snapshots (status, counts,
a download link per format, delete), and its form makes one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from app.auth import user_of
from app.data_export import service, snapshots
from app.data_export.schemas import filters_from, page_body

if TYPE_CHECKING:
    from app.tables import Project


async def _card(request: Request, project: Project) -> Template | Redirect:
    if not request.htmx:
        return Redirect(f"/projects/{project.id}#export")
    return Template("data_export/_snapshots.html", context=await snapshots.card(project))


@get("/projects/{project_id:int}/exports")
async def snapshots_part(request: Request, project: Project) -> Template:
    await service.exportable(user_of(request), project)
    template = "data_export/_snapshots.html" if request.htmx else "data_export/snapshots.html"
    return Template(template, context=await snapshots.card(project))


@post("/projects/{project_id:int}/exports", opt={"audit": None})
async def snapshot_page_create(request: Request, project: Project) -> Template | Redirect:
    await service.exportable(user_of(request), project)
    form = await request.form()
    await snapshots.create(user_of(request), project, page_body(form), {}, filters_from(form))
    return await _card(request, project)


@post("/projects/{project_id:int}/exports/{export_id:int}/delete", opt={"audit": None})
async def snapshot_page_delete(request: Request, project: Project, export_id: int) -> Template | Redirect:
    await service.exportable(user_of(request), project)
    if not await snapshots.delete(project, export_id):
        raise NotFoundException("No export with that id in this project")
    return await _card(request, project)


ROUTES = [snapshots_part, snapshot_page_create, snapshot_page_delete]
