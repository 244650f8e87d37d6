"""Label Studio's import endpoints: POST /api/projects/{id}/import (a JSON body, multipart files,
or one raw file streamed), and predictions for existing tasks."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import UploadFile

from app import jobs, uploads
from app.db import analyze
from app.auth import require_admin, user_of
from app.data_import.service import ImportFailed, Report, Source, previous_upload, run_import
from app.data_import.readers import format_of
from app.errors import InputError
from app.projects.api import both, project_or_404
from app.settings import settings
from app.tables import FileUpload, Project

TRUE = ("1", "true", "yes", "on")


def options_from(request: Request) -> dict[str, Any]:
    query = request.query_params
    fields = query.get("preannotated_from_fields", "")
    return {"return_task_ids": query.get("return_task_ids", "").lower() in TRUE,
            "attribute_unknown_authors": query.get("attribute_unknown_authors", "").lower() in TRUE,
            "preannotated_from_fields": [f.strip() for f in fields.split(",") if f.strip()],
            "background": query.get("background", "").lower() in TRUE}


async def receive_files(request: Request, project: Project) -> list[FileUpload]:
    """Store what the request carries: a JSON body, multipart files, or a raw file (?filename=)."""
    user_id = user_of(request).id
    kind = request.content_type[0]
    if kind == "application/json":
        return [await uploads.save(project.id, user_id, "request-body.json", request.stream())]
    if kind == "multipart/form-data":
        form = await request.form()
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not files:
            raise InputError({"file": ["The form carries no files."]})
        return await save_all(project, user_id, files)
    name = request.query_params.get("filename", "")
    if not name:
        raise InputError({"file": ["Send JSON, multipart files, or a raw file with ?filename=tasks.jsonl."]})
    return [await uploads.save(project.id, user_id, name, request.stream())]


async def save_all(project: Project, user_id: int, files: list[UploadFile]) -> list[FileUpload]:
    """Store every file, or none: a refused second file takes the first one with it."""
    saved: list[FileUpload] = []
    try:
        for f in files:
            saved.append(await uploads.save(project.id, user_id, f.filename or "upload", uploads.chunks_of(f.file)))
    except BaseException:
        await forget(saved)
        raise
    return saved


async def sources_for(uploaded: list[FileUpload]) -> tuple[list[Source], list[str]]:
    sources, warnings = [], []
    for upload in uploaded:
        fmt = format_of(upload.original_name)
        path = settings.upload_dir / upload.file
        sources.append(Source(upload.original_name, fmt, path=path, upload_id=upload.id, url=uploads.url_of(upload)))
        earlier = await previous_upload(upload.project, upload.sha256, upload.id)
        if earlier is not None:
            warnings.append(f"{upload.original_name} has the same content as {earlier.original_name}, imported on "
                            f"{earlier.created_at:%Y-%m-%d %H:%M}: its tasks are now in the project twice.")
    return sources, warnings


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


BULK = 10_000  # tasks: an import this large refreshes PostgreSQL's statistics


async def import_now(project: Project, user_id: int, uploaded: list[FileUpload], options: dict,
                     progress: Any = None) -> Report:
    sources, warnings = await sources_for(uploaded)
    try:
        report = await run_import(project, user_id, sources, options, progress)
    except BaseException:
        await forget(uploaded)  # a refused (or failed) import keeps no files
        raise
    report.warnings = warnings + report.warnings
    if report.task_count >= BULK:
        await analyze("lw_task", "lw_annotation")
    if report.annotation_count:
        # imported annotations need their agreement computed: a job, as an import may be large
        from app.agreement.jobs import rescore

        await rescore(project.id, user_id)
    return report


async def forget(uploaded: list[FileUpload]) -> None:
    """A refused import keeps nothing: neither tasks nor its files."""
    for upload in uploaded:
        (settings.upload_dir / upload.file).unlink(missing_ok=True)
    await FileUpload.delete().where(FileUpload.id.is_in([u.id for u in uploaded] or [0]))


@post(both("/api/projects/{project_id:int}/import"), guards=[require_admin],
      request_max_body_size=None, opt={"audit": "tasks.import"})  # uploads stream to disk; the size limit is checked as they arrive
async def project_import(request: Request, project_id: int) -> Response:
    project = await project_or_404(user_of(request), project_id)
    options = options_from(request)
    uploaded = await receive_files(request, project)
    if options.pop("background"):
        job = await jobs.enqueue("import", project_id=project.id, user_id=user_of(request).id,
                                 params={"upload_ids": [u.id for u in uploaded], "options": options})
        return Response(jobs.job_json(job), status_code=202)
    try:
        report = await import_now(project, user_of(request).id, uploaded, options)
    except ImportFailed as exc:
        return Response(failure_json(exc.report), status_code=400)
    return Response(report_json(report, uploaded, options["return_task_ids"]), status_code=201)


ROUTES = [project_import]
