"""The background import: files already stored, imported with progress in the Job row."""

from __future__ import annotations

from typing import Any

from app.jobs import JobFailed, handler, set_progress
from app.tables import FileUpload, Job, Project


@handler("import")
async def import_files(job: Job) -> dict[str, Any]:
    from app.data_import.api import failure_json, import_now, report_json
    from app.data_import.service import ImportFailed

    project = await Project.objects().where(Project.id == job.project).first()
    uploaded = await FileUpload.objects().where(FileUpload.id.is_in(job.params["upload_ids"] or [0]))

    async def progress(done: int, total: int) -> None:
        await set_progress(job.id, done, total)

    try:
        report = await import_now(project, job.created_by, uploaded, job.params.get("options", {}), progress)
    except ImportFailed as exc:
        raise JobFailed(f"Nothing was imported: {exc.report.error_count} problem(s) found.",
                        failure_json(exc.report)) from None
    return report_json(report, uploaded, False)
