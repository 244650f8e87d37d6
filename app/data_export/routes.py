"""Exporting from the project page: the form queues an export job, whose progress the page polls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request, post
from litestar.response import Redirect, Template

from app.auth import user_of
from app.data_export import service
from app.data_export.schemas import filters_from

if TYPE_CHECKING:
    from app.tables import Project


@post("/projects/{project_id:int}/exports", opt={"audit": None})
async def export_job_page(request: Request, project: Project) -> Template | Redirect:
    await service.exportable(user_of(request), project)
    form = await request.form()
    job = await service.queue_export(user_of(request), project, form.get("exportType", "JSON").upper(), filters_from(form))
    if not request.htmx:
        return Redirect(f"/projects/{project.id}?job={job.id}#export")
    return Template("jobs/_job.html", context={"job": job, "project": project})


ROUTES = [export_job_page]
