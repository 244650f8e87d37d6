"""Label Studio's import endpoint: POST /api/projects/{id}/import (a JSON body, multipart files,
or one raw file streamed), imported at once or by a background job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException

from app import idempotency, jobs
from app.auth import require_admin, user_of
from app.data_import import from_uploads
from app.data_import.schemas import failure_json, import_status_json, options_from, reimport_from, report_json
from app.data_import.service import ImportFailed
from app.errors import InputError
from app.uploads import service as uploads
from app.web import both

if TYPE_CHECKING:
    from app.tables import FileUpload, Project


async def receive_files(request: Request, project_id: int, user_id: int) -> list[FileUpload]:
    """Store what the request carries: a JSON body, multipart files, or a raw file (?filename=)."""
    kind = request.content_type[0]
    if kind == "application/json":
        return [await uploads.save(project_id, user_id, "request-body.json", request.stream())]
    if kind == "multipart/form-data":
        form = await request.form()
        files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
        if not files:
            raise InputError({"file": ["The form carries no files."]})
        return await uploads.save_all(project_id, user_id, files)
    name = request.query_params.get("filename", "")
    if not name:
        raise InputError({"file": ["Send JSON, multipart files, or a raw file with ?filename=tasks.jsonl."]})
    return [await uploads.save(project_id, user_id, name, request.stream())]


@post(both("/api/projects/{project_id:int}/import"), guards=[require_admin],
      request_max_body_size=None, opt={"audit": "tasks.import"})  # uploads stream to disk; the size limit is checked as they arrive
async def project_import(request: Request, project: Project) -> Response:
    """With an Idempotency-Key, the key is claimed once the files are stored (their hashes stand for
    the body) and answered when the import is (see app/idempotency.py); a replay keeps no files."""
    options, user_id = options_from(request.query_params), user_of(request).id
    uploaded = await receive_files(request, project.id, user_id)
    return await idempotency.once_claimed(request, lambda: import_uploads(project, user_id, uploaded, options),
                                          fingerprint=[f"{u.original_name}:{u.sha256}" for u in uploaded],
                                          unused=lambda: uploads.forget(uploaded))


async def import_uploads(project: Project, user_id: int, uploaded: list[FileUpload], options: dict) -> Response:
    """The stored files imported now (201, or 400 with the problems) or by a job (202); only kept and
    counted with `commit_to_project=false` (201)."""
    if not options.pop("commit_to_project"):
        report = await from_uploads.read_only(project, user_id, uploaded)
        return Response(report_json(report, uploaded, False, committed=False), status_code=201)
    if options.pop("background"):
        job = await from_uploads.queue_import(project, user_id, uploaded, options)
        # "import": Label Studio's import id, which SDK 2.x polls (tasks.create_many_status)
        return Response({**jobs.job_json(job), "import": job.id, "file_upload_ids": [u.id for u in uploaded]},
                        status_code=202)
    try:
        report = await from_uploads.import_now(project, user_id, uploaded, options)
    except ImportFailed as exc:
        return Response(failure_json(exc.report), status_code=400)
    return Response(report_json(report, uploaded, options["return_task_ids"]), status_code=201)


@get(both("/api/projects/{project_id:int}/imports/{import_id:int}"), guards=[require_admin])
async def import_status(project: Project, import_id: int) -> dict[str, Any]:
    """Label Studio's import status: here a background import (`?background=1`), by its job's id."""
    job = await from_uploads.background_import(project.id, import_id)
    if job is None:
        raise NotFoundException(f"No background import with id {import_id} in this project")
    return import_status_json(job)


@post(both("/api/projects/{project_id:int}/reimport"), guards=[require_admin], opt={"audit": "tasks.import"})
async def project_reimport(request: Request, project: Project, data: Any = None) -> Response:
    """Label Studio's reimport: stored uploads made into tasks again; `files_as_tasks_list: false` makes
    each CSV/TSV/TXT one task (a time series). No ids: 204, as Label Studio answers."""
    upload_ids, options = reimport_from(data)
    if not upload_ids:
        return Response(None, status_code=204)
    try:
        report = await from_uploads.reimport(project, user_of(request).id, upload_ids, options)
    except ImportFailed as exc:
        return Response(failure_json(exc.report), status_code=400)
    return Response(report_json(report, await uploads.project_uploads(project.id, upload_ids), False), status_code=201)


ROUTES = [project_import, import_status, project_reimport]
