"""Review pages: the queue, a task's annotations side by side with their differences marked,
accept / reject, adjudication (in the labelling workspace, saving the task's ground truth), and
the agreement dashboard. Reviewers and admins of the project only (the `reviewers_only` guard)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit
from app.auth import require_admin, user_of
from app.errors import InputError
from app.labelling import service as labelling
from app.projects import service as projects
from app.review import adjudication, comparison, dashboard as agreement_dashboard, queue, service
from app.review.queue import reviewers_only
from app.web import go, problem

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

    from app.tables import Project, Task

REVIEWERS = [reviewers_only]


@get("/projects/{project_id:int}/review", guards=REVIEWERS)
async def review_queue(request: Request, project: Project) -> Template:
    params = queue.params_of(request.query_params)
    found, count = await queue.tasks(project, params)
    # the project's members: who can have annotated (admins who did are found by their id in the URL)
    people = {m["user"]: m["email"] for m in await projects.list_members(project.id)}
    return Template("review/queue.html", context={"project": project, "tasks": found, "count": count,
                                                  "params": params, "people": people, "page_size": queue.PAGE,
                                                  "cap": queue.COUNT_CAP})


@get("/projects/{project_id:int}/review/{task_id:int}", guards=REVIEWERS)
async def review_task(request: Request, project: Project, task: Task) -> Template:
    return Template("review/task.html", context=await comparison.task_context(project, task, user_of(request)))


@post("/projects/{project_id:int}/review/annotations/{annotation_id:int}", guards=REVIEWERS,
      opt={"audit": "review.decide"})
async def decide(request: Request, project: Project, annotation_id: int) -> Redirect:
    annotation = await service.annotation_in(project, annotation_id)
    if annotation is None:
        raise NotFoundException(f"No annotation {annotation_id} in this project")
    form = await request.form()
    accepted = form.get("decision") == "accept"
    try:
        await service.decide(project, user_of(request), annotation, accepted, str(form.get("comment", "")),
                             seen=str(form.get("seen", "")))
    except InputError as exc:
        audit.refused(request, str(exc))
    else:
        audit.note(request, service.verdict(accepted, annotation))
        flash(request, "Accepted." if accepted else "Rejected: it is back in the annotator's queue.", category="success")
    return Redirect(f"/projects/{project.id}/review/{annotation.task}")


# -- adjudication: the labelling workspace, saving into the task's ground truth -------------------

@get("/projects/{project_id:int}/review/{task_id:int}/adjudicate", guards=REVIEWERS)
async def adjudicate_page(request: Request, project: Project, task: Task) -> Template:
    source = request.query_params.get("from", "draft")
    context = await adjudication.workspace_context(project, task, user_of(request), source)
    return Template("labelling/workspace.html", context=context)


@post("/projects/{project_id:int}/review/{task_id:int}/adjudicate/draft", guards=REVIEWERS, opt={"audit": None})
async def adjudicate_draft(request: Request, project: Project, task: Task) -> Template:
    fields = labelling.form_fields(await request.form())
    try:
        form = await adjudication.save_draft(project, user_of(request), task, fields)
    except InputError as exc:
        return problem(exc.errors)
    return Template("labelling/_body.html", context={"form": form})


@post("/projects/{project_id:int}/review/{task_id:int}/adjudicate/submit", guards=REVIEWERS,
      opt={"audit": "review.adjudicate"})
async def adjudicate_submit(request: Request, project: Project, task: Task) -> Response | Template:
    fields = labelling.form_fields(await request.form())
    try:
        await adjudication.submit(project, user_of(request), task, fields)
    except InputError as exc:
        return problem(exc.errors)
    flash(request, f"Ground truth of task {task.inner_id} saved.", category="success")
    return go(request, f"/projects/{project.id}/review/{task.id}")


def _hold_words(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """The workspace's heartbeat and goodbye are all the hold route knows: anything else is not
    found, before the project is looked up."""
    if connection.path_params["what"] not in ("lock", "release"):
        raise NotFoundException()


@post("/projects/{project_id:int}/review/{task_id:int}/adjudicate/{what:str}", guards=[_hold_words, *REVIEWERS],
      status_code=204, opt={"audit": None})
async def adjudicate_hold(task: Task) -> None:
    """Adjudication holds no task lock: the task only has to be there."""


# -- the dashboard --------------------------------------------------------------------------------

@get("/projects/{project_id:int}/agreement", guards=REVIEWERS)
async def dashboard(project: Project) -> Template:
    return Template("review/dashboard.html", context=await agreement_dashboard.context(project))


@post("/projects/{project_id:int}/agreement/settings", guards=[require_admin, *REVIEWERS],
      opt={"audit": "project.update"})
async def dashboard_settings(request: Request, project: Project) -> Redirect:
    saved, message = await agreement_dashboard.save_settings(project, await request.form())
    if saved:
        flash(request, message, category="success")
    else:
        audit.refused(request, message)
    return Redirect(f"/projects/{project.id}/agreement#settings")


ROUTES = [review_queue, review_task, decide, adjudicate_page, adjudicate_draft, adjudicate_submit, adjudicate_hold,
          dashboard, dashboard_settings]
