"""Serving files: stored uploads (only in a project the user may see), a task's files through
Label Studio's resolver (the browser's way to a storage's objects, and an ML backend's), and local
files under LABELWELL_LOCAL_FILES_ROOT."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response, Stream

from app.auth import user_of
from app.settings import settings
from app.storages import resolve
from app.storages.faults import StorageError
from app.uploads import service as uploads
from app.uploads.ranges import ranged_file, stored_file
from app.web import both

if TYPE_CHECKING:
    from app.tables import Project, Task

# what a served file may not do: be sniffed into something else, run script, be cached by others
SERVED = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "private, max-age=3600"}


@get("/data/upload/{project_id:int}/{name:str}")
async def upload_serve(request: Request, project_id: int, name: str) -> Response:
    """The file, or the byte range a `Range` header asks for (206), so audio and video seek."""
    upload = await uploads.served(user_of(request), project_id, name)
    if upload is None:
        raise NotFoundException("No such file")
    return await stored_file(upload.file, request.headers.get("range"), request.headers.get("if-range"),
                             upload.content_type, upload.content_type in uploads.INLINE, dict(SERVED),
                             upload.original_name, version=upload.sha256)


@get("/data/upload/{project_id:int}/{name:str}/peaks")
async def upload_peaks(request: Request, project_id: int, name: str) -> Response:
    """An audio upload's waveform peaks (app/uploads/waveform.py), with the upload's own access rules;
    a versioned address (`?v=`, as the workspace gives it) is cached for good."""
    found = await uploads.served_peaks(user_of(request), project_id, name)
    if found is None:
        raise NotFoundException("No waveform for this file (not computed yet, or not an audio upload)")
    cache = "private, max-age=31536000, immutable" if request.query_params.get("v") else "no-store"
    return await stored_file(found[0], None, None, "application/octet-stream", False,
                             {**SERVED, "Cache-Control": cache}, through=True)


@get("/data/upload/{project_id:int}/{name:str}/spectrogram")
async def upload_spectrogram(request: Request, project_id: int, name: str) -> Response:
    """An audio upload's spectrogram (a PNG the worker draws when it is first asked for: 404 until then)."""
    found = await uploads.served_spectrogram(user_of(request), project_id, name)
    if found is None:
        raise NotFoundException("No spectrogram for this file (being drawn, or not an audio upload)")
    return await stored_file(found[0], None, None, "image/png", True, {**SERVED, "Cache-Control": "private, max-age=3600"},
                             through=True)


@get("/data/upload/{project_id:int}/{name:str}/pages/{page:int}")
async def upload_pdf_page(request: Request, project_id: int, name: str, page: int) -> Response:
    """Page `page` (1-based) of a PDF upload as a PNG the worker rendered, with the upload's own access
    rules: 404 until it is rendered (the workspace retries)."""
    found = await uploads.served_pdf_page(user_of(request), project_id, name, page, words=False)
    if found is None:
        raise NotFoundException("No such page (being rendered, or not a PDF upload)")
    return await stored_file(found[0], None, None, "image/png", True, {**SERVED, "Cache-Control": "private, max-age=86400"},
                             version=found[1])


@get("/data/upload/{project_id:int}/{name:str}/pages/{page:int}/text")
async def upload_pdf_text(request: Request, project_id: int, name: str, page: int) -> Response:
    """The words of a PDF upload's page with their boxes (fractions 0-1 of the page), for OCR text capture."""
    found = await uploads.served_pdf_page(user_of(request), project_id, name, page, words=True)
    if found is None:
        raise NotFoundException("No text for this page (being rendered, or not a PDF upload)")
    return await stored_file(found[0], None, None, "application/json", False,
                             {**SERVED, "Cache-Control": "private, max-age=86400"}, through=True)


@get([*both("/tasks/{task_id:int}/resolve"), *both("/tasks/{task_id:int}/presign")])
async def presign(request: Request, api_task: tuple[Task, Project]) -> Response:
    """Label Studio's resolver (and its older name, which ML backends call): a file the task's own
    data names, so this is no open redirect. An upload or a URL: a redirect to it; an object of a
    connected storage: a redirect to a presigned URL, or the object streamed (presign off)."""
    uri = uploads.uri_in(api_task[0].data, request.query_params.get("fileuri", ""))
    if uri is None:
        raise NotFoundException("This file is not part of the task's data")
    url = uploads.fetchable(uri)
    if url is not None:
        return Redirect(url, status_code=302)
    return await storage_object(api_task[1].id, uri, request.headers.get("range"))


async def storage_object(project_id: int, uri: str, byte_range: str | None) -> Response:
    try:
        found = await resolve.answer(project_id, uri, byte_range)
    except StorageError as exc:
        return Response({"error": "Storage stream failed while proxying data", "detail": str(exc)}, status_code=424)
    if found is None:
        raise NotFoundException(f"No storage of this project holds {uri.split('://')[0]}:// files like this one; "
                                "connect its bucket on the project's Storage page")
    if found.redirect:
        return Redirect(found.redirect, status_code=303,
                        headers={"Cache-Control": f"no-store, max-age={found.seconds}"})
    return Stream(found.chunks, status_code=found.status, headers={**found.headers, **SERVED,
                                                                   "Cache-Control": "private, max-age=3600, must-revalidate"})


@get(both("/data/local-files"))
async def local_file(request: Request) -> Response:
    """Label Studio's local files serving: `?d=<path>` under LABELWELL_LOCAL_FILES_ROOT (off when
    unset). Admins may read any file there; others only files their projects' tasks refer to."""
    if settings.local_files_root is None:
        raise NotFoundException("Serving local files is off: set LABELWELL_LOCAL_FILES_ROOT")
    path = await uploads.local_file(user_of(request), request.query_params.get("d", ""))
    if path is None:
        raise NotFoundException("No such file")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return ranged_file(path, request.headers.get("range"), request.headers.get("if-range"), kind,
                       kind in uploads.INLINE, dict(SERVED))


ROUTES = [upload_serve, upload_peaks, upload_spectrogram, upload_pdf_page, upload_pdf_text, presign, local_file]
