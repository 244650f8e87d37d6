"""The project's Model settings page (backends, their state, pre-labelling switches, retrieving
predictions, training) and the model quality page."""

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
from app.ml import api, events, quality_report, service
from app.projects import service as projects
from app.projects.api import project_or_404
from app.tables import Job, MLBackend, Prediction, Project
from app.tasks import service as tasks


async def _backend(request: Request, project_id: int, backend_id: int) -> tuple[Project, MLBackend]:
    project = await project_or_404(user_of(request), project_id)
    backend = await service.get_backend(backend_id)
    if backend is None or backend.project != project.id:
        raise NotFoundException(f"No ML backend {backend_id} in this project")
    return project, backend


def _back(project: Project, job: Job | None = None) -> Redirect:
    return Redirect(f"/projects/{project.id}/model" + (f"?job={job.id}#jobs" if job else ""))


async def model_page(request: Request, project: Project, values: dict[str, Any] | None = None,
                     errors: dict[str, list[str]] | None = None) -> Template:
    recent = await Job.objects().where(Job.project == project.id, Job.kind.is_in(["ml_predict", "ml_webhook"])).order_by(
        Job.id, ascending=False).limit(8).output(load_json=True)
    stored = await Prediction.select(Prediction.model_version).where(Prediction.project == project.id).distinct()
    context = {"project": project, "backends": await service.backends_of(project.id), "states": service.STATES,
               "jobs": recent, "versions": sorted({r["model_version"] for r in stored}),
               "values": values or {"timeout": 100, "extra_params": "{}"}, "errors": errors or {}}
    return Template("ml/model.html", context=context, status_code=400 if errors else 200)


@get("/projects/{project_id:int}/model", guards=[require_admin])
async def model_settings(request: Request, project_id: int) -> Template:
    return await model_page(request, await project_or_404(user_of(request), project_id))


@post("/projects/{project_id:int}/model/backends", guards=[require_admin], opt={"audit": "ml.create"})
async def backend_add(request: Request, project_id: int) -> Template | Redirect:
    project = await project_or_404(user_of(request), project_id)
    form = await request.form()
    data = {key: form.get(key, "") for key in ("url", "title", "basic_auth_user", "basic_auth_pass", "timeout",
                                                "extra_params")}
    data["is_interactive"] = "is_interactive" in form
    try:
        backend = await service.create_backend(project, data)
    except InputError as exc:
        return await model_page(request, project, data, exc.errors)
    if backend.state == "CO":
        flash(request, f"Connected to {backend.title} (model version {backend.model_version}).", category="success")
    else:
        flash(request, f"{backend.title} was added but is not usable yet: {backend.error_message}", category="error")
    return _back(project)


@post("/projects/{project_id:int}/model/backends/{backend_id:int}/{action:str}", guards=[require_admin], opt={"audit": "ml.backend"})
async def backend_action(request: Request, project_id: int, backend_id: int, action: str) -> Redirect:
    project, backend = await _backend(request, project_id, backend_id)
    job = None
    if action == "check":
        backend = await service.check_state(backend, project)
        flash(request, f"{backend.title}: {service.STATES[backend.state]}" +
              (f" — {backend.error_message}" if backend.error_message else f", model version {backend.model_version}."),
              category="success" if backend.state == "CO" else "error")
    elif action == "activate":
        await service.activate(backend)
        flash(request, f"{backend.title} is now the project's model.", category="success")
    elif action == "delete":
        await service.delete_backend(backend)
        flash(request, f"{backend.title} was removed; its predictions stay.", category="success")
    elif action == "train":
        job = await events.start_training(project, backend, user_of(request).id)
        flash(request, f"START_TRAINING is on its way to {backend.title}.", category="success")
    else:
        raise NotFoundException(f"No action {action!r}")
    # "ml.backend" alone would not say which: a removal must read as "ml.delete" in the log
    audit.note(request, f"{action.capitalize()}: ML backend “{backend.title}” ({backend.url})", action=f"ml.{action}")
    return _back(project, job)


@post("/projects/{project_id:int}/model/settings", guards=[require_admin], opt={"audit": "project.update"})
async def model_options(request: Request, project_id: int) -> Template | Redirect:
    project = await project_or_404(user_of(request), project_id)
    form = await request.form()
    data = {key: key in form for key in ("show_collab_predictions", "evaluate_predictions_automatically",
                                         "start_training_on_annotation_update")}
    data["model_version"] = form.get("model_version", "")
    try:
        await projects.update_project(project, data)
    except InputError as exc:
        return await model_page(request, project, None, exc.errors)
    flash(request, "Pre-labelling settings saved.", category="success")
    return _back(project)


@post("/projects/{project_id:int}/model/retrieve", guards=[require_admin], opt={"audit": "ml.retrieve"})
async def retrieve(request: Request, project_id: int) -> Redirect:
    """From the Model page (every task without a prediction of the current version) or from the
    task list's selection (its form posts here with the selected ids or "all matching")."""
    from app.tasks.routes import filters_of, list_params

    project = await project_or_404(user_of(request), project_id)
    form = await request.form()
    task_ids = None
    if form.get("scope") == "matching":
        task_ids = await tasks.ids_filtered(project.id, filters_of(list_params(request)))
    elif "ids" in form:
        task_ids = [int(i) for i in form.getall("ids") if re.fullmatch(r"[0-9]{1,10}", i)]
    if task_ids == []:
        audit.refused(request, "No tasks were selected.")
        return Redirect(f"/projects/{project.id}/tasks")
    try:
        job = await api.retrieve(project, user_of(request), task_ids)
    except InputError as exc:
        audit.refused(request, str(exc))
        return _back(project)
    flash(request, "Retrieving predictions" + (f" for {len(task_ids)} task(s)" if task_ids else "") + ".",
          category="success")
    return Redirect(f"/projects/{project.id}/model?job={job['id']}#jobs")


@get("/projects/{project_id:int}/model/quality")
async def quality_page(request: Request, project_id: int) -> Template:
    project = await project_or_404(user_of(request), project_id)
    await quality_report.may_see(user_of(request), project)
    report = await quality_report.report(project)
    return Template("ml/quality.html", context={"project": project, "report": report,
                                                "chart": quality_report.chart(report)})


ROUTES = [model_settings, backend_add, backend_action, model_options, retrieve, quality_page]
