"""Importing a project's stored uploads, as the API, the project page and the import job do: each
file becomes a source, a refused import keeps none of its files, a large one refreshes the
database's statistics, and imported annotations get their agreement computed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app import jobs
from app.agreement import store as agreement
from app.data_import.readers import format_of
from app.data_import.service import Report, Source, imported_from, previous_upload, run_import
from app.db import analyze
from app.tables import FileUpload, Job, Project
from app.uploads import service as uploads

BULK = 10_000  # tasks: an import this large refreshes PostgreSQL's statistics


def source_of(upload: FileUpload) -> Source:
    return Source(upload.original_name, format_of(upload.original_name), path=uploads.path_of(upload),
                  upload_id=upload.id, url=uploads.url_of(upload))


async def sources_for(uploaded: list[FileUpload]) -> tuple[list[Source], list[str]]:
    sources, warnings = [], []
    for upload in uploaded:
        sources.append(source_of(upload))
        earlier = await previous_upload(upload.project, upload.sha256, upload.id)
        if earlier is not None:
            warnings.append(f"{upload.original_name} has the same content as {earlier.original_name}, imported on "
                            f"{earlier.created_at:%Y-%m-%d %H:%M}: its tasks are now in the project twice.")
    return sources, warnings


async def import_now(project: Project, user_id: int, uploaded: list[FileUpload], options: dict,
                     progress: Callable[[int, int], Awaitable[None]] | None = None) -> Report:
    sources, warnings = await sources_for(uploaded)
    try:
        report = await run_import(project, user_id, sources, options, progress)
    except BaseException:
        await uploads.forget(uploaded)  # a refused (or failed) import keeps no files
        raise
    report.warnings = warnings + report.warnings
    if report.task_count >= BULK:
        await analyze("lw_task", "lw_annotation")
    if report.annotation_count:
        # imported annotations need their agreement computed: a job, as an import may be large
        await agreement.rescore(project.id, user_id)
    return report


async def queue_import(project: Project, user_id: int, uploaded: list[FileUpload], options: dict[str, Any]) -> Job:
    return await jobs.enqueue("import", project_id=project.id, user_id=user_id,
                              params={"upload_ids": [u.id for u in uploaded], "options": options})


async def background_import(project_id: int, job_id: int) -> Job | None:
    """A background import of the project, by its job's id (Label Studio's import id)."""
    job = await jobs.get(job_id, project_id)
    return job if job is not None and job.kind == "import" else None


async def import_job(job: Job, progress: Callable[[int, int], Awaitable[None]]) -> tuple[Report, list[FileUpload]]:
    """What the import job does: the files it was given, imported with progress."""
    project = await Project.objects().where(Project.id == job.project).first()
    uploaded = await uploads.stored_uploads(job.params["upload_ids"])
    already = await imported_from(project.id, [u.id for u in uploaded])
    if already:  # an earlier attempt published them, then its process died before the job was done
        return Report(task_count=already, warnings=[
            f"These files were imported by an earlier attempt ({already:,} tasks), which was stopped before it "
            "could say so: they were not imported again."]), uploaded
    return await import_now(project, job.created_by, uploaded, job.params.get("options", {}), progress), uploaded
