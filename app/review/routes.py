"""Review pages: the queue, a task's annotations side by side with their differences marked,
accept / reject, adjudication (in the labelling workspace, saving the task's ground truth), and
the agreement dashboard. Reviewers and admins of the project only."""

from __future__ import annotations

import math
import re
import secrets
from urllib.parse import quote
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit, instance, rows
from app.agreement import charts, report
from app.auth import require_admin, user_of
from app.errors import InputError
from app.labelling import hotkeys, service as labelling
from app.labelling.routes import problem as workspace_problem
from app.projects import service as projects
from app.projects.api import project_or_404
from app.review import queue, service
from app.tables import Annotation, AnnotationDraft, Project, Task
from components import parse_config

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def reviewable(request: Request, project_id: int) -> Project:
    project = await project_or_404(user_of(request), project_id)
    if not await queue.may_review(user_of(request), project):
        raise PermissionDeniedException("Only the project's reviewers and admins review")
    return project


async def task_of(project: Project, task_id: int) -> Task:
    task = await rows.one(Task, "id = {} AND project = {}", task_id, project.id)
    if task is None:
        raise NotFoundException(f"No task {task_id} in this project")
    return task


@get("/projects/{project_id:int}/review")
async def review_queue(request: Request, project_id: int) -> Template:
    project = await reviewable(request, project_id)
    params = queue.params_of(request)
    found, count = await queue.tasks(project, params)
    # the project's members: who can have annotated (admins who did are found by their id in the URL)
    people = {m["user"]: m["email"] for m in await projects.list_members(project.id)}
    return Template("review/queue.html", context={"project": project, "tasks": found, "count": count,
                                                  "params": params, "people": people, "page_size": queue.PAGE,
                                                  "cap": queue.COUNT_CAP})


def describe(region: dict, data: dict) -> str:
    value = region.get("value") or {}
    labels = [v for key, v in value.items() if key.endswith("labels") or key in ("choices", "taxonomy")]
    shown = ", ".join(" / ".join(map(str, x)) if isinstance(x, list) else str(x) for group in labels for x in group)
    if "start" in value and isinstance(value.get("text"), str):
        return f"{shown}: “{value['text']}” ({value['start']}–{value['end']})"
    if "x" in value:
        return f"{shown}: box at {value.get('x', 0):.0f}%, {value.get('y', 0):.0f}%"
    if "text" in value:
        return f"{region.get('from_name')}: “{' '.join(map(str, value['text']))}”"
    return f"{region.get('from_name')}: {shown or value}"


@get("/projects/{project_id:int}/review/{task_id:int}")
async def review_task(request: Request, project_id: int, task_id: int) -> Template:
    project = await reviewable(request, project_id)
    task = await task_of(project, task_id)
    config = parse_config(project.label_config)
    annotations = await service.annotations_of(task.id)
    people = await service.users({a.completed_by for a in annotations})
    opinions = [a for a in annotations if a.review_state != "adjudicated"]
    columns = []
    for a in annotations:
        others = [o.result for o in opinions if o.id != a.id]
        unique = service.unique_regions(a.result or [], others) if a.review_state != "adjudicated" else []
        columns.append({"annotation": a, "author": people.get(a.completed_by), "form": config.render(task.data, a.result, readonly=True),
                        "unique": [(r, describe(r, task.data)) for r in unique],
                        "marks": [str(r.get("id")) for r in unique if SAFE_ID.fullmatch(str(r.get("id", "")))]})
    context = {"project": project, "task": task, "columns": columns, "history": await service.history(task.id),
               "draft": await labelling.draft_of(task.id, user_of(request).id, ADJUDICATION) is not None,
               "agreed": len(service.agreed_regions([a.result or [] for a in opinions])) if len(opinions) > 1 else None}
    return Template("review/task.html", context=context)


