"""The project's Model settings page (backends, their state, pre-labelling switches, retrieving
predictions, training) and the model quality page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit
from app.auth import require_admin, user_of
from app.errors import InputError
from app.ml import model_page, retrieval, service
from app.projects import service as projects

if TYPE_CHECKING:
    from app.tables import MLBackend, Project

BACKEND_FIELDS = ("url", "title", "basic_auth_user", "basic_auth_pass", "timeout", "extra_params")
SWITCHES = ("show_collab_predictions", "evaluate_predictions_automatically", "start_training_on_annotation_update")


async def _backend(project: Project, backend_id: int) -> MLBackend:
    backend = await service.get_backend(backend_id)
    if backend is None or backend.project != project.id:
        raise NotFoundException(f"No ML backend {backend_id} in this project")
    return backend


def _back(project: Project, job_id: int | None = None) -> Redirect:
    return Redirect(f"/projects/{project.id}/model" + (f"?job={job_id}#jobs" if job_id else ""))


async def _page(project: Project, values: dict[str, Any] | None = None,
                errors: dict[str, list[str]] | None = None) -> Template:
    context = {**await model_page.settings_context(project), "errors": errors or {},
               "values": values or {"timeout": 100, "extra_params": "{}"}}
    return Template("ml/model.html", context=context, status_code=400 if errors else 200)


@get("/projects/{project_id:int}/model", guards=[require_admin])
async def model_settings(project: Project) -> Template:
    return await _page(project)


@post("/projects/{project_id:int}/model/backends", guards=[require_admin], opt={"audit": "ml.create"})
async def backend_add(request: Request, project: Project) -> Template | Redirect:
    form = await request.form()
    data = {key: form.get(key, "") for key in BACKEND_FIELDS}
    data["is_interactive"] = "is_interactive" in form
    try:
        backend = await service.create_backend(project, data)
    except InputError as exc:
        return await _page(project, data, exc.errors)
    outcome = model_page.added(backend)
    flash(request, outcome.message, category="success" if outcome.ok else "error")
    return _back(project)


@post("/projects/{project_id:int}/model/backends/{backend_id:int}/{action:str}", guards=[require_admin], opt={"audit": "ml.backend"})
async def backend_action(request: Request, project: Project, backend_id: int, action: str) -> Redirect:
    backend = await _backend(project, backend_id)
    if action not in model_page.BACKEND_ACTIONS:
        raise NotFoundException(f"No action {action!r}")
    outcome = await model_page.backend_action(project, backend, action, user_of(request).id)
    flash(request, outcome.message, category="success" if outcome.ok else "error")
    # "ml.backend" alone would not say which: a removal must read as "ml.delete" in the log
    audit.note(request, f"{action.capitalize()}: ML backend “{backend.title}” ({backend.url})", action=f"ml.{action}")
    return _back(project, outcome.job.id if outcome.job else None)


@post("/projects/{project_id:int}/model/settings", guards=[require_admin], opt={"audit": "project.update"})
async def model_options(request: Request, project: Project) -> Template | Redirect:
    form = await request.form()
    data: dict[str, Any] = {key: key in form for key in SWITCHES}
    data["model_version"] = form.get("model_version", "")
    try:
        await projects.update_project(project, data)
    except InputError as exc:
        return await _page(project, None, exc.errors)
    flash(request, "Pre-labelling settings saved.", category="success")
    return _back(project)


@post("/projects/{project_id:int}/model/retrieve", guards=[require_admin], opt={"audit": "ml.retrieve"})
async def retrieve(request: Request, project: Project) -> Redirect:
    """From the Model page (every task without a prediction of the current version) or from the
    task list's selection (its form posts here with the selected ids or "all matching")."""
    task_ids = await retrieval.form_tasks(project, await request.form(), request.query_params)
    if task_ids == []:
        audit.refused(request, "No tasks were selected.")
        return Redirect(f"/projects/{project.id}/tasks")
    try:
        job = await retrieval.retrieve(project, user_of(request), task_ids)
    except InputError as exc:
        audit.refused(request, str(exc))
        return _back(project)
    flash(request, "Retrieving predictions" + (f" for {len(task_ids)} task(s)" if task_ids else "") + ".",
          category="success")
    return _back(project, job["id"])


@get("/projects/{project_id:int}/model/quality")
async def quality_page(request: Request, project: Project) -> Template:
    return Template("ml/quality.html", context=await model_page.quality_context(user_of(request), project))


ROUTES = [model_settings, backend_add, backend_action, model_options, retrieve, quality_page]
