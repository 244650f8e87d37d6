"""The audit log: who changed what, when.

Every unsafe route declares what it is in its handler opt: `opt={"audit": "project.delete"}` for a
change the log keeps, `opt={"audit": None}` for labelling work and sign-ins, which it does not
(tests/test_admin.py fails for an unsafe route that says neither). The middleware below writes the
entry once the handler has answered with success, so a refused or failed request logs nothing.
A handler adds what the path alone cannot say (a deleted project's title, a changed role) with
`note(request, summary, **detail)`; a form error answered with a redirect calls `refused()`.
The reading side, at the end: the settings area's filters, a page of entries, and the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar.plugins.flash import flash

from app.clock import iso, now
from app.data_export.formats import formula_safe
from app.db import text_contains, write_tx
from app.errors import InputError
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
        method=method, path=path[:512], created_at=now(),
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


# reading the log

PAGE_SIZE = 100
FILTERS = ("actor", "action", "project", "since", "until", "q")
CSV_COLUMNS = ("id", "created_at", "actor_email", "actor_role", "action", "project", "target", "summary", "method", "path")
CSV_BATCH = 1000
ID = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class Filters:
    typed: dict[str, str]  # as typed, for the form and the links
    where: list[Any]  # as Piccolo conditions


def read_filters(params: Mapping[str, str]) -> Filters:
    """The query's filters; a bad id or date is a 400 naming the field."""
    typed = {key: params.get(key, "").strip() for key in FILTERS}
    where: list[Any] = []
    for key, column in (("actor", AuditEvent.actor), ("project", AuditEvent.project)):
        if typed[key]:
            if not ID.fullmatch(typed[key]):  # ASCII digits: "³".isdigit() is true
                raise InputError({key: [f"{key} must be an id (a whole number)."]})
            where.append(column == int(typed[key]))
    if typed["action"]:
        where.append(AuditEvent.action == typed["action"])
    for key, compare in (("since", AuditEvent.created_at.__ge__), ("until", AuditEvent.created_at.__lt__)):
        if typed[key]:
            try:
                day = dt.date.fromisoformat(typed[key])
                # "until" includes the day it names
                moment = dt.datetime.combine(day + dt.timedelta(days=key == "until"), dt.time(), dt.timezone.utc)
            except (ValueError, OverflowError):  # not a date, or the calendar's last day
                raise InputError({key: [f"{key} must be a date like 2026-11-28."]}) from None
            where.append(compare(moment))
    if typed["q"]:
        where.append(text_contains(["summary", "actor_email", "target"], typed["q"].replace("\x00", "")))
    return Filters(typed, where)


def _filtered(query: Any, filters: Filters) -> Any:
    return query.where(*filters.where) if filters.where else query


async def page_of(filters: Filters, page: int, size: int) -> tuple[list[dict[str, Any]], int]:
    """The entries of one page (newest first), and how many the filters select."""
    events = await _filtered(AuditEvent.select().order_by(AuditEvent.id, ascending=False), filters).offset(
        (page - 1) * size).limit(size).output(load_json=True)
    return events, await _filtered(AuditEvent.count(), filters)


async def actions() -> list[str]:
    """Every action the log holds, for the filter's choices."""
    rows = await AuditEvent.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return [row["action"] for row in rows]


async def csv_lines(filters: Filters) -> AsyncIterator[str]:
    """The selected entries as CSV, read in pages by id, so a long log streams in constant memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    last_id = None
    while True:
        query = _filtered(AuditEvent.select(*[getattr(AuditEvent, c) for c in CSV_COLUMNS]), filters)
        if last_id is not None:
            query = query.where(AuditEvent.id < last_id)
        batch = await query.order_by(AuditEvent.id, ascending=False).limit(CSV_BATCH)
        for event in batch:
            event["created_at"] = iso(event["created_at"])
            # the log quotes what people typed (titles, emails): never let a spreadsheet run it
            writer.writerow([formula_safe(event[c]) for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < CSV_BATCH:
            return
        last_id = batch[-1]["id"]
