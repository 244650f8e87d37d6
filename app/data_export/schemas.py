"""What goes over the wire for exports: the filters from a query string or a form, the same
filters kept in a job's params, and the list of formats."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from app.data_export.formats import FORMATS, available
from app.data_export.records import Filters
from app.errors import InputError
from app.web import flag, parse_ids
from components import LabelConfig


def filters_from(query: Any) -> Filters:
    """Filters from the query string (or a form): both are multi-dicts."""
    since = query.get("since")
    try:
        moment = dt.datetime.fromisoformat(since) if since else None
        if moment is not None:  # in UTC now: year 1 at +01:00 is a moment no database holds
            moment = moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError):
        raise InputError({"since": ["Use a date such as 2026-11-01 or 2026-11-01T12:00."]}) from None
    return Filters(
        all_tasks=flag(query.get("download_all_tasks", "")),
        ids=parse_ids(query.getall("ids", []) + query.getall("ids[]", []), "ids"),
        annotators=parse_ids(query.getall("annotators", []), "annotators"),
        since=moment,
        only_ground_truth=flag(query.get("only_ground_truth", "")),
        only_reviewed=flag(query.get("only_reviewed", "")),
        only_accepted=flag(query.get("only_accepted", "")),
    )


def filters_to_params(filters: Filters) -> dict[str, Any]:
    out = dataclasses.asdict(filters)
    out["since"] = filters.since.isoformat() if filters.since else None
    return out


def filters_from_params(params: dict[str, Any]) -> Filters:
    values = dict(params)
    values["since"] = dt.datetime.fromisoformat(values["since"]) if values.get("since") else None
    return Filters(**values)


def formats_json(config: LabelConfig) -> list[dict[str, Any]]:
    allowed = available(config)
    return [{"name": f.name, "title": f.title, "disabled": f not in allowed} for f in FORMATS.values()]
