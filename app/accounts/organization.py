"""The instance's one organization, as Label Studio Community has it: a title and contact line an
admin may change, and the organization's invitation link (GET /api/invite), with which anyone may
create an annotator account (in no project) even while open sign-up is off.

The link's token is kept as it is, not hashed, because Label Studio shows the same link to every
admin who asks for it: it is meant to be passed around, it grants only a new annotator account with
no projects, and POST /api/invite/reset-token voids it at once."""

from __future__ import annotations

import hmac
import json
import secrets
from typing import Any

from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.tables import InstanceSetting, User

KEY = "organization"  # the lw_instance_setting row; app/instance.py reads only its own keys
EDITABLE = {"title": 1000, "contact_info": 1000}  # field -> longest text


async def _stored() -> dict[str, Any]:
    row = await InstanceSetting.select(InstanceSetting.value).where(InstanceSetting.key == KEY).output(
        load_json=True).first()
    value = row["value"].get("value") if row and isinstance(row["value"], dict) else None
    return value if isinstance(value, dict) else {}


async def _store(values: dict[str, Any], user: User | None) -> None:
    async with write_tx():
        await InstanceSetting.delete().where(InstanceSetting.key == KEY)
        await InstanceSetting(key=KEY, value=json.dumps({"value": values}), updated_by=getattr(user, "id", None),
                              updated_at=now()).save()


async def details() -> dict[str, str]:
    stored = await _stored()
    return {"title": stored.get("title") or "Labelwell", "contact_info": stored.get("contact_info") or ""}


async def update(data: Any, user: User) -> None:
    if not isinstance(data, dict):
        raise InputError({"title": ["Give the organization as a JSON object."]})
    changes: dict[str, str] = {}
    for key, longest in EDITABLE.items():
        if key in data:
            if not isinstance(data[key], str) or len(data[key]) > longest:
                raise InputError({key: [f"Must be text of at most {longest} characters."]})
            changes[key] = data[key].strip()
    if changes.get("title") == "":
        raise InputError({"title": ["The title cannot be empty."]})
    if changes:
        async with write_tx():
            await _store({**await _stored(), **changes}, user)


async def invite_token(user: User, reset: bool = False) -> str:
    """The organization's link token, made on first ask; `reset` makes a new one (the old one stops working)."""
    async with write_tx():
        stored = await _stored()
        if reset or not stored.get("invite_token"):
            stored["invite_token"] = secrets.token_urlsafe(24)
            await _store(stored, user)
    return stored["invite_token"]


async def invite_valid(token: Any) -> bool:
    if not isinstance(token, str) or not token:
        return False
    known = (await _stored()).get("invite_token")
    return isinstance(known, str) and hmac.compare_digest(known, token)


def invite_json(token: str) -> dict[str, str]:
    """Label Studio's answer: the sign-up path with the token (relative, as Label Studio gives it)."""
    return {"token": token, "invite_url": f"/user/signup/?token={token}"}
