"""A user, and their organization, as Label Studio's API shows them (the legacy SDK's strict
pydantic models parse these: `last_activity` is always a moment, `phone` always text)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.clock import iso

if TYPE_CHECKING:
    from app.tables import User

ORGANIZATION = 1  # one instance, one organization, as Label Studio Community has
LS_ROLES = {"admin": "AD", "reviewer": "RE", "annotator": "AN"}  # Label Studio's membership role codes


def membership_json(user: User) -> dict[str, Any]:
    return {"role": LS_ROLES.get(user.role, "AN") if user.is_active else "DI", "active": user.is_active,
            "organization_id": ORGANIZATION}


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
        "phone": "",
        "allow_newsletters": False,
        "active_organization": ORGANIZATION,
        "org_membership": [membership_json(user)],
        "role": user.role,
        "is_active": user.is_active,
        "date_joined": iso(user.date_joined),
        "last_login": iso(user.last_login),
        # Label Studio's is never null once the user exists: the last sign of life, else joining
        "last_activity": iso(user.last_activity or user.last_login or user.date_joined),
    }


def organization_json(created_at: Any, details: dict[str, str]) -> dict[str, Any]:
    return {"id": ORGANIZATION, "title": details["title"], "contact_info": details["contact_info"],
            "created_at": iso(created_at)}
