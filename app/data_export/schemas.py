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
        interpolate_key_frames=flag(query.get("interpolate_key_frames", "")),
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


# -- snapshots (Label Studio's export resource) -------------------------------------------------
CHOICES = (None, "only", "exclude")
TASK_OPTIONS = ("skipped", "finished", "annotated", "reviewed")
KINDS = ("usual", "ground_truth", "skipped")


def _bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", ""):
        return flag(value)
    raise InputError({name: ["Use true, false or null."]})


def _section(body: dict, name: str) -> dict:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError({name: ["Send an object."]})
    return value


def _view_id(value: Any) -> int | None:
    """task_filter_options.view: a data manager tab's id (whether it is this project's is checked by the caller)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise InputError({"task_filter_options.view": ["A view is the id of one of the project's data manager tabs."]})
    return value


def snapshot_options(body: Any, query: Any) -> dict[str, Any]:
    """Label Studio's create body (title, task_filter_options, annotation_filter_options,
    serialization_options), checked: a 400 naming the field otherwise. Defaults are Label Studio's."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise InputError({"non_field_errors": ["Send a JSON object."]})
    title = body.get("title") or ""
    if not isinstance(title, str) or len(title) > 2048:
        raise InputError({"title": ["A title is text of at most 2048 characters."]})
    tasks, annotations = _section(body, "task_filter_options"), _section(body, "annotation_filter_options")
    serialization = _section(body, "serialization_options")
    for key in TASK_OPTIONS:
        if tasks.get(key) not in CHOICES:
            raise InputError({f"task_filter_options.{key}": ["Use \"only\", \"exclude\" or null."]})
    view = _view_id(tasks.get("view"))
    only_with = _bool(tasks.get("only_with_annotations"), "task_filter_options.only_with_annotations")
    # as Label Studio: no annotation_filter_options keeps every annotation; an object keeps the
    # kinds it turns on, `usual` on unless it says otherwise
    kinds = None if body.get("annotation_filter_options") is None else {
        k: _bool(annotations.get(k, True if k == "usual" else None), f"annotation_filter_options.{k}") for k in KINDS}
    expand = {}
    for key in ("drafts", "predictions", "annotations__completed_by"):
        # absent: ids only; an object: expanded unless its only_id is true (Label Studio's default is false)
        part = serialization.get(key)
        if part is not None and not isinstance(part, dict):
            raise InputError({f"serialization_options.{key}": ["Send an object such as {\"only_id\": true}."]})
        only_id = _bool(part.get("only_id"), f"serialization_options.{key}.only_id") if isinstance(part, dict) else True
        expand[key] = {"only_id": bool(only_id)}
    # video tracks (<VideoRectangle>) get a box for every frame; other results are as they are
    frames = serialization.get("interpolate_key_frames", query.get("interpolate_key_frames", False))
    expand["interpolate_key_frames"] = bool(_bool(frames, "serialization_options.interpolate_key_frames"))
    return {"title": title,
            "task_filter_options": {"view": view, **{k: tasks.get(k) for k in TASK_OPTIONS},
                                    "only_with_annotations": bool(only_with)},
            "annotation_filter_options": kinds, "serialization_options": expand}


def snapshot_filters(options: dict[str, Any], extra: Filters, view_filters: Any = None) -> Filters:
    """The records a snapshot holds: Label Studio's options (a view's filters, given by the caller),
    and ours from the query string."""
    tasks = options["task_filter_options"]
    return dataclasses.replace(
        extra, all_tasks=True, **{k: tasks[k] for k in TASK_OPTIONS}, only_with_annotations=tasks["only_with_annotations"],
        kinds=[k for k, on in (options["annotation_filter_options"] or {}).items() if on],
        view=tasks["view"], view_filters=view_filters if tasks["view"] is not None else None)


JOB_STATUS = {"queued": "in_progress", "running": "in_progress", "done": "completed", "failed": "failed"}


def user_simple(user: dict | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user["id"], "first_name": user["first_name"], "last_name": user["last_name"],
            "email": user["email"], "avatar": None}


def snapshot_status(row: dict, job: dict | None) -> str:
    """The row's own word once it is final; before that, its job's: a job failed by the recovery
    of a stopped worker fails the snapshot with it."""
    if row["status"] in ("completed", "failed"):
        return row["status"]
    if job is None:
        return row["status"] if row["job"] is None else "failed"  # its job was deleted unfinished
    return JOB_STATUS.get(job["state"], "in_progress")


def snapshot_json(row: dict, jobs: dict[int, dict], user: dict | None, full: bool = False) -> dict[str, Any]:
    job = jobs.get(row["job"]) if row["job"] else None
    status = snapshot_status(row, job)
    finished = row["finished_at"] or (job["finished_at"] if job and status == "failed" else None)
    converted = []
    for entry in row["converted_formats"]:
        done = jobs.get(entry["id"])
        converted.append({"id": entry["id"], "status": JOB_STATUS.get(done["state"], "failed") if done else "failed",
                          "export_type": entry["export_type"],
                          "traceback": (done["error"] or None) if done else "The conversion job is gone."})
    out = {"id": row["id"], "title": row["title"], "created_by": user_simple(user),
           "created_at": row["created_at"].isoformat(), "finished_at": finished.isoformat() if finished else None,
           "status": status, "md5": row["md5"], "counters": row["counters"], "converted_formats": converted}
    if full:
        out.update({k: row["options"].get(k) for k in
                    ("task_filter_options", "annotation_filter_options", "serialization_options")})
    return out


def page_body(form: Any) -> dict[str, Any]:
    """The export card's form as Label Studio's create body: tasks without annotations only if asked."""
    return {"title": str(form.get("title", "")).strip(),
            "task_filter_options": {"only_with_annotations": not flag(form.get("download_all_tasks", ""))},
            "annotation_filter_options": {"usual": True, "ground_truth": True, "skipped": True}}
