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


# the task list page's filter builder: rows of (column, operator, value) in the query string as
# repeated fc / fo / fv, with conj; they read into Label Studio's filter language, the same one
# GET /api/tasks and the saved views take, and run through app/tasks/query.py
BUILDER_COLUMNS = {"id": "Number", "inner_id": "Number", "total_annotations": "Number",
                   "cancelled_annotations": "Number", "total_predictions": "Number", "agreement": "Number",
                   "predictions_score": "Number", "created_at": "Datetime", "updated_at": "Datetime",
                   "completed_at": "Datetime", "reviewed": "Boolean", "ground_truth": "Boolean",
                   "annotators": "List", "predictions_model_versions": "List"}
# the page's sorts and Label Studio's ordering columns
ORDERING = {"id": "tasks:inner_id", "updated": "tasks:updated_at", "annotations": "tasks:total_annotations",
            "predictions": "tasks:total_predictions"}
MAX_ROWS = 20


def _typed(value: str, kind: str, operator: str) -> Any:
    text = value.strip()
    if operator in ("in", "not_in"):
        low, _, high = text.partition("..")
        return {"min": _typed(low, kind, ""), "max": _typed(high, kind, "")}
    if operator == "empty" or kind == "Boolean":
        return text.lower() in ("true", "yes", "1", "on")
    if kind in ("Number", "List") and text:
        try:
            return float(text) if "." in text or "e" in text.lower() else int(text)
        except ValueError:
            return text  # the parser names the item
    return text


def builder_filters(pairs: list[tuple[str, str]]) -> dict[str, Any] | None:
    """The builder's rows as {"conjunction", "items"}; None when no row names a column."""
    columns = [v for k, v in pairs if k == "fc"]
    operators = [v for k, v in pairs if k == "fo"]
    values = [v for k, v in pairs if k == "fv"]
    items = []
    for column, operator, value in list(zip(columns, operators, values + [""] * len(columns)))[:MAX_ROWS]:
        if not column:
            continue
        name, _, kind = column.partition("|")
        kind = kind or BUILDER_COLUMNS.get(name, "String")
        items.append({"filter": f"filter:tasks:{name}", "operator": operator, "type": kind,
                      "value": _typed(value, kind, operator)})
    if not items:
        return None
    conjunction = dict(pairs).get("conj", "and")
    return {"conjunction": conjunction if conjunction in ("and", "or") else "and", "items": items}


def builder_rows(filters: Any) -> list[dict[str, str]]:
    """Label Studio filters (a saved view's) as the builder's rows, to show and edit them."""
    out = []
    for item in (filters or {}).get("items", []) if isinstance(filters, dict) else []:
        if not isinstance(item, dict):
            continue
        name = str(item.get("filter", "")).removeprefix("filter:tasks:")
        kind = item.get("type", "String")
        column = name if name in BUILDER_COLUMNS else f"{name}|{'Number' if kind == 'Number' else 'String'}"
        value = item.get("value")
        if isinstance(value, dict):
            value = f"{value.get('min', '')}..{value.get('max', '')}"
        elif isinstance(value, bool):
            value = "true" if value else "false"
        out.append({"column": column, "operator": str(item.get("operator", "")), "value": "" if value is None else str(value)})
    return out


def ordering_of(sort: str) -> list[str]:
    name = sort.lstrip("-")
    return [("-" if sort.startswith("-") else "") + ORDERING[name]] if name in ORDERING else []


def sort_of(ordering: Any) -> str | None:
    """A saved view's ordering as one of the page's sorts, if it is one."""
    first = ordering[0] if isinstance(ordering, list) and ordering else ordering
    if not isinstance(first, str):
        return None
    for sort, column in ORDERING.items():
        if first.lstrip("-") in (column, column.removeprefix("tasks:")):
            return ("-" if first.startswith("-") else "") + sort
    return None
