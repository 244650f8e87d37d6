"""Label Studio's personal access token API (/api/token/…), which SDK 2.x calls by itself when
its api_key is a refresh token. Listing and making tokens needs a signed-in person; refresh,
rotate and blacklist are authenticated by the refresh token in the body, as in Label Studio."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotAuthorizedException

from app import audit
from app.auth import PUBLIC, require_admin, user_of
from app.errors import InputError
from app.personal_tokens import service
from app.web import both


def _refresh_of(data: Any) -> str:
    token = data.get("refresh") if isinstance(data, dict) else None
    if not isinstance(token, str) or not token:
        raise InputError({"refresh": ["This field is required."]})
    return token


async def _checked(work: Any) -> Any:
    try:
        return await work
    except service.TokenError as exc:
        raise NotAuthorizedException(str(exc), extra={"code": "token_not_valid"}) from None


@get(both("/api/token"))
async def token_list(request: Request) -> list[dict[str, Any]]:
    return [service.listed(row) for row in await service.list_of(user_of(request))]


@post(both("/api/token"), opt={"audit": "token.create"})
async def token_create(request: Request) -> dict[str, Any]:
    try:
        return await service.create(user_of(request))
    except service.TokenError as exc:
        raise InputError({"token": [str(exc)]}) from None


@post(both("/api/token/refresh"), opt={**PUBLIC, "audit": None}, status_code=200)
async def token_refresh(data: dict[str, Any]) -> dict[str, str]:
    return {"access": await _checked(service.refresh(_refresh_of(data)))}


@post(both("/api/token/rotate"), opt={**PUBLIC, "audit": "token.rotate"}, status_code=200)
async def token_rotate(data: dict[str, Any]) -> dict[str, str]:
    return {"refresh": await _checked(service.rotate(_refresh_of(data)))}


@post(both("/api/token/blacklist"), opt={**PUBLIC, "audit": "token.revoke"}, status_code=204)
async def token_blacklist(data: dict[str, Any]) -> None:
    await _checked(service.revoke(_refresh_of(data)))


@get(both("/api/jwt/settings"), guards=[require_admin])
async def jwt_settings() -> dict[str, Any]:
    return service.jwt_settings()


@post(both("/api/jwt/settings"), guards=[require_admin], opt={"audit": "settings.update"}, status_code=201)
async def jwt_settings_update(request: Request, data: Any) -> dict[str, Any]:
    """Label Studio's three switches, any of them: the same values as the settings page."""
    changed = await service.save_jwt_settings(data, user_of(request))
    audit.note(request, "Changed " + (", ".join(f"{k} {old} → {new}" for k, (old, new) in changed.items()) or "nothing"))
    return service.jwt_settings()


ROUTES = [token_list, token_create, token_refresh, token_rotate, token_blacklist, jwt_settings, jwt_settings_update]
