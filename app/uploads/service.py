"""Uploaded files: stored in the data folder under a safe name, found again only for people (and
tokens) allowed in their project, with the stored content type and no way out of the folder."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from PIL import Image, UnidentifiedImageError

from app import instance
from app.data_import.readers import format_of
from app.db import data_contains, write_tx
from app.errors import InputError, Unavailable
from app.projects import service as projects
from app.settings import settings
from app.tables import FileUpload, Task
from app.uploads import media_store, mediainfo, pdf_pages, waveform

if TYPE_CHECKING:
    from litestar.datastructures import UploadFile

    from app.tables import User

log = logging.getLogger("labelwell.uploads")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
STORED = re.compile(media_store.STORED_NAME)
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif", "BMP": "image/bmp"}
RASTER = set(IMAGE_FORMATS.values())  # shown inline; anything else (SVG, which can carry script) is a download
INLINE = RASTER | set(mediainfo.MEDIA_TYPES.values()) | {"audio/x-wav"}  # played inline too: media runs no script
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
    """Write an upload to a scratch file, hashing as it goes (images are opened once to check them
    and keep their size, which exports need), then keep it in the upload store."""
    name, file = shown_name(name), f"{project_id}/{safe_name(name)}"
    kept = media_store.current()
    part = kept.scratch(file)
    try:
        described = await _write(part, name, chunks, file)
        await asyncio.to_thread(kept.put_file, file, part)
    except BaseException:
        await _remove_quietly([file])  # a PDF's manifest, written as it was checked
        raise
    finally:
        part.unlink(missing_ok=True)
    upload = FileUpload(project=project_id, user=user_id, file=file, original_name=name, **described)
    async with write_tx():
        await upload.save()
    return upload


async def announce(uploaded: list[FileUpload]) -> None:
    """Files an import kept: the audio ones get their waveform's peaks computed, once, in the worker
    (not before: a refused import deletes its files)."""
    for upload in uploaded:
        if upload.sample_rate:
            await waveform.ask(upload.file, upload.project, waveform.KIND, upload.channels)
        elif upload.content_type == "application/pdf":
            await pdf_pages.ask(upload.file, upload.project)  # its pages as pictures, page 1 first


async def _write(path: Path, name: str, chunks: AsyncIterator[bytes], file: str | None) -> dict[str, Any]:
    """The chunks written to `path` within the upload limit, and what they are (or no file and a 400)."""
    digest, size = hashlib.sha256(), 0
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
        described = await described_file(path, name, file)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return {**described, "size": size, "sha256": digest.hexdigest()}


async def described_file(path: Path, name: str, file: str | None) -> dict[str, Any]:
    """What a file about to be stored (as `file`; None for a replacement) is: its content type, and
    its size, length and frames when it has them."""
    if format_of(name) in ("audio", "video"):
        return await mediainfo.probe(path, name, name.rsplit(".", 1)[-1].lower())
    if format_of(name) == "pdf":
        return {**await pdf_pages.probe(path, name, file), **mediainfo.NO_MEDIA_INFO}
    content_type, width, height = describe(path, name)
    return {"content_type": content_type, "width": width, "height": height, **mediainfo.NO_MEDIA_INFO}


async def save_all(project_id: int, user_id: int, files: Iterable[UploadFile]) -> list[FileUpload]:
    """Store every file, or none: a refused second file takes the first one with it."""
    saved: list[FileUpload] = []
    try:
        for f in files:
            saved.append(await save(project_id, user_id, f.filename or "upload", chunks_of(f.file)))
    except BaseException:
        await forget(saved)
        raise
    return saved


async def forget(uploaded: list[FileUpload]) -> None:
    """Delete the rows and then their files (a refused import keeps nothing)."""
    await FileUpload.delete().where(FileUpload.id.is_in([u.id for u in uploaded] or [0]))
    await _remove_quietly([u.file for u in uploaded])


def describe(path: Path, name: str) -> tuple[str, int | None, int | None]:
    fmt = format_of(name)
    if fmt is None:
        raise InputError({"file": [f"{name}: this kind of file cannot be imported; use JSON, JSONL, CSV, TSV, TXT, "
                                   "an image (PNG, JPEG, WebP, GIF, BMP), audio (WAV, MP3, FLAC, OGG, M4A) or video "
                                   "(MP4, WebM, MOV) or a PDF."]})
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


async def _remove_quietly(files: list[str]) -> None:
    """Stored files gone, with everything made beside them (waveform, pages, thumbnail), once no row
    names them: a bucket that fails now leaves unreachable objects, said in the log, and the answer
    is the one the request earned."""
    try:
        await asyncio.to_thread(media_store.current().remove, files)
    except Unavailable as exc:
        log.warning("%d stored file(s) not removed: %s", len(files), exc)


async def chunks_of(fileobj: IO[bytes], size: int = 1 << 20) -> AsyncIterator[bytes]:
    while chunk := fileobj.read(size):
        yield chunk


async def stored_uploads(upload_ids: list[int]) -> list[FileUpload]:
    return await FileUpload.objects().where(FileUpload.id.is_in(upload_ids or [0]))


async def served(user: User, project_id: int, name: str) -> FileUpload | None:
    """A stored upload of a project the user may see; None for anything else."""
    # every stored name is a safe_name(): anything else (a NUL, a slash, "..") is no upload of ours
    if not STORED.fullmatch(name) or await projects.get_project(user, project_id) is None:
        return None
    upload = await FileUpload.objects().where(FileUpload.file == f"{project_id}/{name}").first()
    # a folder's file is looked at (a cheap stat); a bucket's is trusted to the row, as its redirect 404s anyway
    kept = media_store.current()
    if upload is None or (isinstance(kept, media_store.Folder) and kept.stat(upload.file) is None):
        return None
    return upload


def _values(data: object) -> set[str]:
    """Every string in a task's data: the only URIs its presign link may point at."""
    if isinstance(data, str):
        return {data}
    if isinstance(data, dict):
        return set().union(*(_values(v) for v in data.values())) if data else set()
    if isinstance(data, list):
        return set().union(*(_values(v) for v in data)) if data else set()
    return set()


