"""Users and their API tokens: creation, login checks, the first admin."""

from __future__ import annotations

import re
from typing import Any

from piccolo.query.functions.aggregate import Count

from app import rows, security
from app.accounts import sessions
from app.clock import now
from app.db import text_contains, write_tx
from app.errors import InputError
from app.tables import ROLES, Annotation, ApiToken, Project, Review, User

__all__ = ["ROLES"]  # re-exported: the controllers name the roles without reaching for the tables

_token_used: dict[str, float] = {}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
EDITABLE = ("email", "first_name", "last_name", "role", "is_active", "password")
LENGTHS = {"email": 254, "first_name": 150, "last_name": 150, "password": 1024}


def snapshot(user: User) -> dict[str, Any]:
    """The fields an admin edits, as they stand (for the audit log's before and after)."""
    return {key: getattr(user, key) for key in EDITABLE if key != "password"}


def clean_user_fields(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Validate the user fields present in `data`; unknown keys are ignored, as Label Studio does."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in EDITABLE:
        if key not in data:
            continue
        value = data[key]
        if key in ("email", "first_name", "last_name", "role", "password"):
            value = "" if value is None else str(value).strip() if key != "password" else str(value)
        if isinstance(value, str) and ("\x00" in value or len(value) > LENGTHS.get(key, 64)):
            errors[key] = [f"At most {LENGTHS.get(key, 64)} characters, and no NUL characters."]
            continue
        if key == "email":
            value = value.lower()
            if not EMAIL_RE.match(value):
                errors[key] = ["Enter a valid email address."]
        elif key == "role" and value not in ROLES:
            errors[key] = [f"Must be one of: {', '.join(ROLES)}."]
        elif key == "password" and len(value) < security.MIN_PASSWORD_LENGTH:
            errors[key] = [f"Use at least {security.MIN_PASSWORD_LENGTH} characters."]
        elif key == "is_active" and not isinstance(value, bool):
            errors[key] = ["Must be true or false."]
        out[key] = value
    if creating:
        for key in ("email", "password"):
            if key not in data:
                errors.setdefault(key, ["This field is required."])
    if errors:
        raise InputError(errors)
    return out


async def _email_taken(email: str, except_id: int | None = None) -> bool:
    query = User.exists().where(User.email == email)
    if except_id is not None:
        query = query.where(User.id != except_id)
    return await query


async def create_user(data: dict[str, Any], *, token: str | None = None) -> User:
    fields = clean_user_fields(data, creating=True)
    fields.setdefault("role", "annotator")
    # hashed before the transaction: the write lock is not held for argon2's 50 ms
    password_hash = await security.hash_password(fields.pop("password"))
    async with write_tx():
        if await _email_taken(fields["email"]):
            raise InputError({"email": ["A user with this email already exists."]})
        user = User(**fields, password=password_hash)
        await user.save()
        await ApiToken(user=user.id, key=token or security.new_token_key()).save()
    return user


async def update_user(user: User, data: dict[str, Any]) -> User:
    fields = clean_user_fields(data, creating=False)
    if "password" in fields:
        fields["password"] = await security.hash_password(fields["password"])
    async with write_tx():
        if user.role == "admin" and (fields.get("role", "admin") != "admin" or fields.get("is_active") is False):
            await _keep_one_admin(user)
        if "email" in fields and await _email_taken(fields["email"], except_id=user.id):
            raise InputError({"email": ["A user with this email already exists."]})
        for key, value in fields.items():
            setattr(user, key, value)
        if fields:
            await user.save(columns=[getattr(User, k) for k in fields])
        if "password" in fields or fields.get("is_active") is False:
            # a new password or a deactivation signs the user out everywhere (the caller may sign
            # the browser that changed it back in)
            await sessions.end_all(user.id)
    return user


PROFILE = ("first_name", "last_name")
READ_ONLY = ("id", "email", "username", "avatar", "initials", "phone", "allow_newsletters", "active_organization",
             "date_joined", "last_login", "last_activity", "org_membership", "role", "is_active", "custom_hotkeys",
             "email_notification_settings", "is_email_verified", "onboarding_state")  # what the SDK may send back


async def update_own_profile(user: User, data: Any) -> User:
    """PATCH /api/current-user: the name. The read-only fields Label Studio shows (which a script may
    send back) are ignored; the password is refused (the account page asks for the current one)."""
    if not isinstance(data, dict):
        raise InputError({"first_name": ["Give the fields as a JSON object."]})
    if "password" in data:
        raise InputError({"password": ["Change your password on your account page: it asks for the current one."]})
    unknown = [k for k in data if k not in PROFILE and k not in READ_ONLY]
    if unknown:
        raise InputError({unknown[0]: ["Not a field of the current user."]})
    return await update_user(user, {k: data[k] for k in PROFILE if k in data})


async def _keep_one_admin(user: User) -> None:
    others = await User.count().where(User.role == "admin", User.is_active.eq(True), User.id != user.id)
    if not others:
        raise InputError({"role": ["This is the last active admin: make another admin first."]})


async def has_work(user_id: int) -> bool:
    return (
        await Annotation.exists().where(Annotation.completed_by == user_id)
        or await Review.exists().where(Review.reviewer == user_id)
        or await Project.exists().where(Project.created_by == user_id)
    )


async def remove_user(user: User) -> str:
    """Delete a user with no work; deactivate one who has some, so their work keeps its author."""
    if await has_work(user.id):
        await update_user(user, {"is_active": False})
        return "deactivated"
    async with write_tx():
        await User.delete().where(User.id == user.id)
    return "deleted"


async def authenticate(email: str, password: str) -> User | None:
    user = await User.objects().where(User.email == email.strip().lower()).first()
    if not await security.verify_password(user.password if user else None, password) or not user.is_active:
        return None
    user.last_login = now()
    columns = [User.last_login]
    if security.needs_rehash(user.password):
        user.password = await security.hash_password(password)
        columns.append(User.password)
    async with write_tx():
        await user.save(columns=columns)
    return user


async def change_password(user: User, current: str, new: str, repeated: str) -> User:
    """The user's own change: the current password first, then the new one twice."""
    if await authenticate(user.email, current) is None:
        raise InputError({"current_password": ["That is not your current password."]})
    if new != repeated:
        raise InputError({"new_password2": ["The two new passwords differ."]})
    return await update_user(user, {"password": new})


async def save_hotkeys(user: User, keymap: dict[str, str]) -> None:
    """The user's workspace keys ({} for the defaults), as app.labelling.hotkeys.clean checked them."""
    async with write_tx():
        await User.update({User.hotkeys: keymap}).where(User.id == user.id)


async def user_for_token(key: str) -> User | None:
    # one query in plain SQL (app/rows.py): this runs on every API request
    user = await rows.one(User, "id = (SELECT \"user\" FROM lw_api_token WHERE key = {}) AND is_active = {}", key, True)
    if user is not None and sessions.touch_due(_token_used, key):  # last use: every few minutes, not per request
        async with write_tx():
            await ApiToken.update({ApiToken.last_used: now()}).where(ApiToken.key == key)
    return user


async def revoke_token(user: User) -> bool:
    """The user's key stops working; their account page makes them a new one when they next open it."""
    async with write_tx():
        found = await ApiToken.exists().where(ApiToken.user == user.id)
        await ApiToken.delete().where(ApiToken.user == user.id)
    return found


async def token_info(user_id: int) -> dict[str, Any] | None:
    return await ApiToken.select(ApiToken.key, ApiToken.created_at, ApiToken.last_used).where(
        ApiToken.user == user_id).first()


async def token_of(user: User) -> str:
    row = await ApiToken.select(ApiToken.key).where(ApiToken.user == user.id).first()
    if row is None:
        return await reset_token(user)
    return row["key"]


async def reset_token(user: User, key: str | None = None) -> str:
    key = key or security.new_token_key()
    async with write_tx():
        await ApiToken.delete().where(ApiToken.user == user.id)
        await ApiToken(user=user.id, key=key).save()
    return key


def _search(query: Any, search: str) -> Any:
    search = search.replace("\x00", "").strip()
    return query.where(text_contains(["email", "first_name", "last_name"], search)) if search else query


async def list_users(search: str = "", *, offset: int = 0, limit: int | None = None) -> list[User]:
    query = _search(User.objects().order_by(User.id), search)
    return await (query.offset(offset).limit(limit) if limit else query)


async def count_users(search: str = "") -> int:
    return await _search(User.count(), search)


async def activity(user_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per user: annotations submitted, skips, and review decisions made."""
    found = {uid: {"annotations": 0, "skipped": 0, "reviews": 0} for uid in user_ids}
    if not user_ids:
        return found
    done = await Annotation.select(Annotation.completed_by, Annotation.was_cancelled, Count(Annotation.id)).where(
        Annotation.completed_by.is_in(user_ids)).group_by(Annotation.completed_by, Annotation.was_cancelled)
    for row in done:
        found[row["completed_by"]]["skipped" if row["was_cancelled"] else "annotations"] += row["count"]
    reviews = await Review.select(Review.reviewer, Count(Review.id)).where(
        Review.reviewer.is_in(user_ids)).group_by(Review.reviewer)
    for row in reviews:
        found[row["reviewer"]]["reviews"] += row["count"]
    return found


async def get_user(user_id: int) -> User | None:
    return await User.objects().where(User.id == user_id).first()


async def ensure_first_admin(
    email: str | None, password: str | None, token: str | None
) -> tuple[User, str | None] | None:
    """Create the first admin if the database has no user; returns (user, generated password).

    A later start finds users and changes nothing, whatever the environment says."""
    if await User.exists():
        return None
    generated = None if password else security.new_password()
    user = await create_user(
        {"email": email or "admin@localhost", "password": password or generated, "role": "admin"},
        token=token,
    )
    return user, generated


async def organization_created() -> Any:
    """When the instance's one organization began: its first user joined."""
    first = await User.select(User.date_joined).order_by(User.id).first()
    return first["date_joined"] if first else now()


LS_ROLE_CODES = {"AD": "admin", "OW": "admin", "RE": "reviewer", "AN": "annotator"}


async def set_membership(data: Any, by: User | None = None) -> User:
    """Label Studio's PATCH /api/organizations/{id}/memberships {"user_id", "role": "AN"|"RE"|"AD"|"DI"}:
    the user's role, or DI to deactivate them."""
    if not isinstance(data, dict):
        raise InputError({"user_id": ["Give {\"user_id\": …, \"role\": …}."]})
    user_id = data.get("user_id")
    user = await get_user(user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) and 0 < user_id < 2**31 else None
    if user is None:
        raise InputError({"user_id": ["No such user."]})
    role = data.get("role")
    if by is not None and user.id == by.id and role != "AD":
        raise InputError({"user_id": ["You cannot deactivate yourself or give up your own admin role."]})
    if role == "DI":
        return await update_user(user, {"is_active": False})
    if role not in LS_ROLE_CODES:
        raise InputError({"role": ["Must be one of AN (annotator), RE (reviewer), AD (admin), DI (deactivate)."]})
    return await update_user(user, {"role": LS_ROLE_CODES[role], "is_active": True})
