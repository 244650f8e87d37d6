"""Label Studio's user API: whoami, the current user's token, and /api/users for admins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post

from app import audit
from app.accounts import service
from app.accounts.schemas import user_json
from app.auth import require_admin, user_of

if TYPE_CHECKING:
    from app.tables import User


@get(["/api/current-user/whoami", "/api/current-user/whoami/"])
async def whoami(request: Request) -> dict[str, Any]:
    return user_json(user_of(request))


@get(["/api/current-user/token", "/api/current-user/token/"])
async def current_token(request: Request) -> dict[str, str]:
    return {"token": await service.token_of(user_of(request))}


@post(["/api/current-user/reset-token", "/api/current-user/reset-token/"], status_code=200, opt={"audit": "token.regenerate"})
async def current_token_reset(request: Request) -> dict[str, str]:
    return {"token": await service.reset_token(user_of(request))}


@get(["/api/users", "/api/users/"], guards=[require_admin])
async def user_list(request: Request) -> list[dict[str, Any]]:
    return [user_json(u) for u in await service.list_users(request.query_params.get("search", ""))]


@post(["/api/users", "/api/users/"], guards=[require_admin], opt={"audit": "user.create"})
async def user_create(data: dict[str, Any]) -> dict[str, Any]:
    return user_json(await service.create_user(data))


@get(["/api/users/{user_id:int}", "/api/users/{user_id:int}/"], guards=[require_admin])
async def user_detail(person: User) -> dict[str, Any]:
    return user_json(person)


@patch(["/api/users/{user_id:int}", "/api/users/{user_id:int}/"], guards=[require_admin], opt={"audit": "user.update"})
async def user_update(request: Request, person: User, data: dict[str, Any]) -> dict[str, Any]:
    before = service.snapshot(person)
    await service.update_user(person, data)
    # a password change shows as the action alone: the fields compared never include it
    audit.note_changes(request, person.email, before, service.snapshot(person))
    return user_json(person)


@delete(["/api/users/{user_id:int}", "/api/users/{user_id:int}/"], guards=[require_admin], status_code=200, opt={"audit": "user.delete"})
async def user_delete(request: Request, person: User) -> Response:
    if person.id == user_of(request).id:
        return Response({"detail": "You cannot delete yourself."}, status_code=400)
    outcome = await service.remove_user(person)
    audit.note(request, f"{outcome.capitalize()} user {person.email}", outcome=outcome)
    if outcome == "deleted":
        return Response(None, status_code=204)
    return Response({"detail": "The user has annotations, so they were deactivated, not deleted.",
                     "user": user_json(person)}, status_code=200)


ROUTES = [whoami, current_token, current_token_reset, user_list, user_create, user_detail, user_update, user_delete]
