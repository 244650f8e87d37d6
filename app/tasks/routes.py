"""The task list (data manager): filter, sort, page, select and act on many; one task's page."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit
from app.auth import require_admin, user_of
from app.errors import InputError
from app.projects.api import project_or_404
from app.tables import Project, Task
from app.tasks import service
from components import ConfigError, parse_config

PAGE_SIZE = 50


def list_params(request: Request) -> dict[str, Any]:
    q = request.query_params
    annotator = q.get("annotator", "")
    sort = q.get("sort", "id")
    return {"status": q.get("status", "") if q.get("status", "") in service.STATUSES else "",
            "annotator": int(annotator) if re.fullmatch(r"[0-9]{1,9}", annotator) else None,
            "predictions": q.get("predictions", ""), "search": q.get("q", "").strip()[:200],
            "sort": sort if sort.lstrip("-") in service.SORTS else "id"}


def filters_of(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in ("status", "annotator", "predictions", "search")}


async def task_page(project: Project, params: dict[str, Any], page: int, sees_all: bool) -> dict[str, Any]:
    filters = filters_of(params)
    column = service.SORTS[params["sort"].lstrip("-")]
    ascending = not params["sort"].startswith("-")
    # a deferred join: the page's ids come from an index alone, then only those rows are read,
    # so page 20,000 costs an index walk, not a million rows
    ids = Task.select(Task.id).where(*service.conditions(project.id, **filters)).order_by(
        column, ascending=ascending).order_by(Task.id, ascending=ascending).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    rows = await Task.objects().where(Task.id.is_in(ids)).order_by(column, ascending=ascending).order_by(
        Task.id, ascending=ascending).output(load_json=True)
    # the unfiltered count is a counter; a filtered one is counted (indexed, but for a text search)
    count = project.task_number if not any(filters.values()) else await service.count_filtered(project.id, filters)
    ids = [t.id for t in rows]
    annotators = await service.annotators_by_task(ids)
    if not sees_all:  # annotators work blind: they see only themselves in the column
        annotators = {t: [e for e in emails if e == params["me"]] for t, emails in annotators.items()}
    return {"rows": rows, "count": count, "page": page, "pages": max(1, -(-count // PAGE_SIZE)),
            "annotators": annotators, "reviewed": await service.reviewed_ids(ids)}


def status_of(task: Task, reviewed: set[int]) -> str:
    if task.id in reviewed:
        return "reviewed"
    if task.is_labeled:
        return "done"
    return "in progress" if task.total_annotations + task.cancelled_annotations else "new"


@get("/projects/{project_id:int}/tasks")
async def task_list(request: Request, project_id: int) -> Template:
    project = await project_or_404(user_of(request), project_id)
    params = list_params(request)
    sees_all = await service.sees_all_annotations(user_of(request), project)
    params["me"] = user_of(request).email
    if not sees_all and params["annotator"] not in (None, user_of(request).id):
        params["annotator"] = user_of(request).id  # nobody else's work to filter by
    page = request.query_params.get("page", "1")
    page = int(page) if re.fullmatch(r"[0-9]{1,6}", page) and int(page) > 0 else 1
    try:
        keys = parse_config(project.label_config).required_keys()
    except ConfigError:
        keys = []
    context = {"project": project, "params": params, "keys": keys, "statuses": service.STATUSES,
               "status_of": status_of, "sees_all": sees_all, **await task_page(project, params, page, sees_all)}
    name = "tasks/_table.html" if request.htmx and request.htmx.target == "task-table" else "tasks/list.html"
    return Template(name, context=context)


@post("/projects/{project_id:int}/tasks/actions", guards=[require_admin], opt={"audit": "tasks.action"})
async def task_action(request: Request, project_id: int) -> Redirect:
    project = await project_or_404(user_of(request), project_id)
    form = await request.form()
    action = service.ACTIONS.get(form.get("action", ""))
    if action is None:
        raise InputError({"action": ["Choose what to do with the selected tasks."]})
    if form.get("scope") == "matching":
        ids = await service.ids_filtered(project.id, filters_of(list_params(request)))
    else:
        ids = [int(i) for i in form.getall("ids") if re.fullmatch(r"[0-9]{1,10}", i)]
    if not ids:
        audit.refused(request, "No tasks were selected.")
    else:
        done = await action(project.id, ids)
        what = {"delete_tasks": "tasks", "delete_tasks_annotations": "annotations",
                "delete_tasks_predictions": "predictions"}[form.get("action")]
        summary = f"Deleted {done} {what} of {len(ids)} selected task(s)"
        audit.note(request, summary, action=f"{what}.delete", tasks=ids[:1000])
        flash(request, summary + ".", category="success")
    return Redirect(f"/projects/{project.id}/tasks?{request.url.query}" if request.url.query else f"/projects/{project.id}/tasks")


@get("/projects/{project_id:int}/tasks/{task_id:int}")
async def task_view(request: Request, project_id: int, task_id: int) -> Template:
    found = await service.task_in_reach(user_of(request), task_id)
    if found is None or found[1].id != project_id:
        raise NotFoundException(f"No task {task_id} in this project")
    task, project = found
    config = parse_config(project.label_config)
    annotations = await service.annotations_of(user_of(request), project, [task.id])
    predictions = await service.predictions_of([task.id])
    context = {"project": project, "task": task,
               "annotations": [(a, config.render(task.data, a.result, readonly=True)) for a in annotations],
               "predictions": [(p, config.render(task.data, p.result, readonly=True)) for p in predictions],
               "plain": config.render(task.data, readonly=True), "history": None, "reviewer": False}
    if await service.sees_all_annotations(user_of(request), project):
        from app.review import queue as review_queue
        from app.review import service as review

        context.update(history=await review.history(task.id), reviewer=await review_queue.may_review(user_of(request), project))
    return Template("tasks/task.html", context=context)


ROUTES = [task_list, task_action, task_view]
