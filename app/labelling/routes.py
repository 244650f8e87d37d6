"""The workspace pages: the queue's entry, one task's workspace, and the htmx requests it sends
(a draft on every change, submit, skip, the lock's heartbeat and release)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from app import web
from app.auth import user_of
from app.errors import InputError
from app.labelling import queue, service, workspace

if TYPE_CHECKING:
    from app.tables import Project, Task


@get("/projects/{project_id:int}/label")
async def start_labelling(request: Request, project: Project) -> Template | Redirect:
    user = user_of(request)
    task_id = await queue.next_task(project, user)
    if task_id is not None:
        return Redirect(f"/projects/{project.id}/label/{task_id}")
    return Template("labelling/done.html", context={
        "project": project, "stats": await service.stats(project, user),
        "history": await service.history(project, user, 10)})


@get("/projects/{project_id:int}/label/history")
async def history_page(request: Request, project: Project) -> Template:
    user = user_of(request)
    return Template("labelling/history.html", context={
        "project": project, "history": await service.history(project, user, 500),
        "stats": await service.stats(project, user)})


@get("/projects/{project_id:int}/label/{task_id:int}")
async def workspace_page(request: Request, project: Project, task: Task) -> Template:
    key = secrets.token_urlsafe(16)  # this page: its submit's idempotency key and its lock's name
    context = await workspace.page(project, user_of(request), task, key)
    if context is None:
        return Template("labelling/taken.html", context={"project": project, "task": task}, status_code=409)
    return Template("labelling/workspace.html", context=context)


@get("/projects/{project_id:int}/label/{task_id:int}/suggestion")
async def suggestion(request: Request, project: Project, task: Task) -> Template:
    """The workspace's poll for the model's prediction; 286 tells htmx to stop asking."""
    job_id = web.id_or_none(request.query_params.get("job", ""))
    context, done = await workspace.suggestion(project, task, job_id)
    return Template("labelling/_suggestion.html", context=context, status_code=286 if done else 200)


@get("/projects/{project_id:int}/label/{task_id:int}/preload")
async def preload(request: Request, project: Project, task: Task) -> Template:
    """Links that have the browser fetch the likely next task's pictures while this one is worked on."""
    urls = await workspace.preload(project, user_of(request), task)
    return Template("labelling/_preload.html", context={"urls": urls})


@post("/projects/{project_id:int}/label/{task_id:int}/draft", opt={"audit": None})
async def save_draft(request: Request, project: Project, task: Task) -> Template:
    try:
        fields = service.form_fields(await request.form())
        results = await service.save_draft(project, user_of(request), task, fields)
    except InputError as exc:
        return web.problem(exc.errors)
    return Template("labelling/_body.html", context={"form": await workspace.form(project, task, results)})


async def _finish(request: Request, project: Project, task: Task, store: Any) -> Response | Template:
    """Submit or skip, then on to the next task; a refusal is shown beside the work, which stays."""
    try:
        await store(project, user_of(request), task, service.form_fields(await request.form()))
    except InputError as exc:
        return web.problem(exc.errors)
    return web.go(request, f"/projects/{project.id}/label")


@post("/projects/{project_id:int}/label/{task_id:int}/submit", opt={"audit": None})
async def submit(request: Request, project: Project, task: Task) -> Response | Template:
    return await _finish(request, project, task, service.submit)


@post("/projects/{project_id:int}/label/{task_id:int}/skip", opt={"audit": None})
async def skip(request: Request, project: Project, task: Task) -> Response | Template:
    return await _finish(request, project, task, service.skip)


@post("/projects/{project_id:int}/label/{task_id:int}/lock", status_code=200, opt={"audit": None})
async def renew_lock(request: Request, project: Project, task: Task) -> Response:
    """The heartbeat of an open workspace; 409 tells the page its hold was lost."""
    user = user_of(request)
    if await queue.renew(task.id, user.id):
        return Response(None, status_code=204)
    form = await request.form()
    if await queue.claim(project, user, task.id, page=str(form.get("key", ""))[:64]):  # expired but still free
        return Response(None, status_code=204)
    return Response({"detail": "Someone else now holds this task."}, status_code=409)


@post("/projects/{project_id:int}/label/{task_id:int}/release", status_code=200, opt={"audit": None})
async def release_lock(request: Request, task: Task) -> Response:
    """Sent when the annotator leaves the page, so the task goes back to the pool at once."""
    form = await request.form()
    await queue.release(task.id, user_of(request).id, str(form.get("key", ""))[:64])
    return Response(None, status_code=204)



ROUTES = [start_labelling, history_page, workspace_page, suggestion, preload, save_draft, submit, skip, renew_lock,
          release_lock]
