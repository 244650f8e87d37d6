"""The audit log: who changed what, when.

Every unsafe route declares what it is in its handler opt: `opt={"audit": "project.delete"}` for a
change the log keeps, `opt={"audit": None}` for labelling work and sign-ins, which it does not
(tests/test_admin.py fails for an unsafe route that says neither). The middleware below writes the
entry once the handler has answered with success, so a refused or failed request logs nothing.
A handler adds what the path alone cannot say (a deleted project's title, a changed role) with
`note(request, summary, **detail)`; a form error answered with a redirect calls `refused()`."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from litestar.plugins.flash import flash

from app.db import write_tx
from app.tables import AuditEvent

if TYPE_CHECKING:
    from litestar import Request
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("labelwell.audit")
STATE_KEY = "audit"
# path parameters that name the thing acted on, most specific first
TARGETS = ("annotation_id", "prediction_id", "task_id", "backend_id", "job_id", "user_id", "project_id")


def note(request: Request, summary: str, project: int | None = None, action: str | None = None, **detail: Any) -> None:
    """What the entry for this request should say beyond its route and ids: the project when the
    path does not name it, and a more precise action when one route does several things."""
    request.scope.setdefault("state", {})[STATE_KEY] = {"summary": summary, "project": project, "action": action,
                                                        "detail": detail}


def note_changes(request: Request, subject: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """An update's entry: each field that moved, from what to what."""
    changed = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    note(request, f"Updated {subject}" + "".join(f"; {k}: {a} → {b}" for k, (a, b) in changed.items()), changed=changed)


def refused(request: Request, message: str) -> None:
    """A form error shown by a redirect, not a 4xx: the user reads why, the log keeps nothing."""
    flash(request, message, category="error")
    request.scope.setdefault("state", {})[STATE_KEY] = {"cancelled": True}


def action_of(scope: Scope) -> str | None:
    handler = scope.get("route_handler")
    return (handler.opt or {}).get("audit") if handler is not None else None


async def record(actor: Any, action: str, *, project: int | None = None, target: str = "", summary: str = "",
                 detail: dict[str, Any] | None = None, method: str = "", path: str = "") -> None:
    event = AuditEvent(
        actor=getattr(actor, "id", None), actor_email=getattr(actor, "email", ""), actor_role=getattr(actor, "role", ""),
        action=action, project=project, target=target, summary=summary[:2000], detail=detail or {},
        method=method, path=path[:512], created_at=dt.datetime.now(dt.timezone.utc),
    )
    async with write_tx():
        await event.save()


def target_of(params: dict[str, Any]) -> str:
    for name in TARGETS:
        if name in params:
            return f"{name.removesuffix('_id')} {params[name]}"
    return ""


class AuditMiddleware:
    """Records the audited routes' successful answers (inside auth, so the actor is known)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS") or not action_of(scope):
            await self.app(scope, receive, send)
            return

        async def capture(message: Message) -> None:
            # written before the answer leaves, so whoever reads the log next finds the entry
            if message["type"] == "http.response.start" and message["status"] < 400:
                await self._write(scope)
            await send(message)

        await self.app(scope, receive, capture)

    @staticmethod
    async def _write(scope: Scope) -> None:
        params = scope.get("path_params") or {}
        extra = (scope.get("state") or {}).get(STATE_KEY) or {}
        if extra.get("cancelled"):
            return
        try:
            await record(scope.get("user"), extra.get("action") or action_of(scope), project=extra.get("project") or params.get("project_id"),
                         target=target_of(params), summary=extra.get("summary", ""), detail=extra.get("detail"),
                         method=scope["method"], path=scope["path"])
        except Exception:  # the change itself is done; a lost entry must not turn it into an error
            log.exception("could not write the audit entry for %s %s", scope["method"], scope["path"])
