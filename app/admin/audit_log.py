"""The settings area's audit log: filter it on the page, take it away as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Stream, Template

from app.auth import require_admin
from app.data_export.formats import formula_safe
from app.db import text_contains
from app.errors import InputError
from app.pagination import page_params, paginated
from app.tables import AuditEvent

PAGE_SIZE = 100
CSV_COLUMNS = ("id", "created_at", "actor_email", "actor_role", "action", "project", "target", "summary", "method", "path")


def filters(request: Request) -> tuple[list[Any], dict[str, str]]:
    """The query's filters as Piccolo conditions, and as typed (for the form and the links)."""
    typed = {key: request.query_params.get(key, "").strip() for key in ("actor", "action", "project", "since", "until", "q")}
    conditions: list[Any] = []
    for key, column in (("actor", AuditEvent.actor), ("project", AuditEvent.project)):
        if typed[key]:
            if not re.fullmatch(r"[0-9]{1,9}", typed[key]):  # ASCII digits: "³".isdigit() is true
                raise InputError({key: [f"{key} must be an id (a whole number)."]})
            conditions.append(column == int(typed[key]))
    if typed["action"]:
        conditions.append(AuditEvent.action == typed["action"])
    for key, compare in (("since", AuditEvent.created_at.__ge__), ("until", AuditEvent.created_at.__lt__)):
        if typed[key]:
            try:
                day = dt.date.fromisoformat(typed[key])
                # "until" includes the day it names
                moment = dt.datetime.combine(day + dt.timedelta(days=key == "until"), dt.time(), dt.timezone.utc)
            except (ValueError, OverflowError):  # not a date, or the calendar's last day
                raise InputError({key: [f"{key} must be a date like 2026-11-28."]}) from None
            conditions.append(compare(moment))
    if typed["q"]:
        conditions.append(text_contains(["summary", "actor_email", "target"], typed["q"].replace("\x00", "")))
    return conditions, typed


def filtered(query: Any, conditions: list[Any]) -> Any:
    return query.where(*conditions) if conditions else query


async def one_page(request: Request) -> tuple[dict[str, str], list[dict[str, Any]], int, int, int]:
    """The filters as typed, the page of entries they select (newest first), their count, page, size."""
    conditions, typed = filters(request)
    page, size = page_params(request, PAGE_SIZE)
    events = await filtered(AuditEvent.select().order_by(AuditEvent.id, ascending=False), conditions).offset(
        (page - 1) * size).limit(size).output(load_json=True)
    return typed, events, await filtered(AuditEvent.count(), conditions), page, size


@get("/settings/audit", guards=[require_admin])
async def audit_log(request: Request) -> Template:
    typed, events, count, page, size = await one_page(request)
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action).distinct().order_by(AuditEvent.action)]
    query = urlencode({k: v for k, v in typed.items() if v})
    context = {"section": "audit", "events": events, "count": count, "page": page, "pages": max(1, -(-count // size)),
               "typed": typed, "actions": actions, "query": query}
    return Template("admin/audit.html", context=context)


@get(["/api/audit", "/api/audit/"], guards=[require_admin])
async def audit_log_api(request: Request) -> dict[str, Any]:
    """The same log for scripts (a SIEM, a nightly copy): Label Studio's pagination, newest first."""
    _, events, count, page, size = await one_page(request)
    for event in events:
        event["created_at"] = event["created_at"].isoformat()
    return paginated(request, events, count, page, size)


@get("/settings/audit.csv", guards=[require_admin])
async def audit_log_csv(request: Request) -> Stream:
    conditions, typed = filters(request)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        last_id = None
        while True:  # in pages by id, so a long log streams in constant memory
            query = filtered(AuditEvent.select(*[getattr(AuditEvent, c) for c in CSV_COLUMNS]), conditions)
            if last_id is not None:
                query = query.where(AuditEvent.id < last_id)
            batch = await query.order_by(AuditEvent.id, ascending=False).limit(1000)
            for event in batch:
                event["created_at"] = event["created_at"].isoformat()
                # the log quotes what people typed (titles, emails): never let a spreadsheet run it
                writer.writerow([formula_safe(event[c]) for c in CSV_COLUMNS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(batch) < 1000:
                return
            last_id = batch[-1]["id"]

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Stream(rows(), media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": f'attachment; filename="labelwell-audit-{stamp}.csv"'})


ROUTES = [audit_log, audit_log_api, audit_log_csv]
