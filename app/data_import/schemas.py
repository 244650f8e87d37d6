"""What goes over the wire for imports: the options of the query string, Label Studio's import
report, and the 400 that lists what stopped an import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.clock import iso
from app.data_import.readers import format_of
from app.errors import InputError
from app.web import flag

if TYPE_CHECKING:
    from app.data_import.service import Report
    from app.tables import FileUpload, Job

# a Job's state as Label Studio's ProjectImport status
IMPORT_STATUS = {"queued": "created", "running": "in_progress", "done": "completed", "failed": "failed"}


def options_from(query: Any) -> dict[str, Any]:
    fields = query.get("preannotated_from_fields", "")
    return {"return_task_ids": flag(query.get("return_task_ids", "")),
            "attribute_unknown_authors": flag(query.get("attribute_unknown_authors", "")),
            "preannotated_from_fields": [f.strip() for f in fields.split(",") if f.strip()],
            "background": flag(query.get("background", "")),
            "commit_to_project": flag(query.get("commit_to_project", "true"))}


def reimport_from(body: Any) -> tuple[list[int], dict[str, Any]]:
    """The body of POST /api/projects/{id}/reimport: the uploads' ids and `files_as_tasks_list`."""
    body = body if isinstance(body, dict) else {}
    ids = body.get("file_upload_ids") or []
    if not isinstance(ids, list) or not all(type(i) is int and 0 < i < 2**63 for i in ids):
        raise InputError({"file_upload_ids": ["Must be a list of upload ids (numbers)."]})
    return ids, {"files_as_tasks_list": flag(body.get("files_as_tasks_list", True)), "return_task_ids": False}


def could_be_tasks_list(uploaded: list[FileUpload]) -> bool:
    """Label Studio's hint that a file may be read either way: a list of tasks, or one task (a time series)."""
    return any(format_of(u.original_name) in ("csv", "tsv", "txt") for u in uploaded)


def report_json(report: Report, uploaded: list[FileUpload], want_ids: bool, committed: bool = True) -> dict[str, Any]:
    out = {"task_count": report.task_count, "annotation_count": report.annotation_count if committed else None,
           "prediction_count": report.prediction_count if committed else None, "duration": report.duration,
           "file_upload_ids": [u.id for u in uploaded], "could_be_tasks_list": could_be_tasks_list(uploaded),
           "found_formats": sorted({u.original_name.rsplit(".", 1)[-1].lower() for u in uploaded}),
           "data_columns": [], "warnings": report.warnings}
    if want_ids:
        out["task_ids"] = report.task_ids
    return out


def failure_json(report: Report) -> dict[str, Any]:
    listed = report.errors + ([f"… and {report.error_count - len(report.errors)} more"]
                              if report.error_count > len(report.errors) else [])
    return {"status_code": 400, "detail": f"Nothing was imported: {report.error_count} problem(s) found.",
            "validation_errors": {"import": listed}, "error_count": report.error_count}


def import_status_json(job: Job) -> dict[str, Any]:
    """Label Studio's ProjectImport for a background import (its id is the job's): counts and task
    ids once completed, the job's error and the problems it found once failed."""
    result, options = job.result or {}, job.params.get("options", {})
    problems = result.get("validation_errors", {}).get("import", []) if job.state == "failed" else []
    return {"id": job.id, "project": job.project, "status": IMPORT_STATUS.get(job.state, job.state),
            "error": "\n".join([job.error, *problems]) if job.state == "failed" else None,
            "task_count": result.get("task_count", 0), "annotation_count": result.get("annotation_count", 0),
            "prediction_count": result.get("prediction_count", 0),
            "duration": round(result.get("duration", 0)),  # whole seconds, as Label Studio keeps it
            "file_upload_ids": job.params.get("upload_ids", []), "found_formats": result.get("found_formats", []),
            "data_columns": result.get("data_columns", []), "task_ids": result.get("task_ids", []),
            "warnings": result.get("warnings", []), "could_be_tasks_list": result.get("could_be_tasks_list", False),
            "commit_to_project": True,
            "return_task_ids": bool(options.get("return_task_ids")),
            "preannotated_from_fields": options.get("preannotated_from_fields", []),
            "progress": job.progress, "total": job.total, "created_at": iso(job.created_at),
            "updated_at": iso(job.finished_at or job.started_at or job.created_at), "finished_at": iso(job.finished_at)}
