"""Personal access tokens, as Label Studio has them: a long-lived refresh token a person makes on
their account page (shown once), swapped at POST /api/token/refresh for a short-lived access token
sent as `Authorization: Bearer <access>`. SDK 2.x does the swap by itself when its api_key is a
refresh token. Unlike Label Studio, revoking a refresh token also stops the access tokens already
made from it (each one names its parent), and the database keeps token ids, never tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app import instance, rows
from app.accounts import sessions
from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.security import derive_key
from app.settings import settings
from app.tables import PersonalToken, User
from app.personal_tokens import jwt

ACCESS_MINUTES = 5  # Label Studio's (SimpleJWT's) access lifetime: the SDK refreshes before each expiry
MAX_PER_USER = 50
_used: dict[str, float] = {}


class TokenError(Exception):
    """A token that is malformed, expired, revoked or of the wrong kind (401)."""


def _key() -> bytes:
    return derive_key(settings.secret_key(), "personal-access-token")


def _enabled() -> None:
    if not instance.current().api_tokens_enabled:
        raise TokenError("Personal access tokens are turned off on this instance")


def _claims(token: str, kind: str) -> dict[str, Any]:
    _enabled()
    claims = jwt.decode(token or "", _key())
    if claims is None or claims.get("token_type") != kind or not isinstance(claims.get("exp"), int):
        raise TokenError("Token is invalid or expired")
    if claims["exp"] < now().timestamp():
        raise TokenError("Token is invalid or expired")
    return claims


async def create(user: User) -> dict[str, Any]:
    """A new refresh token for the user: the only time its text is shown."""
    _enabled()
    issued = now()
    expires = issued + dt.timedelta(days=instance.current().api_token_ttl_days)
    jti = uuid.uuid4().hex
    token = jwt.encode({"token_type": "refresh", "exp": int(expires.timestamp()), "iat": int(issued.timestamp()),
                        "jti": jti, "user_id": str(user.id)}, _key())
    async with write_tx():
        live = await PersonalToken.count().where(PersonalToken.user == user.id, PersonalToken.revoked_at.is_null())
        if live >= MAX_PER_USER:
            raise TokenError(f"You have {MAX_PER_USER} tokens already: revoke one first")
        row = PersonalToken(user=user.id, jti=jti, hint=token[-6:], created_at=issued, expires_at=expires)
        await row.save()
    return {"id": row.id, "token": token, "created_at": issued.isoformat(), "expires_at": expires.isoformat()}


def listed(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "token": f"…{row['hint']}", "created_at": row["created_at"].isoformat(),
            "expires_at": row["expires_at"].isoformat() if row["expires_at"] else None,
            "last_used": row["last_used"].isoformat() if row["last_used"] else None}


async def list_of(user: User) -> list[dict[str, Any]]:
    return await PersonalToken.select().where(PersonalToken.user == user.id, PersonalToken.revoked_at.is_null()).order_by(
        PersonalToken.id)


async def _live(jti: str) -> PersonalToken | None:
    return await rows.one(PersonalToken, "jti = {} AND revoked_at IS NULL", jti)


async def refresh(token: str) -> str:
    """An access token for a live refresh token."""
    claims = _claims(token, "refresh")
    if await _live(claims["jti"]) is None:
        raise TokenError("Token is blacklisted")
    issued = now()
    return jwt.encode({"token_type": "access", "exp": int((issued + dt.timedelta(minutes=ACCESS_MINUTES)).timestamp()),
                       "iat": int(issued.timestamp()), "jti": uuid.uuid4().hex, "parent": claims["jti"],
                       "user_id": claims["user_id"]}, _key())


async def revoke(token: str) -> None:
    claims = _claims(token, "refresh")
    async with write_tx():
        await PersonalToken.update({PersonalToken.revoked_at: now()}).where(
            PersonalToken.jti == claims["jti"], PersonalToken.revoked_at.is_null())


async def revoke_id(user: User, token_id: int) -> bool:
    async with write_tx():
        found = await PersonalToken.exists().where(PersonalToken.id == token_id, PersonalToken.user == user.id,
                                                   PersonalToken.revoked_at.is_null())
        await PersonalToken.update({PersonalToken.revoked_at: now()}).where(
            PersonalToken.id == token_id, PersonalToken.user == user.id)
    return found


async def rotate(token: str) -> str:
    """A new refresh token for the same person; the old one stops working."""
    claims = _claims(token, "refresh")
    row = await _live(claims["jti"])
    if row is None:
        raise TokenError("Token is blacklisted")
    user = await rows.one(User, "id = {} AND is_active = {}", row.user, True)
    if user is None:
        raise TokenError("Token is invalid or expired")
    async with write_tx():
        await revoke(token)
        return (await create(user))["token"]


async def user_for_access(token: str) -> User | None:
    """The person an access token speaks for, if it and its refresh token are still good."""
    try:
        claims = _claims(token, "access")
    except TokenError:
        return None
    parent = str(claims.get("parent", ""))
    # one query, as for the legacy key (this runs on every API request): live token, active person
    user = await rows.one(User, 'id = (SELECT "user" FROM lw_personal_token WHERE jti = {} AND revoked_at IS NULL) '
                                "AND is_active = {}", parent, True)
    if user is None or str(user.id) != claims.get("user_id"):
        return None
    if sessions.touch_due(_used, parent):
        async with write_tx():
            await PersonalToken.update({PersonalToken.last_used: now()}).where(PersonalToken.jti == parent)
    return user


JWT_SETTINGS = {"api_tokens_enabled": "api_tokens_enabled", "legacy_api_tokens_enabled": "legacy_tokens_enabled",
                "api_token_ttl_days": "api_token_ttl_days"}  # Label Studio's name -> the instance setting


def jwt_settings() -> dict[str, Any]:
    values = instance.current()
    return {ls: getattr(values, ours) for ls, ours in JWT_SETTINGS.items()}


async def save_jwt_settings(data: Any, user: User) -> dict[str, tuple[Any, Any]]:
    if not isinstance(data, dict):
        raise InputError({"api_tokens_enabled": ["Give the settings as a JSON object."]})
    values: dict[str, Any] = {}
    for ls, ours in JWT_SETTINGS.items():
        if ls not in data:
            continue
        value, field = data[ls], instance.FIELDS[ours]
        if field.kind is bool and not isinstance(value, bool):
            raise InputError({ls: ["Must be true or false."]})
        if field.kind is int and (isinstance(value, bool) or not isinstance(value, int)
                                  or not field.low <= value <= field.high):
            raise InputError({ls: [f"A whole number of days from {field.low:g} to {field.high:g}."]})
        values[ours] = value
    return await instance.save(values, user)
