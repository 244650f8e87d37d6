"""The background import: files already stored, imported with progress in the Job row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.data_import import from_uploads
from app.data_import.schemas import failure_json, report_json
from app.data_import.service import ImportFailed
from app.jobs import JobFailed, handler, set_progress

if TYPE_CHECKING:
    from app.tables import Job


@handler("import")
async def import_files(job: Job) -> dict[str, Any]:
    async def progress(done: int, total: int) -> None:
        await set_progress(job.id, done, total)

    try:
        report, uploaded = await from_uploads.import_job(job, progress)
    except ImportFailed as exc:
        raise JobFailed(f"Nothing was imported: {exc.report.error_count} problem(s) found.",
                        failure_json(exc.report)) from None
    # the task ids only when asked for (?return_task_ids=1): the status of the import shows them
    return report_json(report, uploaded, bool(job.params.get("options", {}).get("return_task_ids")))
