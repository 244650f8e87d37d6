"""Serving files: stored uploads (only in a project the user may see), a task's files for an ML
backend (Label Studio's presign path), and local files under LABELWELL_LOCAL_FILES_ROOT."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Response

from app.auth import user_of
from app.settings import settings
from app.uploads import service as uploads
from app.uploads.ranges import ranged_file
from app.web import both

if TYPE_CHECKING:
    from app.tables import Project, Task

# what a served file may not do: be sniffed into something else, run script, be cached by others
SERVED = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox", "Cache-Control": "private, max-age=3600"}


@get("/data/upload/{project_id:int}/{name:str}")
async def upload_serve(request: Request, project_id: int, name: str) -> Response:
    """The file, or the byte range a `Range` header asks for (206), so audio and video seek."""
    found = await uploads.served(user_of(request), project_id, name)
    if found is None:
        raise NotFoundException("No such file")
    upload, path = found
    return ranged_file(path, request.headers.get("range"), request.headers.get("if-range"), upload.content_type,
                       upload.content_type in uploads.INLINE, dict(SERVED), upload.original_name)


@get("/data/upload/{project_id:int}/{name:str}/peaks")
async def upload_peaks(request: Request, project_id: int, name: str) -> Response:
    """An audio upload's waveform peaks (app/uploads/waveform.py), with the upload's own access rules;
    a versioned address (`?v=`, as the workspace gives it) is cached for good."""
    path = await uploads.served_peaks(user_of(request), project_id, name)
    if path is None:
        raise NotFoundException("No waveform for this file (not computed yet, or not an audio upload)")
    cache = "private, max-age=31536000, immutable" if request.query_params.get("v") else "no-store"
    return ranged_file(path, None, None, "application/octet-stream", False, {**SERVED, "Cache-Control": cache})


@get("/data/upload/{project_id:int}/{name:str}/spectrogram")
async def upload_spectrogram(request: Request, project_id: int, name: str) -> Response:
    """An audio upload's spectrogram (a PNG the worker draws when it is first asked for: 404 until then)."""
    path = await uploads.served_spectrogram(user_of(request), project_id, name)
    if path is None:
        raise NotFoundException("No spectrogram for this file (being drawn, or not an audio upload)")
    return ranged_file(path, None, None, "image/png", True, {**SERVED, "Cache-Control": "private, max-age=3600"})


@get("/data/upload/{project_id:int}/{name:str}/pages/{page:int}")
async def upload_pdf_page(request: Request, project_id: int, name: str, page: int) -> Response:
    """Page `page` (1-based) of a PDF upload as a PNG the worker rendered, with the upload's own access
    rules: 404 until it is rendered (the workspace retries)."""
    path = await uploads.served_pdf_page(user_of(request), project_id, name, page, words=False)
    if path is None:
        raise NotFoundException("No such page (being rendered, or not a PDF upload)")
    return ranged_file(path, None, None, "image/png", True, {**SERVED, "Cache-Control": "private, max-age=86400"})


@get("/data/upload/{project_id:int}/{name:str}/pages/{page:int}/text")
async def upload_pdf_text(request: Request, project_id: int, name: str, page: int) -> Response:
    """The words of a PDF upload's page with their boxes (fractions 0-1 of the page), for OCR text capture."""
    path = await uploads.served_pdf_page(user_of(request), project_id, name, page, words=True)
    if path is None:
        raise NotFoundException("No text for this page (being rendered, or not a PDF upload)")
    return ranged_file(path, None, None, "application/json", False, {**SERVED, "Cache-Control": "private, max-age=86400"})


@get(both("/tasks/{task_id:int}/presign"))
async def presign(request: Request, api_task: tuple[Task, Project]) -> Redirect:
    """Where an ML backend resolves a file of a task that is not a plain upload. Only a URI that
    occurs in the task's own data is followed, so this is no open redirect."""
    uri = uploads.uri_in(api_task[0].data, request.query_params.get("fileuri", ""))
    if uri is None:
        raise NotFoundException("This file is not part of the task's data")
    url = uploads.fetchable(uri)
    if url is None:
        raise NotFoundException(f"No cloud storage is connected here, so {uri.split('://')[0]}:// files cannot be "
                                "fetched through Labelwell; give the backend its own access to them")
    return Redirect(url, status_code=302)


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