@post("/projects/{project_id:int}/review/annotations/{annotation_id:int}", opt={"audit": "review.decide"})
async def decide(request: Request, project_id: int, annotation_id: int) -> Redirect:
    project = await reviewable(request, project_id)
    annotation = await rows.one(Annotation, "id = {} AND project = {}", annotation_id, project.id)
    if annotation is None:
        raise NotFoundException(f"No annotation {annotation_id} in this project")
    form = await request.form()
    try:
        if str(form.get("seen", "")) != annotation.updated_at.isoformat():
            raise InputError({"annotation": ["The annotator changed this annotation since you opened the page: "
                                             "look at it again."]})
        await service.decide(project, user_of(request), annotation, form.get("decision") == "accept",
                             str(form.get("comment", "")))
    except InputError as exc:
        audit.refused(request, str(exc))
    else:
        audit.note(request, ("Accepted" if form.get("decision") == "accept" else "Rejected") +
                   f" annotation {annotation.id} of task {annotation.task}")
        flash(request, "Accepted." if form.get("decision") == "accept" else "Rejected: it is back in the annotator's queue.",
              category="success")
    return Redirect(f"/projects/{project.id}/review/{annotation.task}")


# -- adjudication: the labelling workspace, saving into the task's ground truth -------------------

async def _adjudication_start(project: Project, task: Task, source: str) -> list[dict[str, Any]]:
    annotations = await service.annotations_of(task.id)
    opinions = [a for a in annotations if a.review_state != "adjudicated"]
    if source == "agreed":
        return service.agreed_regions([a.result or [] for a in opinions])
    if source == "truth":
        return next((a.result for a in annotations if a.review_state == "adjudicated"), [])
    chosen = next((a for a in opinions if str(a.id) == source), None)
    if chosen is None:
        raise NotFoundException("Start from one of this task's annotations, or from the agreed regions")
    return chosen.result or []


ADJUDICATION = "adjudication"  # the draft slot of a reviewer's ground truth in the making


@get("/projects/{project_id:int}/review/{task_id:int}/adjudicate")
async def adjudicate_page(request: Request, project_id: int, task_id: int) -> Template:
    project = await reviewable(request, project_id)
    task = await task_of(project, task_id)
    user = user_of(request)
    source = request.query_params.get("from", "draft")
    draft = await labelling.draft_of(task.id, user.id, ADJUDICATION)
    if source == "draft" and draft is None:
        source = "agreed"
    # a new start does not delete the draft (a GET changes nothing): its first change saves over it
    results = draft.result if source == "draft" else await _adjudication_start(project, task, source)
    state = labelling.Start(results, "adjudication", None, None, 0.0, draft.revision if source == "draft" else 0)
    base = f"/projects/{project.id}/review/{task.id}/adjudicate"
    context: dict[str, Any] = {
        "project": project, "task": task, "state": state, "key": secrets.token_urlsafe(16),
        "form": parse_config(project.label_config).render(task.data, results, workspace=True),
        "keymap": hotkeys.keymap(user), "actions": hotkeys.ACTIONS, "previous": None, "remaining": 0,
        "stats": {"annotated": 0, "skipped": 0}, "lock_seconds": instance.current().task_lock.total_seconds(), "updating": False,
        "suggestion": None, "adjudicating": True, "base": base, "source": source}
    return Template("labelling/workspace.html", context=context)


@post("/projects/{project_id:int}/review/{task_id:int}/adjudicate/draft", opt={"audit": None})
async def adjudicate_draft(request: Request, project_id: int, task_id: int) -> Template:
    project = await reviewable(request, project_id)
    task = await task_of(project, task_id)
    fields = labelling.form_fields(await request.form())
    try:
        results = await labelling.save_draft(project, user_of(request), task, fields, purpose=ADJUDICATION)
    except InputError as exc:
        return workspace_problem(exc.errors)
    return Template("labelling/_body.html", context={
        "form": parse_config(project.label_config).render(task.data, results, workspace=True)})


