"""What goes over the wire for imports: the options of the query string, Label Studio's import
report, and the 400 that lists what stopped an import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.clock import iso
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
            "background": flag(query.get("background", ""))}


def report_json(report: Report, uploaded: list[FileUpload], want_ids: bool) -> dict[str, Any]:
    out = {"task_count": report.task_count, "annotation_count": report.annotation_count,
           "prediction_count": report.prediction_count, "duration": report.duration,
           "file_upload_ids": [u.id for u in uploaded], "could_be_tasks_list": False,
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
            "warnings": result.get("warnings", []), "could_be_tasks_list": False, "commit_to_project": True,
            "return_task_ids": bool(options.get("return_task_ids")),
            "preannotated_from_fields": options.get("preannotated_from_fields", []),
            "progress": job.progress, "total": job.total, "created_at": iso(job.created_at),
            "updated_at": iso(job.finished_at or job.started_at or job.created_at), "finished_at": iso(job.finished_at)}
