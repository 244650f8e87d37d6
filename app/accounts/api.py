"""Label Studio's user API: whoami, the current user's token, /api/users for admins (a user added
without a password gets an invitation link), and the one organization with its memberships."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import NotFoundException

from app import audit
from app.accounts import invites, service
from app.accounts.schemas import ORGANIZATION, organization_json, user_json
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
async def user_create(request: Request, data: Any) -> dict[str, Any]:
    """Without a password, as Label Studio: no usable password, and a one-time link for the admin to pass on."""
    user, token = await invites.add_by_api(data, user_of(request))
    audit.note(request, f"Added {user.email} as {user.role}" + (" by invitation" if token else ""), user=user.id)
    link = f"{str(request.base_url).rstrip('/')}/invite/{token}" if token else None
    return {**user_json(user), **({"invite_url": link} if link else {})}


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


def _organization(organization_id: int) -> None:
    if organization_id != ORGANIZATION:
        raise NotFoundException(f"No organization with id {organization_id}")


@get(["/api/organizations", "/api/organizations/"])
async def organization_list() -> list[dict[str, Any]]:
    return [organization_json(await service.organization_created())]


@get(["/api/organizations/{organization_id:int}", "/api/organizations/{organization_id:int}/"])
async def organization_detail(organization_id: int) -> dict[str, Any]:
    _organization(organization_id)
    return organization_json(await service.organization_created())


@get(["/api/organizations/{organization_id:int}/memberships", "/api/organizations/{organization_id:int}/memberships/"],
     guards=[require_admin])
async def membership_list(organization_id: int) -> dict[str, Any]:
    """Label Studio's paginated members: {count, next, previous, results: [{organization, user}]}."""
    _organization(organization_id)
    found = [{"organization": ORGANIZATION, "user": user_json(u)} for u in await service.list_users()]
    return {"count": len(found), "next": None, "previous": None, "results": found}


@patch(["/api/organizations/{organization_id:int}/memberships", "/api/organizations/{organization_id:int}/memberships/"],
       guards=[require_admin], opt={"audit": "user.update"})
async def membership_update(request: Request, organization_id: int, data: Any) -> dict[str, Any]:
    """The legacy SDK's user.set_role(): {"user_id", "role": "AN"|"RE"|"AD"|"DI"}."""
    _organization(organization_id)
    user = await service.set_membership(data)
    audit.note(request, f"Set {user.email} to {user.role}" + ("" if user.is_active else " (deactivated)"))
    return {"organization": ORGANIZATION, "user": user_json(user)}


ROUTES = [whoami, current_token, current_token_reset, user_list, user_create, user_detail, user_update, user_delete,
          organization_list, organization_detail, membership_list, membership_update]
