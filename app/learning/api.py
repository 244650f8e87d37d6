"""The built-in model's JSON API (admins, like the Model page): its state, switching it on and
setting how often it trains, and a training run now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get, patch, post

from app import idempotency, jobs
from app.auth import require_admin, user_of
from app.learning import service
from app.web import both

if TYPE_CHECKING:
    from app.tables import Project

PATH = "/api/projects/{project_id:int}/builtin-model"


@get(both(PATH), guards=[require_admin])
async def builtin_detail(project: Project) -> dict[str, Any]:
    """What it learns (and cannot, with why), its versions with their quality, and its last run."""
    return await service.overview(project)


@patch(both(PATH), guards=[require_admin], opt={"audit": "ml.builtin"})
async def builtin_update(project: Project, data: Any) -> dict[str, Any]:
    """{"enabled": true, "train_every": 20}: either or both."""
    await service.configure(project, data)
    return await service.overview(project)


@post(both(PATH + "/train"), guards=[require_admin], status_code=201, opt={"audit": "ml.builtin_train"})
async def builtin_train(request: Request, project: Project) -> Response:
    """A training run now; its job says when it is done and what it trained."""
    return await idempotency.once_claimed(request, lambda: service.start_training(project, user_of(request).id),
                                          jobs.job_json)


ROUTES = [builtin_detail, builtin_update, builtin_train]
