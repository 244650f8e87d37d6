"""Label Studio's user API: whoami, the current user's token, /api/users for admins (a user added
without a password gets an invitation link), and the one organization with its memberships."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import NotFoundException

from app import audit
from app.accounts import invites, organization, service
from app.accounts.schemas import ORGANIZATION, membership_json, organization_json, user_json
from app.auth import require_admin, user_of

if TYPE_CHECKING:
    from app.tables import User


@get(["/api/current-user/whoami", "/api/current-user/whoami/"])
async def whoami(request: Request) -> dict[str, Any]:
    return user_json(user_of(request))


@get(["/api/current-user", "/api/current-user/"])
async def current_user(request: Request) -> dict[str, Any]:
    return user_json(user_of(request))


@patch(["/api/current-user", "/api/current-user/"], opt={"audit": None})
async def current_user_update(request: Request, data: Any) -> dict[str, Any]:
    """Your own name (Label Studio's other fields are read-only here); the password is changed on
    the account page, which asks for the current one."""
    return user_json(await service.update_own_profile(user_of(request), data))


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


async def _organization_json() -> dict[str, Any]:
    return organization_json(await service.organization_created(), await organization.details())


@get(["/api/organizations", "/api/organizations/"])
async def organization_list() -> list[dict[str, Any]]:
    return [await _organization_json()]


@get(["/api/organizations/{organization_id:int}", "/api/organizations/{organization_id:int}/"])
async def organization_detail(organization_id: int) -> dict[str, Any]:
    _organization(organization_id)
    return await _organization_json()


@patch(["/api/organizations/{organization_id:int}", "/api/organizations/{organization_id:int}/"],
       guards=[require_admin], opt={"audit": "settings.update"})
async def organization_update(request: Request, organization_id: int, data: Any) -> dict[str, Any]:
    _organization(organization_id)
    await organization.update(data, user_of(request))
    audit.note(request, "Changed the organization's " + ", ".join(k for k in organization.EDITABLE if k in data))
    return await _organization_json()


@get(["/api/invite", "/api/invite/"], guards=[require_admin])
async def invite_link(request: Request) -> dict[str, str]:
    """The organization's sign-up link (an annotator account in no project), made on first ask."""
    return organization.invite_json(await organization.invite_token(user_of(request)))


@post(["/api/invite/reset-token", "/api/invite/reset-token/"], guards=[require_admin], status_code=200,
      opt={"audit": "settings.update"})
async def invite_reset(request: Request) -> dict[str, str]:
    audit.note(request, "Made a new invitation link; the old one no longer works")
    return organization.invite_json(await organization.invite_token(user_of(request), reset=True))


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
    user = await service.set_membership(data, by=user_of(request))
    audit.note(request, f"Set {user.email} to {user.role}" + ("" if user.is_active else " (deactivated)"))
    return {"organization": ORGANIZATION, "user": user_json(user)}


MEMBER = ["/api/organizations/{organization_id:int}/memberships/{user_id:int}",
          "/api/organizations/{organization_id:int}/memberships/{user_id:int}/"]


@get(MEMBER, guards=[require_admin])
async def membership_detail(organization_id: int, person: User) -> dict[str, Any]:
    _organization(organization_id)
    return {"organization": ORGANIZATION, "user": user_json(person), **membership_json(person)}


@delete(MEMBER, guards=[require_admin], status_code=204, opt={"audit": "user.update"})
async def membership_delete(request: Request, organization_id: int, person: User) -> None:
    """Label Studio removes the membership: here the person is deactivated (their work stays)."""
    _organization(organization_id)
    user = await service.set_membership({"user_id": person.id, "role": "DI"}, by=user_of(request))
    audit.note(request, f"Removed {user.email} from the organization (deactivated)", user=user.id)


ROUTES = [whoami, current_user, current_user_update, current_token, current_token_reset, user_list, user_create, user_detail, user_update, user_delete,
          organization_list, organization_detail, organization_update, invite_link, invite_reset, membership_list,
          membership_update, membership_detail, membership_delete]
