"""What goes over the wire for imports: the options of the query string, Label Studio's import
report, and the 400 that lists what stopped an import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.web import flag

if TYPE_CHECKING:
    from app.data_import.service import Report
    from app.tables import FileUpload


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
