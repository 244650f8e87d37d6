"""Uploaded files: stored in the data folder under a safe name, served only to people (and
tokens) allowed in their project, with the stored content type and no way out of the folder."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import File, Redirect
from PIL import Image, UnidentifiedImageError

from app import instance
from app.auth import user_of
from app.db import data_contains, write_tx
from app.errors import InputError
from app.projects import service as projects
from app.settings import settings
from app.tables import FileUpload

UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
STORED = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif", "BMP": "image/bmp"}
RASTER = set(IMAGE_FORMATS.values())  # shown inline; anything else (SVG, which can carry script) is a download
TEXT_TYPES = {"json": "application/json", "jsonl": "application/x-ndjson", "csv": "text/csv",
              "tsv": "text/tab-separated-values", "txt": "text/plain"}


def safe_name(name: str) -> str:
    """The base name, reduced to letters, digits, '.', '_' and '-', behind a random prefix (as Label Studio)."""
    base = UNSAFE.sub("_", os.path.basename(name.replace("\\", "/"))).strip("._") or "file"
    return f"{uuid.uuid4().hex[:8]}-{base[-120:]}"


def shown_name(name: str) -> str:
    """The name as people see it and the database keeps it: no control characters (PostgreSQL
    refuses NUL), at most 255 characters with the extension kept, as the import reads the kind of
    file from it."""
    name = CONTROL.sub("", name) or "upload"
    return name if len(name) <= 255 else name[:120] + "…" + name[-120:]


def megabytes(n: int) -> str:
    return f"{round(n / 1024 / 1024, 2):g} MB"


async def save(project_id: int, user_id: int, name: str, chunks: AsyncIterator[bytes]) -> FileUpload:
    """Write an upload to the project's folder, hashing as it goes; images are opened once to check
    them and keep their size (exports need it)."""
    folder = settings.upload_dir / str(project_id)
    folder.mkdir(parents=True, exist_ok=True)
    name, stored = shown_name(name), safe_name(name)
    path, digest, size = folder / stored, hashlib.sha256(), 0
    limit = instance.current().upload_max_bytes  # the live setting
    try:
        with open(path, "wb") as fh:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise InputError({"file": [f"{name} is larger than the upload limit of "
                                               f"{megabytes(limit)} (LABELWELL_UPLOAD_MAX_MB)."]})
                digest.update(chunk)
                fh.write(chunk)
        content_type, width, height = describe(path, name)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    upload = FileUpload(project=project_id, user=user_id, file=f"{project_id}/{stored}", original_name=name,
                        content_type=content_type, size=size, sha256=digest.hexdigest(), width=width, height=height)
    async with write_tx():
        await upload.save()
    return upload


def describe(path: Path, name: str) -> tuple[str, int | None, int | None]:
    from app.data_import.readers import format_of

    fmt = format_of(name)
    if fmt is None:
        raise InputError({"file": [f"{name}: this kind of file cannot be imported; use JSON, JSONL, CSV, TSV, TXT "
                                   "or an image (PNG, JPEG, WebP, GIF, BMP)."]})
    if fmt != "image":
        return TEXT_TYPES[fmt], None, None
    try:
        with Image.open(path) as image:
            kind, (width, height) = image.format, image.size
    except Image.DecompressionBombError:  # a header claiming billions of pixels: a memory bomb
        raise InputError({"file": [f"{name} has too many pixels to be an image we can show."]}) from None
    except (UnidentifiedImageError, OSError):
        raise InputError({"file": [f"{name} is not a readable image."]}) from None
    if kind not in IMAGE_FORMATS:
        raise InputError({"file": [f"{name} is a {kind} image; use PNG, JPEG, WebP, GIF or BMP."]})
    return IMAGE_FORMATS[kind], width, height


def url_of(upload: FileUpload) -> str:
    return f"/data/upload/{upload.file}"


async def chunks_of(fileobj, size: int = 1 << 20) -> AsyncIterator[bytes]:
    while chunk := fileobj.read(size):
        yield chunk


@get("/data/upload/{project_id:int}/{name:str}")
async def upload_serve(request: Request, project_id: int, name: str) -> File:
    # every stored name is a safe_name(): anything else (a NUL, a slash, "..") is no upload of ours
    if not STORED.fullmatch(name) or await projects.get_project(user_of(request), project_id) is None:
        raise NotFoundException("No such file")
    upload = await FileUpload.objects().where(FileUpload.file == f"{project_id}/{name}").first()
    folder = (settings.upload_dir / str(project_id)).resolve()
    path = (folder / name).resolve()
    if upload is None or path.parent != folder or not path.is_file():
        raise NotFoundException("No such file")
    return File(path=path, media_type=upload.content_type, filename=upload.original_name,
                content_disposition_type="inline" if upload.content_type in RASTER else "attachment",
                headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                         "Cache-Control": "private, max-age=3600"})


def _values(data: object) -> set[str]:
    """Every string in a task's data: the only URIs its presign link may point at."""
    if isinstance(data, str):
        return {data}
    if isinstance(data, dict):
        return set().union(*(_values(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(_values(v) for v in data)) if data else set()
    return set()


@get(["/tasks/{task_id:int}/presign", "/tasks/{task_id:int}/presign/"])
async def presign(request: Request, task_id: int) -> Redirect:
    """Where an ML backend resolves a file of a task that is not a plain upload (Label Studio's
    presign path; SDK 2.x sends the URI base64-encoded, 1.0.9 raw). Only a URI that occurs in the
    task's own data is followed, so this is no open redirect."""
    from app.tasks.service import task_in_reach

    raw = request.query_params.get("fileuri", "")
    candidates = [raw]
    try:
        candidates.append(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        pass
    found = await task_in_reach(user_of(request), task_id)
    if found is None:
        raise NotFoundException(f"No task with id {task_id}")
    uri = next((c for c in candidates if c and c in _values(found[0].data)), None)
    if uri is None:
        raise NotFoundException("This file is not part of the task's data")
    if uri.startswith(("/data/", "http://", "https://")):
        return Redirect(uri, status_code=302)
    if uri.startswith(("upload/", "/upload/")):
        return Redirect("/data/" + uri.lstrip("/"), status_code=302)
    raise NotFoundException(f"No cloud storage is connected here, so {uri.split('://')[0]}:// files cannot be "
                            "fetched through Labelwell; give the backend its own access to them")


@get(["/data/local-files", "/data/local-files/"])
async def local_file(request: Request) -> File:
    """Label Studio's local files serving: `?d=<path>` under LABELWELL_LOCAL_FILES_ROOT (off when
    unset). Admins may read any file there; others only files their projects' tasks refer to."""
    if settings.local_files_root is None:
        raise NotFoundException("Serving local files is off: set LABELWELL_LOCAL_FILES_ROOT")
    wanted = request.query_params.get("d", "")
    root = settings.local_files_root.resolve()
    path = (root / wanted.lstrip("/")).resolve() if "\x00" not in wanted else root  # no path holds a NUL
    if not wanted or not path.is_relative_to(root) or not path.is_file():
        raise NotFoundException("No such file")
    user = user_of(request)
    if user.role != "admin" and not await _referenced(user, f"/data/local-files/?d={wanted}"):
        raise NotFoundException("No such file")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return File(path=path, media_type=kind, content_disposition_type="inline" if kind in RASTER else "attachment",
                headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox",
                         "Cache-Control": "private, max-age=3600"})


async def _referenced(user: object, url: str) -> bool:
    """Whether a task in one of the user's projects names this URL (a scan of those projects' data)."""
    from app.tables import Task

    ids = await projects.visible_ids(user)
    if not ids:
        return False
    return bool(await Task.select(Task.id).where(Task.project.is_in(ids), data_contains("lw_task.data", url)).first())


ROUTES = [upload_serve, presign, local_file]
