"""Label Studio's file-upload API, which both SDK generations call: a project's uploads listed
and deleted (`/api/projects/{id}/file-uploads`), one upload read, replaced or deleted
(`/api/import/file-upload/{id}`). Admins only: others get 403 on a project's list and 404 on one
upload, as for a project they cannot see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, delete, get, patch
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException

from app import audit
from app.auth import require_admin, user_of
from app.errors import InputError
from app.uploads import service as uploads
from app.uploads.schemas import body_ids, query_ids, upload_json
from app.web import both, flag

if TYPE_CHECKING:
    from app.tables import FileUpload, Project

PROJECT_UPLOADS = "/api/projects/{project_id:int}/file-uploads"
ONE_UPLOAD = "/api/import/file-upload/{upload_id:int}"
ORDERINGS = {"": False, "id": False, "created_at": False, "-id": True, "-created_at": True}


async def admins_upload(request: Request, upload_id: int) -> FileUpload:
    upload = await uploads.for_admin(user_of(request), upload_id)
    if upload is None:
        raise NotFoundException(f"No file upload with id {upload_id}")
    return upload


@get(both(PROJECT_UPLOADS), guards=[require_admin])
async def upload_list(request: Request, project: Project) -> list[dict[str, Any]]:
    """`?ids=[1,2]` picks some (Label Studio lists only those, or all with `?all=true`); no ids: all."""
    query = request.query_params
    ids = None if flag(query.get("all", "")) else query_ids(query.getall("ids", []))
    ordering = query.get("ordering", "")
    if ordering not in ORDERINGS:
        raise InputError({"ordering": [f"ordering is one of {', '.join(o for o in ORDERINGS if o)}."]})
    return [upload_json(u) for u in await uploads.project_uploads(project.id, ids, ORDERINGS[ordering])]


@delete(both(PROJECT_UPLOADS), guards=[require_admin], status_code=200, opt={"audit": "uploads.delete"})
async def upload_delete_many(request: Request, project: Project) -> dict[str, int]:
    """Body `{"file_upload_ids": [...]}`; no body deletes every upload of the project, as in Label Studio."""
    deleted = await uploads.delete_uploads(project.id, body_ids(await request.body()))
    audit.note(request, f"Deleted {deleted} uploaded file(s)", deleted=deleted)
    return {"deleted": deleted}


@get(both(ONE_UPLOAD))
async def upload_detail(request: Request, upload_id: int) -> dict[str, Any]:
    return upload_json(await admins_upload(request, upload_id))


@patch(both(ONE_UPLOAD), request_max_body_size=None, opt={"audit": "uploads.replace"})
async def upload_replace(request: Request, upload_id: int) -> dict[str, Any]:
    """A multipart `file` replaces the content (the size limit is checked as it is written)."""
    upload = await admins_upload(request, upload_id)
    sent = (await request.form()).get("file") if request.content_type[0] == "multipart/form-data" else None
    if not isinstance(sent, UploadFile):
        raise InputError({"file": ["Send the new content as a multipart field named file."]})
    replaced = await uploads.replace(upload, sent.filename or upload.original_name, uploads.chunks_of(sent.file))
    if replaced is None:
        raise NotFoundException(f"No file upload with id {upload_id}")
    audit.note(request, f"Replaced the content of {upload.original_name} with {replaced.original_name}",
               project=upload.project)
    return upload_json(replaced)


@delete(both(ONE_UPLOAD), status_code=204, opt={"audit": "uploads.delete"})
async def upload_delete(request: Request, upload_id: int) -> None:
    upload = await admins_upload(request, upload_id)
    await uploads.delete_uploads(upload.project, [upload.id])
    audit.note(request, f"Deleted the uploaded file {upload.original_name}", project=upload.project)


ROUTES = [upload_list, upload_delete_many, upload_detail, upload_replace, upload_delete]
