"""One-time links that set a password: an invitation for a new user, or an admin's reset.

The link carries a random token; lw_invite holds its hash. A link works once, until it expires;
issuing a new one for the same user voids the older ones."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from app import security
from app.accounts import service, sessions
from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.tables import Invite, User

LIFETIME = {"invite": dt.timedelta(days=7), "reset": dt.timedelta(days=1)}


async def issue(user: User, by: User | None, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    moment = now()
    async with write_tx():
        await Invite.update({Invite.used_at: moment}).where(Invite.user == user.id, Invite.used_at.is_null())
        await Invite(token_hash=sessions.digest(token), user=user.id, created_by=getattr(by, "id", None),
                     purpose=purpose, created_at=moment, expires_at=moment + LIFETIME[purpose]).save()
    return token


async def add_user(values: dict[str, Any], by: User) -> tuple[User, str | None]:
    """With a password: the account is ready. Without: also an invitation link's token, to pass on."""
    if values.get("password"):
        return await service.create_user(values), None
    # a password nobody knows until the link sets one
    user = await service.create_user({**values, "password": security.new_password() + security.new_password()})
    return user, await issue(user, by, "invite")


async def find(token: str) -> tuple[Invite, User] | None:
    """The unused, unexpired link and its (active) user."""
    invite = await Invite.objects().where(Invite.token_hash == sessions.digest(token), Invite.used_at.is_null(),
                                          Invite.expires_at > now()).first()
    if invite is None:
        return None
    user = await service.get_user(invite.user)
    return (invite, user) if user is not None and user.is_active else None


async def redeem(token: str, password: str, repeated: str) -> User | None:
    """Set the password (which signs the user out everywhere) and spend the link; None if the link is no good.
    A bad password, or a repetition that differs, raises InputError and leaves the link usable."""
    if password != repeated:
        raise InputError({"password2": ["The two passwords differ."]})
    found = await find(token)
    if found is None:
        return None
    invite, user = found
    service.clean_user_fields({"password": password}, creating=False)  # a bad password keeps the link
    async with write_tx():
        # the row update is the one-time check: of two uses at once, one spends the link
        spent = await Invite.update({Invite.used_at: now()}).where(
            Invite.id == invite.id, Invite.used_at.is_null()).returning(Invite.id)
        if not spent:
            return None
        return await service.update_user(user, {"password": password})


def pending(user_id: int):
    return Invite.select(Invite.purpose, Invite.created_at, Invite.expires_at).where(
        Invite.user == user_id, Invite.used_at.is_null(), Invite.expires_at > now())


async def add_by_api(data: Any, by: User) -> tuple[User, str | None]:
    """POST /api/users as Label Studio's SDKs send it: `username` stands in for a missing email,
    and no password means an invitation (the user has none until the link sets it)."""
    if not isinstance(data, dict):
        raise InputError({"email": ["Give the user as a JSON object."]})
    values = dict(data)
    if not values.get("email") and isinstance(values.get("username"), str) and "@" in values["username"]:
        values["email"] = values["username"]
    if values.get("password") is None:
        values.pop("password", None)
    return await add_user(values, by)
