"""A user as Label Studio's API shows one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.clock import iso

if TYPE_CHECKING:
    from app.tables import User


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
