"""Label Studio's webhook API: /api/webhooks[/{id}] (with or without the trailing slash, `?project=`),
/api/webhooks/info (open, as in Label Studio), and what Labelwell adds: the secret (shown on
create and on rotate only), the delivery log and redelivery. Admins only: a webhook's headers
and secret are credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, delete, get, patch, post, put
from litestar.exceptions import NotFoundException

from app import access, audit
from app.auth import PUBLIC, require_admin, user_of
from app.web import both, flag, parse_id
from app.webhooks import outbox, service

if TYPE_CHECKING:
    from app.tables import Webhook

ADMIN = {"guards": [require_admin]}
ONE = "/api/webhooks/{webhook_id:int}"


async def _hook(webhook_id: int) -> Webhook:
    hook = await service.get_webhook(webhook_id)
    if hook is None:
        raise NotFoundException(f"No webhook with id {webhook_id}")
    return hook


@get(both("/api/webhooks"), **ADMIN)
async def webhook_list(request: Request) -> list[dict[str, Any]]:
    wanted = request.query_params.get("project")
    if wanted == "isnull":  # organization webhooks: the Community API makes none
        return []
    project = await access.visible_project(user_of(request), parse_id(wanted, "project")) if wanted else None
    return [service.webhook_json(h) for h in await service.webhooks_of(project.id if project else None)]


@post(both("/api/webhooks"), **ADMIN, opt={"audit": "webhook.create"})
async def webhook_create(request: Request, data: Any) -> dict[str, Any]:
    """201 with the webhook and its `secret`, the one time it is shown."""
    project_id = parse_id(data.get("project") if isinstance(data, dict) else None, "project")
    project = await access.visible_project(user_of(request), project_id)
    hook, secret = await service.create_webhook(user_of(request), project, data)
    audit.note(request, f"Added webhook {hook.id} ({hook.url})", project=project.id)
    return service.webhook_json(hook, secret)


@get(both("/api/webhooks/info"), opt=PUBLIC)
async def webhook_info(request: Request) -> dict[str, Any]:
    only = request.query_params.get("organization-only")
    return outbox.catalogue(None if only is None else flag(only))


@get(both(ONE), **ADMIN)
async def webhook_detail(webhook_id: int) -> dict[str, Any]:
    return service.webhook_json(await _hook(webhook_id))


@patch(both(ONE), **ADMIN, opt={"audit": "webhook.update"})
async def webhook_update(request: Request, webhook_id: int, data: Any) -> dict[str, Any]:
    hook = await service.update_webhook(await _hook(webhook_id), data)
    audit.note(request, f"Changed webhook {hook.id} ({hook.url})", project=hook.project)
    return service.webhook_json(hook)


@put(both(ONE), **ADMIN, opt={"audit": "webhook.update"})
async def webhook_replace(request: Request, webhook_id: int, data: Any) -> dict[str, Any]:
    hook = await service.update_webhook(await _hook(webhook_id), data)
    audit.note(request, f"Changed webhook {hook.id} ({hook.url})", project=hook.project)
    return service.webhook_json(hook)


@delete(both(ONE), **ADMIN, opt={"audit": "webhook.delete"})
async def webhook_delete(request: Request, webhook_id: int) -> None:
    hook = await _hook(webhook_id)
    await service.delete_webhook(hook)
    audit.note(request, f"Removed webhook {hook.id} ({hook.url})", project=hook.project)


@post(both(ONE + "/rotate-secret"), **ADMIN, status_code=200, opt={"audit": "webhook.rotate"})
async def webhook_rotate(request: Request, webhook_id: int) -> dict[str, Any]:
    """A new secret, shown this once; the old one stops signing at once."""
    hook, secret = await service.rotate_secret(await _hook(webhook_id))
    audit.note(request, f"New secret for webhook {hook.id}", project=hook.project)
    return service.webhook_json(hook, secret)


@get(both(ONE + "/deliveries"), **ADMIN)
async def webhook_deliveries(webhook_id: int) -> list[dict[str, Any]]:
    return await service.deliveries(await _hook(webhook_id))


@post(both(ONE + "/redeliver"), **ADMIN, status_code=202, opt={"audit": "webhook.redeliver"})
async def webhook_redeliver(webhook_id: int, data: Any) -> dict[str, Any]:
    """`{"delivery": <id from the log>}`: its body again, as a new delivery."""
    wanted = data.get("delivery") if isinstance(data, dict) else None
    return await service.redeliver(await _hook(webhook_id), wanted)


ROUTES = [webhook_list, webhook_create, webhook_info, webhook_detail, webhook_update, webhook_replace,
          webhook_delete, webhook_rotate, webhook_deliveries, webhook_redeliver]
