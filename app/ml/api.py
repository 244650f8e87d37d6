"""Label Studio's ML API: /api/ml[/{id}], /api/ml/{id}/train, /interactive-annotating and /versions (admins only: a backend's
settings hold credentials), and a project's model versions (its members). The data manager's
actions, retrieving predictions among them, are app/tasks/api.py's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import HTTPException

from app import access, audit, idempotency, jobs
from app.auth import require_admin, user_of
from app.errors import InputError
from app.ml import events, interactive, model_page, predictions, service
from app.web import both, flag, parse_id

if TYPE_CHECKING:
    from app.tables import MLBackend, Project


async def _project(request: Request, value: Any) -> Project:
    return await access.visible_project(user_of(request), parse_id(value, "project"))


@get(both("/api/ml"), guards=[require_admin])
async def ml_list(request: Request) -> list[dict[str, Any]]:
    project = await _project(request, request.query_params.get("project"))
    return [service.backend_json(b) for b in await service.backends_of(project.id)]


@post(both("/api/ml"), guards=[require_admin], opt={"audit": "ml.create"})
async def ml_create(request: Request, data: dict[str, Any]) -> Response:
    """Adds the backend, then checks it (/health, /setup): the answer carries its state."""
    project = await _project(request, data.get("project"))
    # claim-first: the backend check (/health, /setup) may take seconds, too long to hold the write lock
    return await idempotency.once_claimed(request, lambda: service.create_backend(project, data), service.backend_json)


@get(both("/api/ml/{backend_id:int}"), guards=[require_admin])
async def ml_detail(request: Request, backend: tuple[MLBackend, Project]) -> dict[str, Any]:
    found, project = backend
    if request.query_params.get("check") in ("1", "true"):
        found = await service.check_state(found, project)
    return service.backend_json(found)


@patch(both("/api/ml/{backend_id:int}"), guards=[require_admin], opt={"audit": "ml.update"})
async def ml_update(backend: tuple[MLBackend, Project], data: dict[str, Any]) -> dict[str, Any]:
    return service.backend_json(await service.update_backend(*backend, data))


@delete(both("/api/ml/{backend_id:int}"), guards=[require_admin], opt={"audit": "ml.delete"})
async def ml_delete(request: Request, backend: tuple[MLBackend, Project]) -> None:
    found, _ = backend
    await service.delete_backend(found)
    audit.note(request, f"Removed ML backend “{found.title}” ({found.url})", project=found.project)


@post(both("/api/ml/{backend_id:int}/train"), guards=[require_admin], status_code=200, opt={"audit": "ml.train"})
async def ml_train(request: Request, backend: tuple[MLBackend, Project]) -> dict[str, Any]:
    """Label Studio's "Start Training": START_TRAINING to the backend's /webhook, sent by a job."""
    found, project = backend
    return {"job": jobs.job_json(await events.start_training(project, found, user_of(request).id))}


@post(both("/api/ml/{backend_id:int}/interactive-annotating"), guards=[require_admin], status_code=200,
      opt={"audit": None})
async def ml_interactive(request: Request, backend: tuple[MLBackend, Project], data: Any) -> dict[str, Any]:
    """The model's answer for {task, context}, stored nowhere; 502/504 when it fails or is too slow."""
    found, project = backend
    try:
        return await interactive.annotate(project, found, user_of(request), data)
    except interactive.ModelUnavailable as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None


@get(both("/api/ml/{backend_id:int}/versions"), guards=[require_admin])
async def ml_versions(backend: tuple[MLBackend, Project]) -> dict[str, Any]:
    """The versions this project has predictions of, and the backend's current one."""
    found, project = backend
    versions = sorted(await predictions.stored_versions(project.id) | ({found.model_version} - {""}))
    return {"versions": versions, "current": found.model_version}


@get(both("/api/projects/{project_id:int}/model-versions"))
async def model_versions(request: Request, project: Project) -> dict[str, Any]:
    """Label Studio's {model_version: predictions}; ?extended=true: {"static": [...], "live": backends}."""
    return await predictions.version_counts(project, flag(request.query_params.get("extended")),
                                            flag(request.query_params.get("include_live_models")),
                                            user_of(request).role == "admin")


@get(both("/api/projects/{project_id:int}/model-quality"))
async def model_quality(request: Request, project: Project) -> dict[str, Any]:
    """Per model version: predictions accepted unchanged, and precision / recall / F1 per label."""
    await model_page.may_see(user_of(request), project)
    return await model_page.report(project)


ROUTES = [ml_list, ml_create, ml_detail, ml_update, ml_delete, ml_train, ml_interactive, ml_versions, model_versions,
          model_quality]
