"""Label Studio's saved views (the data manager's tabs): /api/dm/views."""

from __future__ import annotations

from typing import Any

from litestar import Request, delete, get, patch, post, put

from app import access, web
from app.auth import user_of
from app.errors import InputError
from app.views import service
from app.views.service import view_json
from app.web import both


async def _project(request: Request, value: Any):
    if value is None or value == "":
        raise InputError({"project": ["Give the project's id."]})
    return await access.visible_project(user_of(request), web.parse_id(value, "project"))


@get(both("/api/dm/views"))
async def view_list(request: Request) -> list[dict[str, Any]]:
    project = await _project(request, request.query_params.get("project"))
    return [view_json(v) for v in await service.views_of(project.id)]


@post(both("/api/dm/views"), opt={"audit": "view.create"})
async def view_create(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    project = await _project(request, data.get("project", request.query_params.get("project")))
    return view_json(await service.create_view(user_of(request), project, data.get("data")))


@get(both("/api/dm/views/{view_id:int}"))
async def view_detail(request: Request, view_id: int) -> dict[str, Any]:
    return view_json((await service.view_in_reach(user_of(request), view_id))[0])


@patch(both("/api/dm/views/{view_id:int}"), opt={"audit": "view.update"})
async def view_update(request: Request, view_id: int, data: dict[str, Any]) -> dict[str, Any]:
    view, _ = await service.view_in_reach(user_of(request), view_id, write=True)
    return view_json(await service.update_view(view, data.get("data", {}), partial=True))


@put(both("/api/dm/views/{view_id:int}"), opt={"audit": "view.update"})
async def view_replace(request: Request, view_id: int, data: dict[str, Any]) -> dict[str, Any]:
    view, _ = await service.view_in_reach(user_of(request), view_id, write=True)
    return view_json(await service.update_view(view, data.get("data", {}), partial=False))


@delete(both("/api/dm/views/{view_id:int}"), opt={"audit": "view.delete"})
async def view_delete(request: Request, view_id: int) -> None:
    view, _ = await service.view_in_reach(user_of(request), view_id, write=True)
    await service.delete_view(view)


@delete(both("/api/dm/views/reset"), opt={"audit": "view.reset"})
async def view_reset(request: Request) -> None:
    """Label Studio's DELETE /api/dm/views/reset/?project=: every view of the project."""
    await service.reset_views(user_of(request), await _project(request, request.query_params.get("project")))


@post(both("/api/dm/views/reset"), opt={"audit": "view.reset"}, status_code=200)
async def view_reset_post(request: Request, data: dict[str, Any] | None = None) -> dict[str, Any]:
    value = (data or {}).get("project", request.query_params.get("project"))
    return {"deleted": await service.reset_views(user_of(request), await _project(request, value))}


@post(both("/api/dm/views/order"), opt={"audit": "view.order"}, status_code=200)
async def view_order(request: Request, data: dict[str, Any]) -> list[dict[str, Any]]:
    project = await _project(request, data.get("project", request.query_params.get("project")))
    return [view_json(v) for v in await service.order_views(user_of(request), project, data.get("ids"))]


ROUTES = [view_list, view_create, view_detail, view_update, view_replace, view_delete, view_reset,
          view_reset_post, view_order]
