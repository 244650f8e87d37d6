"""The project's Webhooks settings page: the project's webhooks (add, change, remove, a new
secret) and each one's recent deliveries with their attempts, and a Redeliver button."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit
from app.auth import require_admin, user_of
from app.errors import InputError
from app.web import id_or_none
from app.webhooks import service

if TYPE_CHECKING:
    from app.tables import Project, Webhook

ADMIN = {"guards": [require_admin]}
BASE = "/projects/{project_id:int}/webhooks"


async def _hook(project: Project, webhook_id: int) -> Webhook:
    hook = await service.get_webhook(webhook_id, project.id)
    if hook is None:
        raise NotFoundException(f"No webhook {webhook_id} in this project")
    return hook


async def _page(project: Project, hook: Webhook | None = None, status: int = 200, **extra: Any) -> Template:
    context = {**await service.page_context(project, hook), **extra}
    return Template("webhooks/hooks.html" if hook is None else "webhooks/hook.html", context=context,
                    status_code=status)


@get(BASE, **ADMIN)
async def webhooks_page(project: Project) -> Template:
    return await _page(project)


@post(BASE, **ADMIN, opt={"audit": "webhook.create"})
async def webhook_add(request: Request, project: Project) -> Template:
    """The new webhook's page, with its secret shown this once (not in a redirect's URL)."""
    form = await request.form()
    try:
        hook, secret = await service.create_webhook(user_of(request), project, service.from_form(form))
    except InputError as exc:
        return await _page(project, status=400, errors=exc.errors, values=form)
    audit.note(request, f"Added webhook {hook.id} ({hook.url})")
    return await _page(project, hook, status=201, secret=secret)


@get(BASE + "/{webhook_id:int}", **ADMIN)
async def webhook_page(project: Project, webhook_id: int) -> Template:
    return await _page(project, await _hook(project, webhook_id))


@post(BASE + "/{webhook_id:int}", **ADMIN, opt={"audit": "webhook.update"})
async def webhook_change(request: Request, project: Project, webhook_id: int) -> Template | Redirect:
    hook = await _hook(project, webhook_id)
    try:
        hook = await service.update_webhook(hook, service.from_form(await request.form()))
    except InputError as exc:
        return await _page(project, hook, status=400, errors=exc.errors)
    flash(request, "Webhook saved.", category="success")
    return Redirect(f"/projects/{project.id}/webhooks/{hook.id}")


@post(BASE + "/{webhook_id:int}/delete", **ADMIN, opt={"audit": "webhook.delete"})
async def webhook_remove(request: Request, project: Project, webhook_id: int) -> Redirect:
    hook = await _hook(project, webhook_id)
    await service.delete_webhook(hook)
    audit.note(request, f"Removed webhook {hook.id} ({hook.url})")
    flash(request, f"Webhook to {hook.url} removed.", category="success")
    return Redirect(f"/projects/{project.id}/webhooks")


@post(BASE + "/{webhook_id:int}/rotate", **ADMIN, opt={"audit": "webhook.rotate"})
async def webhook_new_secret(request: Request, project: Project, webhook_id: int) -> Template:
    hook, secret = await service.rotate_secret(await _hook(project, webhook_id))
    audit.note(request, f"New secret for webhook {hook.id}")
    return await _page(project, hook, secret=secret)


@post(BASE + "/{webhook_id:int}/redeliver", **ADMIN, opt={"audit": "webhook.redeliver"})
async def webhook_send_again(request: Request, project: Project, webhook_id: int) -> Template | Redirect:
    hook = await _hook(project, webhook_id)
    try:
        again = await service.redeliver(hook, id_or_none((await request.form()).get("delivery")))
    except InputError as exc:
        return await _page(project, hook, status=400, errors=exc.errors)
    flash(request, f"Delivery queued again (new delivery {again['id']}).", category="success")
    return Redirect(f"/projects/{project.id}/webhooks/{hook.id}#deliveries")


ROUTES = [webhooks_page, webhook_add, webhook_page, webhook_change, webhook_remove, webhook_new_secret,
          webhook_send_again]