MEDIA_FIELDS = ("duration", "frame_rate", "frame_count", "width", "height", "sample_rate", "channels")
MEDIA_LOOKUPS = 64  # addresses looked up per task: a task is a few media files, not thousands


async def media_of(data: object) -> dict[str, dict[str, Any]]:
    """What was read of the stored files a task's data names (ffprobe's duration and frame count,
    image sizes), by the address as the data writes it, for the players (RenderContext.media)."""
    wanted: dict[str, str] = {}
    for value in sorted(_values(data)):
        if value.startswith("/data/upload/") and len(wanted) < MEDIA_LOOKUPS:
            wanted[value.removeprefix("/data/upload/")] = value
    if not wanted:
        return {}
    fields = [getattr(FileUpload, name) for name in MEDIA_FIELDS]
    rows = await FileUpload.select(FileUpload.file, *fields).where(FileUpload.file.is_in(list(wanted)))
    found = {wanted[row["file"]]: {name: row[name] for name in MEDIA_FIELDS} for row in rows}
    for row in rows:
        if row["sample_rate"]:  # audio: where its waveform's peaks are, or why not (asked for when missing)
            found[wanted[row["file"]]].update(await waveform.state(row["file"], wanted[row["file"]], row["channels"]))
        elif row["file"].lower().endswith(".pdf"):  # a PDF: its page count and sizes (rendered when missing)
            found[wanted[row["file"]]].update(await pdf_pages.state(row["file"]))
    return found


async def _kept(key: str) -> tuple[str, str] | None:
    """A file of the upload store (its key, its version), if it is there."""
    found = await media_store.exists(key)
    return (key, found.stamp) if found is not None else None


async def served_peaks(user: User, project_id: int, name: str) -> tuple[str, str] | None:
    """The waveform peaks (key, version) of a stored upload the user may see, once computed; None otherwise."""
    found = await served(user, project_id, name)
    return await _kept(waveform.peaks_key(found.file)) if found else None


async def served_spectrogram(user: User, project_id: int, name: str) -> tuple[str, str] | None:
    """The spectrogram (key, version) of a stored audio upload the user may see, once computed (asked for when not)."""
    found = await served(user, project_id, name)
    if found is None or not found.sample_rate:
        return None
    return await waveform.spectrogram(found.file)


async def served_pdf_page(user: User, project_id: int, name: str, page: int,
                          words: bool) -> tuple[str, str] | None:
    """Page `page` (1-based) of a stored PDF the user may see, as a picture or its words (key, version),
    once rendered."""
    found = await served(user, project_id, name)
    if found is None or found.content_type != "application/pdf" or page < 1:
        return None
    ready = await _kept((pdf_pages.text_key if words else pdf_pages.page_key)(found.file, page))
    if ready:
        return ready
    known = await asyncio.to_thread(pdf_pages.manifest, found.file)
    if known is None or page <= known["pages"]:
        await asyncio.to_thread(pdf_pages.want, found.file, page)  # a page it has, missing: the worker renders it next
        await pdf_pages.ask(found.file, project_id)
    return None


