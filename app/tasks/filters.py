"""The task list's filters and sort, read from a query string: the task page, the data manager's
actions and the ML page's "retrieve for these" all select tasks the same way."""

from __future__ import annotations

from typing import Any

from app.tasks import service
from app.web import id_or_none


def list_params(query: Any) -> dict[str, Any]:
    """The filters and sort of a query string (a multi-dict); anything unknown falls back to none."""
    sort = query.get("sort", "id")
    return {"status": query.get("status", "") if query.get("status", "") in service.STATUSES else "",
            "annotator": id_or_none(query.get("annotator", "")),
            "predictions": query.get("predictions", ""), "search": query.get("q", "").strip()[:200],
            "sort": sort if sort.lstrip("-") in service.SORTS else "id"}


def filters_of(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in ("status", "annotator", "predictions", "search")}
