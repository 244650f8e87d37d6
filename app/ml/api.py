"""Label Studio's ML API: /api/ml[/{id}], /api/ml/{id}/train and /versions, and the data manager
action that retrieves predictions (/api/dm/actions?id=retrieve_tasks_predictions). Admins only:
a backend's settings hold credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import NotFoundException, SerializationException

from app import audit, jobs
from app.auth import require_admin, user_of
from app.errors import InputError
from app.ml import events, quality_report, service
from app.projects.api import both, project_or_404
from app.tables import Prediction, Task

if TYPE_CHECKING:
    from app.tables import MLBackend, Project, User

ACTIONS = [{"id": "retrieve_tasks_predictions", "title": "Retrieve Predictions", "order": 90,
            "dialog": {"text": "Send the selected tasks to the project's active ML backend and store its predictions."}}]


def _id(value: Any, name: str) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():  # not "³": a digit int() refuses
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise InputError({name: ["Give the id, a whole number."]})
    return value


async def backend_or_404(user: User, backend_id: int) -> tuple[MLBackend, Project]:
    backend = await service.get_backend(backend_id)
    if backend is None:
        raise NotFoundException(f"No ML backend with id {backend_id}")
    return backend, await project_or_404(user, backend.project)


@get(both("/api/ml"), guards=[require_admin])
async def ml_list(request: Request) -> list[dict[str, Any]]:
    project = await project_or_404(user_of(request), _id(request.query_params.get("project"), "project"))
    return [service.backend_json(b) for b in await service.backends_of(project.id)]


@post(both("/api/ml"), guards=[require_admin], opt={"audit": "ml.create"})
async def ml_create(request: Request, data: dict[str, Any]) -> Response:
    """Adds the backend, then checks it (/health, /setup): the answer carries its state."""
    project = await project_or_404(user_of(request), _id(data.get("project"), "project"))
    return Response(service.backend_json(await service.create_backend(project, data)), status_code=201)


@get(both("/api/ml/{backend_id:int}"), guards=[require_admin])
async def ml_detail(request: Request, backend_id: int) -> dict[str, Any]:
    backend, project = await backend_or_404(user_of(request), backend_id)
    if request.query_params.get("check") in ("1", "true"):
        backend = await service.check_state(backend, project)
    return service.backend_json(backend)


@patch(both("/api/ml/{backend_id:int}"), guards=[require_admin], opt={"audit": "ml.update"})
async def ml_update(request: Request, backend_id: int, data: dict[str, Any]) -> dict[str, Any]:
    backend, project = await backend_or_404(user_of(request), backend_id)
    return service.backend_json(await service.update_backend(backend, project, data))


@delete(both("/api/ml/{backend_id:int}"), guards=[require_admin], opt={"audit": "ml.delete"})
async def ml_delete(request: Request, backend_id: int) -> None:
    backend, _ = await backend_or_404(user_of(request), backend_id)
    await service.delete_backend(backend)
    audit.note(request, f"Removed ML backend “{backend.title}” ({backend.url})", project=backend.project)


@post(both("/api/ml/{backend_id:int}/train"), guards=[require_admin], status_code=200, opt={"audit": "ml.train"})
async def ml_train(request: Request, backend_id: int) -> dict[str, Any]:
    """Label Studio's "Start Training": START_TRAINING to the backend's /webhook, sent by a job."""
    backend, project = await backend_or_404(user_of(request), backend_id)
    return {"job": jobs.job_json(await events.start_training(project, backend, user_of(request).id))}


@get(both("/api/ml/{backend_id:int}/versions"), guards=[require_admin])
async def ml_versions(request: Request, backend_id: int) -> dict[str, Any]:
    """The versions this project has predictions of, and the backend's current one."""
    backend, project = await backend_or_404(user_of(request), backend_id)
    stored = await Prediction.select(Prediction.model_version).where(Prediction.project == project.id).distinct()
    versions = sorted({r["model_version"] for r in stored} | ({backend.model_version} - {""}))
    return {"versions": versions, "current": backend.model_version}


async def retrieve(project: Project, user: User, task_ids: list[int] | None) -> dict[str, Any]:
    """Queue a job fetching predictions for these tasks (None: every task without one of the
    current model version)."""
    backend = await service.active_backend(project.id)
    if backend is None:
        raise InputError({"ml_backend": ["This project has no ML backend: add one under Settings → Model."]})
    job = await jobs.enqueue("ml_predict", project_id=project.id, user_id=user.id,
                             params={"backend": backend.id, "tasks": task_ids})
    return jobs.job_json(job)


@get(both("/api/dm/actions"), guards=[require_admin])
async def dm_actions(request: Request) -> list[dict[str, Any]]:
    await project_or_404(user_of(request), _id(request.query_params.get("project"), "project"))
    return ACTIONS


@post(both("/api/dm/actions"), guards=[require_admin], status_code=200, opt={"audit": "ml.retrieve"})
async def dm_action(request: Request) -> dict[str, Any]:
    """Label Studio's data manager action. The body is {"selectedItems": {"all": false,
    "included": [ids]}} or {"all": true, "excluded": [ids]}; no body means every task."""
    project = await project_or_404(user_of(request), _id(request.query_params.get("project"), "project"))
    if request.query_params.get("id") != "retrieve_tasks_predictions":
        raise InputError({"id": [f"Unknown action; this server has: {', '.join(a['id'] for a in ACTIONS)}."]})
    body = await request.body()
    try:
        data = await request.json() if body.strip() else {}
    except SerializationException:  # not JSON, or not UTF-8
        raise InputError({"selectedItems": ["The body is not JSON."]}) from None
    selected = (data or {}).get("selectedItems", {"all": True, "excluded": []}) if isinstance(data, dict) else None
    if not isinstance(selected, dict):
        raise InputError({"selectedItems": ["Give {\"all\": true, \"excluded\": [...]} or {\"all\": false, \"included\": [...]}."]})
    for key in ("included", "excluded"):
        if not isinstance(selected.get(key) or [], list):
            raise InputError({f"selectedItems.{key}": ["Give a list of task ids."]})
    if selected.get("all"):
        excluded = {_id(i, "selectedItems.excluded") for i in selected.get("excluded") or []}
        task_ids = None if not excluded else [
            r["id"] for r in await Task.select(Task.id).where(Task.project == project.id) if r["id"] not in excluded]
    else:
        task_ids = sorted({_id(i, "selectedItems.included") for i in selected.get("included") or []})
        if not task_ids:
            raise InputError({"selectedItems": ["No tasks were selected."]})
    job = await retrieve(project, user_of(request), task_ids)
    audit.note(request, "Asked the model for predictions of " + ("every task" if task_ids is None else
                                                               f"{len(task_ids)} task(s)"), project=project.id)
    return {"processed_items": project.task_number if task_ids is None else len(task_ids), "detail": "queued",
            "job": job}


@get(both("/api/projects/{project_id:int}/model-quality"))
async def model_quality(request: Request, project_id: int) -> dict[str, Any]:
    """Per model version: predictions accepted unchanged, and precision / recall / F1 per label."""
    project = await project_or_404(user_of(request), project_id)
    await quality_report.may_see(user_of(request), project)
    return await quality_report.report(project)


ROUTES = [ml_list, ml_create, ml_detail, ml_update, ml_delete, ml_train, ml_versions, dm_actions, dm_action,
          model_quality]