@post("/projects/{project_id:int}/review/{task_id:int}/adjudicate/submit", opt={"audit": "review.adjudicate"})
async def adjudicate_submit(request: Request, project_id: int, task_id: int) -> Response | Template:
    project = await reviewable(request, project_id)
    task = await task_of(project, task_id)
    user = user_of(request)
    fields = labelling.form_fields(await request.form())
    try:
        results = labelling.collect(project, task, fields, required=True, final=True)
    except InputError as exc:
        return workspace_problem(exc.errors)
    # the page's key as the ground truth's unique_id: a late draft save from this page is then ignored
    await service.adjudicate(project, user, task, results, (fields.get("from") or [""])[0][:32],
                             key=(fields.get("key") or [""])[0][:64])
    await AnnotationDraft.delete().where(AnnotationDraft.task == task.id, AnnotationDraft.user == user.id,
                                         AnnotationDraft.purpose == ADJUDICATION)
    flash(request, f"Ground truth of task {task.inner_id} saved.", category="success")
    url = f"/projects/{project.id}/review/{task.id}"
    return Response(None, status_code=200, headers={"HX-Redirect": url}) if request.htmx else Redirect(url)


@post("/projects/{project_id:int}/review/{task_id:int}/adjudicate/{what:str}", status_code=204, opt={"audit": None})
async def adjudicate_hold(request: Request, project_id: int, task_id: int, what: str) -> None:
    """The workspace's heartbeat and goodbye: adjudication holds no task lock."""
    if what not in ("lock", "release"):
        raise NotFoundException()
    await task_of(await reviewable(request, project_id), task_id)


# -- the dashboard --------------------------------------------------------------------------------

@get("/projects/{project_id:int}/agreement")
async def dashboard(request: Request, project_id: int) -> Template:
    project = await reviewable(request, project_id)
    data = await report.cached(project)
    base = f"/projects/{project.id}/review?status=all"
    people = data["people"]
    names = [p["email"] for p in people]
    matrix = [[data["annotators"].get(str(a["id"]), {}).get(str(b["id"])) for b in people] for a in people]
    pictures = {
        "heatmap": charts.heatmap(names, matrix, lambda i, j: f"{base}&annotator={people[i]['id']}&with={people[j]['id']}"),
        "labels": charts.bars([(label, score, f"{base}&label={quote(label)}") for label, score in data["labels"].items()],
                              testid="agreement-labels"),
        "histogram": charts.histogram(data["histogram"], data["edges"],
                                      lambda i: f"{base}&min={data['edges'][i]}&max={data['edges'][i + 1]}"),
        "trend": charts.trend(data["trend"]),
    }
    try:
        controls = [c.name for c in parse_config(project.label_config).controls]
    except Exception:  # noqa: BLE001 - a config saved before a stricter check: no weights to show
        controls = []
    return Template("review/dashboard.html", context={"project": project, "data": data, "charts": pictures,
                                                      "base": base, "controls": controls})


@post("/projects/{project_id:int}/agreement/settings", guards=[require_admin], opt={"audit": "project.update"})
async def dashboard_settings(request: Request, project_id: int) -> Redirect:
    project = await reviewable(request, project_id)
    form = await request.form()
    weights = dict(project.control_weights or {})
    for key in form.keys():
        if key.startswith("weight:"):
            try:
                value = float(form.get(key))
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value < 0:
                audit.refused(request, f"The weight of {key.removeprefix('weight:')} must be a number, 0 or more.")
                return Redirect(f"/projects/{project.id}/agreement#settings")
            weights[key.removeprefix("weight:")] = value
    checks = str(form.get("ground_truth_checks", "0")).strip()
    changes: dict[str, Any] = {"annotators_see_others": "annotators_see_others" in form,
                               "ground_truth_checks": int(checks) if checks.isascii() and checks.isdigit() else checks}
    if weights != (project.control_weights or {}):  # a full rescoring only when the weights moved
        changes["control_weights"] = weights
    try:
        await projects.update_project(project, changes)
    except InputError as exc:
        audit.refused(request, str(exc))
    else:
        rescoring = " Scores are being recomputed with the new weights." if "control_weights" in changes else ""
        flash(request, "Saved." + rescoring, category="success")
    return Redirect(f"/projects/{project.id}/agreement#settings")


ROUTES = [review_queue, review_task, decide, adjudicate_page, adjudicate_draft, adjudicate_submit, adjudicate_hold,
          dashboard, dashboard_settings]
