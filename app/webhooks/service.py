"""Webhooks of a project: creating, changing and removing them (Label Studio's fields and rules,
checked with a 400 naming the field), their secrets, and the delivery log."""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app import rows
from app.clock import iso, now
from app.db import write_tx
from app.errors import InputError
from app.tables import Project, Webhook, WebhookAttempt, WebhookDelivery
from app.webhooks import delivery, outbox, payloads

if TYPE_CHECKING:
    from app.tables import User

HEADER_NAME = re.compile(r"^[a-zA-Z0-9-_]+$")
MAX_HEADERS = 10
MAX_URL = 2048
MASK = "********"  # what reads show for a header's value: it may be an Authorization
FLAGS = ("send_payload", "send_for_all_actions", "is_active")


def webhook_json(hook: Webhook, secret: str | None = None) -> dict[str, Any]:
    """Label Studio's shape; header values masked; the secret only when just made (create, rotate)."""
    out = {"id": hook.id, "organization": payloads.ORGANIZATION, "project": hook.project, "url": hook.url,
           "send_payload": hook.send_payload, "send_for_all_actions": hook.send_for_all_actions,
           "headers": {name: MASK for name in (hook.headers or {})}, "is_active": hook.is_active,
           "actions": list(hook.actions or []), "created_at": iso(hook.created_at), "updated_at": iso(hook.updated_at)}
    if secret is not None:
        out["secret"] = secret
    return out


def check_url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError({"url": ["Give the URL to send events to (http or https)."]})
    url = value.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL:
        raise InputError({"url": [f"At most {MAX_URL} characters."]})
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError({"url": ["Must be an http:// or https:// URL with a host."]})
    return url


async def reachable(url: str) -> None:
    """Label Studio's SSRF check at creation (again at every connection): a 400 naming the url."""
    try:
        await asyncio.to_thread(delivery.resolve, url)
    except delivery.Blocked as exc:
        raise InputError({"url": [str(exc)]}) from None


def check_headers(value: Any, stored: dict[str, str]) -> dict[str, str]:
    """At most 10, names of letters, digits, - and _, string values; a value sent back masked
    (as a read shows it) keeps the stored one."""
    if not isinstance(value, dict):
        raise InputError({"headers": ["Must be an object of header names and string values."]})
    if len(value) > MAX_HEADERS:
        raise InputError({"headers": [f"At most {MAX_HEADERS} headers."]})
    out = {}
    for name, text in value.items():
        if not HEADER_NAME.match(name) or len(name) > 100:
            raise InputError({"headers": [f"Header name {name[:40]!r}: only letters, digits, - and _."]})
        if not isinstance(text, str) or len(text) > 4096 or "\n" in text or "\r" in text:
            raise InputError({"headers": [f"Header {name}: the value must be a string of one line."]})
        out[name] = stored[name] if text == MASK and name in stored else text
    return out