def uri_in(data: object, fileuri: str) -> str | None:
    """The URI a presign link asks for (SDK 2.x sends it base64-encoded, 1.0.9 raw), if the task's
    own data holds it: so the link is no open redirect."""
    candidates = [fileuri]
    try:
        candidates.append(base64.urlsafe_b64decode(fileuri + "=" * (-len(fileuri) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        pass
    return next((c for c in candidates if c and c in _values(data)), None)


def fetchable(uri: str) -> str | None:
    """Where the file of a task's URI is served, or None when it lives in a cloud storage we do not reach."""
    if uri.startswith(("/data/", "http://", "https://")):
        return uri
    if uri.startswith(("upload/", "/upload/")):
        return "/data/" + uri.lstrip("/")
    return None


async def local_file(user: User, wanted: str) -> Path | None:
    """A file under LABELWELL_LOCAL_FILES_ROOT (which must be set): any for an admin, for others
    only one a task of their projects refers to; None for anything else."""
    root = settings.local_files_root.resolve()
    path = (root / wanted.lstrip("/")).resolve() if "\x00" not in wanted else root  # no path holds a NUL
    if not wanted or not path.is_relative_to(root) or not path.is_file():
        return None
    if user.role != "admin" and not await _referenced(user, f"/data/local-files/?d={wanted}"):
        return None
    return path


async def _referenced(user: User, url: str) -> bool:
    """Whether a task in one of the user's projects names this URL (a scan of those projects' data)."""
    ids = await projects.visible_ids(user)
    if not ids:
        return False
    return bool(await Task.select(Task.id).where(Task.project.is_in(ids), data_contains("lw_task.data", url)).first())


# -- Label Studio's file-upload API (app/uploads/api.py) -------------------------------------------

MAX_LISTED_IDS = 10_000  # ids in one list or delete: beyond any import's file count, within SQL's parameter limits


def checked_ids(ids: list[int] | None, name: str) -> list[int] | None:
    if ids is not None and len(ids) > MAX_LISTED_IDS:
        raise InputError({name: [f"Give at most {MAX_LISTED_IDS:,} ids at a time ({len(ids):,} given)."]})
    return ids


async def project_uploads(project_id: int, ids: list[int] | None, newest_first: bool = False) -> list[FileUpload]:
    """A project's uploads (only those of `ids`, when given), oldest first."""
    query = FileUpload.objects().where(FileUpload.project == project_id)
    if checked_ids(ids, "ids") is not None:
        query = query.where(FileUpload.id.is_in(ids or [0]))
    return await query.order_by(FileUpload.id, ascending=not newest_first)


async def for_admin(user: User, upload_id: int) -> FileUpload | None:
    """An upload, for an admin of its project; None for anyone else, as for a project they cannot see."""
    upload = await FileUpload.objects().where(FileUpload.id == upload_id).first() if user.role == "admin" else None
    if upload is None or await projects.get_project(user, upload.project) is None:
        return None
    return upload


async def delete_uploads(project_id: int, ids: list[int] | None) -> int:
    """Delete a project's uploads (every one when `ids` is None, as Label Studio does); their files
    go once the rows are gone. Tasks made from them stay: the foreign key empties their file_upload."""
    query = FileUpload.select(FileUpload.id, FileUpload.file).where(FileUpload.project == project_id)
    if checked_ids(ids, "file_upload_ids") is not None:
        query = query.where(FileUpload.id.is_in(ids or [0]))
    async with write_tx():
        gone = await query
        if gone:
            await FileUpload.delete().where(FileUpload.id.is_in([row["id"] for row in gone]))
    await _remove_quietly([row["file"] for row in gone])  # after the commit: a rolled-back delete keeps its files
    return len(gone)


async def replace(upload: FileUpload, name: str, chunks: AsyncIterator[bytes]) -> FileUpload | None:
    """New content for an upload, kept under its stored name so the links tasks hold show the new
    file; it must be the same kind of file (tasks were made from the old one). None when the
    upload was deleted meanwhile."""
    name, kind = shown_name(name), format_of(upload.original_name)
    if format_of(name) != kind:
        raise InputError({"file": [f"{name} is not a {kind or 'known'} file, as {upload.original_name} is: "
                                   "a replacement must be the same kind of file."]})
    kept = media_store.current()
    part = kept.scratch(upload.file)  # no upload row names it: never served
    try:
        described = await _write(part, name, chunks, None)
        async with write_tx():
            changed = await FileUpload.update({FileUpload.original_name: name, **{
                getattr(FileUpload, k): v for k, v in described.items()}}).where(
                FileUpload.id == upload.id).returning(FileUpload.id)
            if changed:  # inside the transaction: a failed move changes nothing
                await asyncio.to_thread(kept.put_file, upload.file, part)
    finally:
        part.unlink(missing_ok=True)
    if changed:  # the old file's peaks, pages, thumbnail (after the commit: the rows' lock is not held for it)
        await asyncio.to_thread(kept.delete_beside, upload.file)
    if changed and described.get("sample_rate"):
        await waveform.ask(upload.file, upload.project, waveform.KIND, described.get("channels"))
    return await FileUpload.objects().where(FileUpload.id == upload.id).first() if changed else None
