"""The task list's tabs (saved views): save the current filters as a view, rename, move, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit
from app.auth import user_of
from app.views import service

if TYPE_CHECKING:
    from app.tables import Project


def _list(project_id: int, view_id: int | None = None) -> Redirect:
    return Redirect(f"/projects/{project_id}/tasks" + (f"?view={view_id}" if view_id else ""))


@post("/projects/{project_id:int}/views", opt={"audit": "view.create"})
async def view_save(request: Request, project: Project) -> Redirect:
    form = await request.form()
    view = await service.save_from_page(user_of(request), project, form.get("title", ""), form.get("state", ""))
    flash(request, f"Saved the view “{view.data['title']}”.", category="success")
    return _list(project.id, view.id)


@post("/projects/{project_id:int}/views/{view_id:int}/rename", opt={"audit": "view.update"})
async def view_rename(request: Request, project: Project, view_id: int) -> Redirect:
    view, _ = await service.view_in_reach(user_of(request), view_id, write=True, project=project)
    await service.rename_view(view, (await request.form()).get("title", ""))
    return _list(project.id, view.id)


@post("/projects/{project_id:int}/views/{view_id:int}/move", opt={"audit": "view.order"})
async def view_move(request: Request, project: Project, view_id: int) -> Redirect:
    view, _ = await service.view_in_reach(user_of(request), view_id, project=project)
    step = -1 if (await request.form()).get("direction") == "left" else 1
    await service.move_view(user_of(request), view, project, step)
    return _list(project.id, view.id)


@get("/projects/{project_id:int}/views/{view_id:int}/delete")
async def view_delete_confirm(request: Request, project: Project, view_id: int) -> Template:
    view, _ = await service.view_in_reach(user_of(request), view_id, write=True, project=project)
    return Template("views/delete.html", context={"project": project, "view": view})


@post("/projects/{project_id:int}/views/{view_id:int}/delete", opt={"audit": "view.delete"})
async def view_delete(request: Request, project: Project, view_id: int) -> Redirect:
    view, _ = await service.view_in_reach(user_of(request), view_id, write=True, project=project)
    await service.delete_view(view)
    audit.note(request, f"Deleted view {view.id} ({view.data.get('title', '')}) of project {project.id}",
               project=project.id)
    flash(request, f"Deleted the view “{view.data.get('title', '')}”.", category="success")
    return _list(project.id)


ROUTES = [view_save, view_rename, view_move, view_delete_confirm, view_delete]