def check_actions(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise InputError({"actions": ["Must be a list of action names (GET /api/webhooks/info)."]})
    unknown = [a for a in value if a not in outbox.ACTIONS]
    if unknown:
        raise InputError({"actions": [f"Unknown action(s): {', '.join(unknown[:5])[:200]}."]})
    if set(value) & outbox.ORGANIZATION_ONLY:
        raise InputError({"actions": ["Project webhook can't contain organization-only action."]})
    return list(dict.fromkeys(value))


async def clean(data: Any, hook: Webhook | None) -> dict[str, Any]:
    """The fields given, checked (a partial update when `hook` is given)."""
    if not isinstance(data, dict):
        raise InputError({"url": ["Send a JSON object."]})
    out: dict[str, Any] = {}
    if "url" in data or hook is None:
        out["url"] = check_url(data.get("url"))
        await reachable(out["url"])
    for name in FLAGS:
        if name in data:
            if not isinstance(data[name], bool):
                raise InputError({name: ["Must be true or false."]})
            out[name] = data[name]
    if "headers" in data:
        out["headers"] = check_headers({} if data["headers"] is None else data["headers"], hook.headers if hook else {})
    if "actions" in data:  # left out: the list stays (Label Studio's PATCH empties it)
        out["actions"] = check_actions([] if data["actions"] is None else data["actions"])
    return out


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


async def get_webhook(webhook_id: int, project_id: int | None = None) -> Webhook | None:
    if project_id is None:
        return await rows.one(Webhook, "id = {}", webhook_id)
    return await rows.one(Webhook, "id = {} AND project = {}", webhook_id, project_id)


async def webhooks_of(project_id: int | None) -> list[Webhook]:
    if project_id is None:
        return await rows.many(Webhook, "1 = 1", tail="ORDER BY id")
    return await rows.many(Webhook, "project = {}", project_id, tail="ORDER BY id")


async def create_webhook(user: User, project: Project, data: dict[str, Any]) -> tuple[Webhook, str]:
    fields = await clean(data, None)
    secret = new_secret()
    hook = Webhook(project=project.id, created_by=user.id, secret=secret, **fields)
    async with write_tx():
        await hook.save()
    return await get_webhook(hook.id), secret


async def update_webhook(hook: Webhook, data: dict[str, Any]) -> Webhook:
    """`project` is read-only, as in Label Studio."""
    fields = await clean(data, hook)
    if fields:
        fields["updated_at"] = now()
        async with write_tx():
            await Webhook.update({getattr(Webhook, k): v for k, v in fields.items()}).where(Webhook.id == hook.id)
    return await get_webhook(hook.id)


async def rotate_secret(hook: Webhook) -> tuple[Webhook, str]:
    secret = new_secret()
    async with write_tx():
        await Webhook.update({Webhook.secret: secret, Webhook.updated_at: now()}).where(Webhook.id == hook.id)
    return await get_webhook(hook.id), secret


async def delete_webhook(hook: Webhook) -> None:
    async with write_tx():
        await Webhook.delete().where(Webhook.id == hook.id)


# -- the delivery log ------------------------------------------------------------------------------

async def deliveries(hook: Webhook, limit: int = 50) -> list[dict[str, Any]]:
    """The newest deliveries, each with its attempts (oldest first)."""
    found = await WebhookDelivery.select(
        WebhookDelivery.id, WebhookDelivery.action, WebhookDelivery.uid, WebhookDelivery.state,
        WebhookDelivery.attempts, WebhookDelivery.status_code, WebhookDelivery.error, WebhookDelivery.created_at,
        WebhookDelivery.finished_at, WebhookDelivery.next_attempt_at,
    ).where(WebhookDelivery.webhook == hook.id).order_by(WebhookDelivery.id, ascending=False).limit(limit)
    ids = [d["id"] for d in found]
    attempts = await WebhookAttempt.select().where(WebhookAttempt.delivery.is_in(ids or [0])).order_by(WebhookAttempt.id)
    by_delivery: dict[int, list[dict[str, Any]]] = {}
    for a in attempts:
        by_delivery.setdefault(a["delivery"], []).append(
            {"attempt": a["attempt"], "status_code": a["status_code"], "duration_ms": a["duration_ms"],
             "error": a["error"], "created_at": iso(a["created_at"])})
    return [{"id": d["id"], "action": d["action"], "delivery_id": d["uid"], "state": d["state"],
             "attempts": by_delivery.get(d["id"], []), "status_code": d["status_code"], "error": d["error"],
             "created_at": iso(d["created_at"]), "finished_at": iso(d["finished_at"]),
             "next_attempt_at": iso(d["next_attempt_at"]) if d["state"] == "pending" else None} for d in found]


async def redeliver(hook: Webhook, delivery_id: Any) -> dict[str, Any]:
    """The same body again, as a new delivery (a new delivery id), queued behind the others."""
    if isinstance(delivery_id, bool) or not isinstance(delivery_id, int) or not 0 < delivery_id < 2**31:
        raise InputError({"delivery": ["Give the delivery's id (a number)."]})
    async with write_tx():
        old = await rows.one(WebhookDelivery, "id = {} AND webhook = {}", delivery_id, hook.id)
        if old is None:
            raise InputError({"delivery": [f"No delivery {delivery_id} of this webhook."]})
        again = WebhookDelivery(webhook=hook.id, project=hook.project, action=old.action, uid=uuid.uuid4().hex,
                                body=old.body, next_attempt_at=now(), created_at=now())
        await again.save()
    await outbox.kick([hook.id])
    return {"id": again.id, "delivery_id": again.uid, "state": "pending"}


# -- the settings page -----------------------------------------------------------------------------

def from_form(form: Any) -> dict[str, Any]:
    """The page's form as the API's fields: checkboxes, the actions ticked, and headers written one
    `Name: value` a line (a value shown masked and left so keeps the stored one)."""
    headers: dict[str, str] = {}
    for number, line in enumerate(str(form.get("headers", "")).splitlines(), start=1):
        if line.strip():
            name, colon, value = line.partition(":")
            if not colon:
                raise InputError({"headers": [f"Line {number}: write Name: value."]})
            headers[name.strip()] = value.strip()
    data: dict[str, Any] = {"url": form.get("url", ""), "headers": headers,
                            "actions": [a for a in form.getall("actions", []) if a] if hasattr(form, "getall") else []}
    data.update({name: name in form for name in FLAGS})
    if data["actions"] and "send_for_all_actions" not in form:
        data["send_for_all_actions"] = False
    return data


def headers_text(hook: Webhook | None) -> str:
    return "\n".join(f"{name}: {MASK}" for name in (hook.headers or {})) if hook else ""


async def page_context(project: Project, hook: Webhook | None = None) -> dict[str, Any]:
    hooks = await webhooks_of(project.id)
    summary = {}
    for row in await rows.raw("SELECT webhook, state, COUNT(*) AS n FROM lw_webhook_delivery WHERE project = {} "
                              "GROUP BY webhook, state", project.id):
        summary.setdefault(row["webhook"], {})[row["state"]] = row["n"]
    return {"project": project, "hooks": hooks, "summary": summary, "hook": hook,
            "actions": {k: v for k, v in outbox.catalogue(False).items()},
            "deliveries": await deliveries(hook) if hook else [], "headers_text": headers_text(hook),
            "secret": None, "errors": {}, "values": None, "attempts": delivery.ATTEMPTS}
