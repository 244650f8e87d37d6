"""The audit log for scripts (a SIEM, a nightly copy): Label Studio's pagination, newest first."""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from app import audit
from app.auth import require_admin
from app.clock import iso
from app.pagination import page_params, paginated


@get(["/api/audit", "/api/audit/"], guards=[require_admin])
async def audit_log_api(request: Request) -> dict[str, Any]:
    filters = audit.read_filters(request.query_params)
    page, size = page_params(request, audit.PAGE_SIZE)
    events, count = await audit.page_of(filters, page, size)
    return paginated(request, [{**event, "created_at": iso(event["created_at"])} for event in events],
                     count, page, size)


ROUTES = [audit_log_api]
