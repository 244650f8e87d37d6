"""The task list (data manager): filter, sort, page, select and act on many; one task's page."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request, get, post
from litestar.plugins.flash import flash
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Template

from app import audit, web
from app.auth import require_admin, user_of
from app.tasks import browse, service
from app.uploads.ranges import stored_file

if TYPE_CHECKING:
    from app.tables import Project, Task


@get("/projects/{project_id:int}/tasks")
async def task_list(request: Request, project: Project) -> Template:
    context = await browse.task_list(user_of(request), project, request.query_params)
    name = "tasks/_table.html" if request.htmx and request.htmx.target == "task-table" else "tasks/list.html"
    return Template(name, context=context)


@post("/projects/{project_id:int}/tasks/actions", guards=[require_admin], opt={"audit": "tasks.action"})
async def task_action(request: Request, project: Project) -> Redirect:
    form = await request.form()
    action, what = service.action_named(form.get("action", ""))
    if form.get("scope") == "matching":
        ids = await browse.matching_ids(user_of(request), project, request.query_params)
    else:
        ids = [i for i in map(web.id_or_none, form.getall("ids")) if i is not None]
    if not ids:
        audit.refused(request, "No tasks were selected.")
    else:
        summary = f"Deleted {await action(project.id, ids)} {what} of {len(ids)} selected task(s)"
        audit.note(request, summary, action=f"{what}.delete", tasks=ids[:1000])
        flash(request, summary + ".", category="success")
    query = f"?{request.url.query}" if request.url.query else ""
    return Redirect(f"/projects/{project.id}/tasks{query}")


@get("/projects/{project_id:int}/tasks/{task_id:int}")
async def task_view(request: Request, project: Project, task: Task) -> Template:
    return Template("tasks/task.html", context=await browse.task_detail(user_of(request), project, task))


@get("/projects/{project_id:int}/tasks/{task_id:int}/thumbnail")
async def task_thumbnail(request: Request, project: Project, task: Task) -> Response:
    """The task list's small picture of the task's `?key=` picture (404 until the worker made it)."""
    found = await browse.thumbnail_file(project, task, request.query_params.get("key", ""))
    if found is None:
        raise NotFoundException("No thumbnail of this picture (being made, or it cannot be read)")
    return await stored_file(found[0], None, None, "image/jpeg", True, {"Cache-Control": "private, max-age=86400"},
                             version=found[1])


@get("/projects/{project_id:int}/tasks/thumbnails")
async def thumbnails_again(request: Request, project: Project) -> Template:
    """The list's poll while thumbnails are being made: the ready ones swapped in, out of band."""
    return Template("tasks/_thumbs_again.html", context=await browse.thumbnails_again(project, request.query_params))


ROUTES = [task_list, task_action, task_view, task_thumbnail, thumbnails_again]
