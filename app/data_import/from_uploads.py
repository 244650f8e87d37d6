"""Importing a project's stored uploads, as the API, the project page and the import job do: each
file becomes a source, a refused import keeps none of its files, a large one refreshes the
database's statistics, and imported annotations get their agreement computed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from app import jobs
from app.agreement import store as agreement
from app.data_import.readers import TABLE_FORMATS, format_of
from app.data_import.service import (Report, Source, count_items, imported_from, previous_upload, rules_for,
                                     run_import)
from app.db import analyze
from app.errors import InputError
from app.tables import FileUpload, Job, Project, Task
from app.tasks import service as tasks
from app.uploads import service as uploads

BULK = 10_000  # tasks: an import this large refreshes PostgreSQL's statistics


def source_of(upload: FileUpload, as_tasks_list: bool = True) -> Source:
    """A CSV/TSV/TXT is a list of tasks, or (`files_as_tasks_list` false, Label Studio's "Treat CSV/TSV as
    Time Series") one task whose data value is the file's address."""
    fmt = format_of(upload.original_name)
    if not as_tasks_list and fmt in (*TABLE_FORMATS, "txt"):
        fmt = "file"
    return Source(upload.original_name, fmt, file=upload.file, upload_id=upload.id,
                  url=uploads.url_of(upload))


async def sources_for(uploaded: list[FileUpload], options: dict) -> tuple[list[Source], list[str]]:
    sources, warnings = [], []
    for upload in uploaded:
        sources.append(source_of(upload, options.get("files_as_tasks_list", True)))
        earlier = await previous_upload(upload.project, upload.sha256, upload.id)
        if earlier is not None:
            warnings.append(f"{upload.original_name} has the same content as {earlier.original_name}, imported on "
                            f"{earlier.created_at:%Y-%m-%d %H:%M}: its tasks are now in the project twice.")
    return sources, warnings


async def import_now(project: Project, user_id: int, uploaded: list[FileUpload], options: dict,
                     progress: Callable[[int, int], Awaitable[None]] | None = None) -> Report:
    sources, warnings = await sources_for(uploaded, options)
    try:
        report = await run_import(project, user_id, sources, options, progress)
    except BaseException:
        await uploads.forget(uploaded)  # a refused (or failed) import keeps no files
        raise
    await uploads.announce(uploaded)  # audio: its waveform, in the worker
    report.warnings = warnings + report.warnings
    if report.task_count >= BULK:
        await analyze("lw_task", "lw_annotation")
    if report.annotation_count:
        # imported annotations need their agreement computed: a job, as an import may be large
        await agreement.rescore(project.id, user_id)
    return report


async def read_only(project: Project, user_id: int, uploaded: list[FileUpload]) -> Report:
    """`commit_to_project=false`: the files are kept and their items counted, no task is made (Label
    Studio's first step; `reimport` then makes the tasks, each CSV a list of tasks or one task)."""
    rules = await rules_for(project, user_id, {})
    return Report(task_count=count_items([source_of(u) for u in uploaded], rules))


async def reimport(project: Project, user_id: int, upload_ids: list[int], options: dict) -> Report:
    """Label Studio's reimport: the uploads' tasks made again (a CSV as a list of tasks or, with
    `files_as_tasks_list` false, one task per file); the tasks they made before go in the transaction
    that publishes the new ones, so a crash leaves the old set or the new one, never both."""
    uploaded = await uploads.project_uploads(project.id, upload_ids)
    unknown = sorted(set(upload_ids) - {u.id for u in uploaded})
    if unknown:
        raise InputError({"file_upload_ids": [f"No upload {', '.join(map(str, unknown))} in this project."]})
    before = await Task.select(Task.id).where(Task.project == project.id, Task.file_upload.is_in(upload_ids))
    sources = [source_of(u, options.get("files_as_tasks_list", True)) for u in uploaded]
    old = [row["id"] for row in before]

    async def replace() -> None:
        if old:
            await tasks.delete_tasks(project.id, old)

    report = await run_import(project, user_id, sources, options, within_publish=replace)  # a refused one keeps the files
    await uploads.announce(uploaded)
    if report.annotation_count:
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
