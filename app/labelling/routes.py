"""The workspace pages: the queue's entry, one task's workspace, and the htmx requests it sends
(a draft on every change, submit, skip, the lock's heartbeat and release)."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from app import instance, rows
from app.auth import user_of
from app.errors import InputError
from app.labelling import hotkeys, queue, service
from app.ml import suggest
from app.projects.api import project_or_404
from app.tables import Project, Task, User
from components import parse_config


async def task_or_404(user: User, project_id: int, task_id: int) -> tuple[Project, Task]:
    project = await project_or_404(user, project_id)
    task = await rows.one(Task, "id = {} AND project = {}", task_id, project.id)
    if task is None:
        raise NotFoundException(f"No task {task_id} in this project")
    return project, task


def _go(request: Request, url: str) -> Response:
    """A full page load of `url`: htmx follows HX-Redirect, a plain form post follows the 303."""
    if request.htmx:
        return Response(None, status_code=200, headers={"HX-Redirect": url})
    return Redirect(url)


def problem(errors: dict[str, list[str]], status: int = 422) -> Template:
    """An error shown in the workspace's message area, leaving the work on screen as it is."""
    return Template("labelling/_messages.html", context={"errors": [m for v in errors.values() for m in v]},
                    status_code=status, headers={"HX-Retarget": "#lw-messages", "HX-Reswap": "innerHTML"})


@get("/projects/{project_id:int}/label")
async def start_labelling(request: Request, project_id: int) -> Template | Redirect:
    user = user_of(request)
    project = await project_or_404(user, project_id)
    task_id = await queue.next_task(project, user)
    if task_id is not None:
        return Redirect(f"/projects/{project.id}/label/{task_id}")
    return Template("labelling/done.html", context={
        "project": project, "stats": await service.stats(project, user),
        "history": await service.history(project, user, 10)})


@get("/projects/{project_id:int}/label/history")
async def history_page(request: Request, project_id: int) -> Template:
    user = user_of(request)
    project = await project_or_404(user, project_id)
    return Template("labelling/history.html", context={
        "project": project, "history": await service.history(project, user, 500),
        "stats": await service.stats(project, user)})


@get("/projects/{project_id:int}/label/{task_id:int}")
async def workspace(request: Request, project_id: int, task_id: int) -> Template:
    user = user_of(request)
    project, task = await task_or_404(user, project_id, task_id)
    state = await service.start(project, user, task)
    key = secrets.token_urlsafe(16)  # this page: its submit's idempotency key and its lock's name
    if state.annotation is None and not await queue.claim(project, user, task.id, page=key):
        return Template("labelling/taken.html", context={"project": project, "task": task}, status_code=409)
    config = parse_config(project.label_config)
    context: dict[str, Any] = {
        "project": project, "task": task, "state": state, "key": key,
        "form": config.render(task.data, state.results, workspace=True), "keymap": hotkeys.keymap(user), "actions": hotkeys.ACTIONS,
        "previous": await service.previous_task(project, user, state.annotation),
        # from the project's counters: counting what is left for this user would scan every task
        "remaining": max(0, project.task_number - project.finished_task_number),
        "stats": await service.stats(project, user),
        "lock_seconds": instance.current().task_lock.total_seconds(),
        "updating": state.annotation is not None and not state.annotation.was_cancelled,
        # nothing to start from yet: the model is asked now, and the page polls for its answer
        "suggestion": await suggest.on_open(project, task.id, user) if state.source == "new" else None,
    }
    return Template("labelling/workspace.html", context=context)


@get("/projects/{project_id:int}/label/{task_id:int}/suggestion")
async def suggestion(request: Request, project_id: int, task_id: int) -> Template:
    """The workspace's poll for the model's prediction; 286 tells htmx to stop asking."""
    user = user_of(request)
    project, task = await task_or_404(user, project_id, task_id)
    job_id = request.query_params.get("job", "")
    # the job before the prediction: it is marked done only after its prediction is stored, so
    # a prediction that lands between the two reads is never missed
    reason = await suggest.outcome(project, task.id, int(job_id)) if job_id.isascii() and job_id.isdigit() and len(job_id) < 10 else "no request"
    prediction = await service.starting_prediction(project, task.id)
    context: dict[str, Any] = {"prediction": prediction, "error": None}
    if prediction is not None:
        results = [{**item, "origin": "prediction"} for item in prediction.result if isinstance(item, dict)]
        context["form"] = parse_config(project.label_config).render(task.data, results, workspace=True)
        return Template("labelling/_suggestion.html", context=context, status_code=286)
    if reason is not None:
        context["error"] = reason
        return Template("labelling/_suggestion.html", context=context, status_code=286)
    return Template("labelling/_suggestion.html", context=context)


@post("/projects/{project_id:int}/label/{task_id:int}/draft", opt={"audit": None})
async def save_draft(request: Request, project_id: int, task_id: int) -> Template:
    user = user_of(request)
    project, task = await task_or_404(user, project_id, task_id)
    try:
        fields = service.form_fields(await request.form())
        results = await service.save_draft(project, user, task, fields)
    except InputError as exc:
        return problem(exc.errors)
    config = parse_config(project.label_config)
    return Template("labelling/_body.html", context={"form": config.render(task.data, results, workspace=True)})


async def _finish(request: Request, project_id: int, task_id: int, store: Any) -> Response | Template:
    """Submit or skip, then on to the next task; a refusal is shown beside the work, which stays."""
    user = user_of(request)
    project, task = await task_or_404(user, project_id, task_id)
    try:
        await store(project, user, task, service.form_fields(await request.form()))
    except InputError as exc:
        return problem(exc.errors)
    return _go(request, f"/projects/{project.id}/label")


@post("/projects/{project_id:int}/label/{task_id:int}/submit", opt={"audit": None})
async def submit(request: Request, project_id: int, task_id: int) -> Response | Template:
    return await _finish(request, project_id, task_id, service.submit)


@post("/projects/{project_id:int}/label/{task_id:int}/skip", opt={"audit": None})
async def skip(request: Request, project_id: int, task_id: int) -> Response | Template:
    return await _finish(request, project_id, task_id, service.skip)


@post("/projects/{project_id:int}/label/{task_id:int}/lock", status_code=200, opt={"audit": None})
async def renew_lock(request: Request, project_id: int, task_id: int) -> Response:
    """The heartbeat of an open workspace; 409 tells the page its hold was lost."""
    user = user_of(request)
    project, task = await task_or_404(user, project_id, task_id)
    if await queue.renew(task.id, user.id):
        return Response(None, status_code=204)
    form = await request.form()
    if await queue.claim(project, user, task.id, page=str(form.get("key", ""))[:64]):  # expired but still free
        return Response(None, status_code=204)
    return Response({"detail": "Someone else now holds this task."}, status_code=409)


@post("/projects/{project_id:int}/label/{task_id:int}/release", status_code=200, opt={"audit": None})
async def release_lock(request: Request, project_id: int, task_id: int) -> Response:
    """Sent when the annotator leaves the page, so the task goes back to the pool at once."""
    user = user_of(request)
    _, task = await task_or_404(user, project_id, task_id)
    form = await request.form()
    await queue.release(task.id, user.id, str(form.get("key", ""))[:64])
    return Response(None, status_code=204)


ROUTES = [start_labelling, history_page, workspace, suggestion, save_draft, submit, skip, renew_lock, release_lock]
