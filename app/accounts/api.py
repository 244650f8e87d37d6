"""Label Studio's user API: whoami, the current user's token, and /api/users for admins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import NotFoundException

from app import audit
from app.accounts import service
from app.auth import require_admin, user_of

if TYPE_CHECKING:
    from app.tables import User


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def user_json(user: User) -> dict[str, Any]:
    initials = ((user.first_name[:1] + user.last_name[:1]) or user.email[:2]).upper()
    return {
        "id": user.id,
        "email": user.email,
        "username": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "initials": initials,
        "avatar": None,
        "role": user.role,
        "is_active": user.is_active,
        "date_joined": iso(user.date_joined),
        "last_login": iso(user.last_login),
        "last_activity": iso(user.last_activity or user.last_login),
    }


async def get_user_or_404(user_id: int) -> User:
    user = await service.get_user(user_id)
    if user is None:
        raise NotFoundException(f"No user with id {user_id}")
    return user


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
async def user_detail(user_id: int) -> dict[str, Any]:
    return user_json(await get_user_or_404(user_id))


@patch(["/api/users/{user_id:int}", "/api/users/{user_id:int}/"], guards=[require_admin], opt={"audit": "user.update"})
async def user_update(request: Request, user_id: int, data: dict[str, Any]) -> dict[str, Any]:
    user = await get_user_or_404(user_id)
    before = service.snapshot(user)
    await service.update_user(user, data)
    # a password change shows as the action alone: the fields compared never include it
    audit.note_changes(request, user.email, before, service.snapshot(user))
    return user_json(user)


@delete(["/api/users/{user_id:int}", "/api/users/{user_id:int}/"], guards=[require_admin], status_code=200, opt={"audit": "user.delete"})
async def user_delete(request: Request, user_id: int) -> Response:
    user = await get_user_or_404(user_id)
    if user.id == user_of(request).id:
        return Response({"detail": "You cannot delete yourself."}, status_code=400)
    outcome = await service.remove_user(user)
    audit.note(request, f"{outcome.capitalize()} user {user.email}", outcome=outcome)
    if outcome == "deleted":
        return Response(None, status_code=204)
    return Response({"detail": "The user has annotations, so they were deactivated, not deleted.",
                     "user": user_json(user)}, status_code=200)


ROUTES = [whoami, current_token, current_token_reset, user_list, user_create, user_detail, user_update, user_delete]
