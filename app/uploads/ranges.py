"""Serving a file with HTTP Range requests (RFC 9110 §14), which Litestar's `File` does not answer:
one range `bytes=a-b`, `a-` or `-n` gets 206 with its bytes and `Content-Range`; a range that
starts past the end gets 416; no range, several ranges (browsers take the whole file), a range in
another unit, a malformed one or a stale `If-Range` get the whole file, 200. Every answer says
`Accept-Ranges: bytes`, so the browser seeks in audio and video without downloading it all."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email.utils import formatdate
from pathlib import Path
from urllib.parse import quote

import anyio
from litestar.exceptions import NotFoundException
from litestar.response import File, Redirect, Response, Stream
from litestar.response.file import create_etag_for_file

from app.uploads import media_store

ONE_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")
CHUNK = 1 << 16


class Unsatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) byte a Range header asks for; None for the whole file; Unsatisfiable
    when it asks only for bytes past the end."""
    found = ONE_RANGE.fullmatch(header or "")
    if found is None or not any(found.groups()):
        return None  # no range, another unit, several ranges, or nonsense: the whole file
    first, last = found.groups()
    if not first:  # the last n bytes
        if int(last) == 0 or size == 0:
            raise Unsatisfiable
        return max(size - int(last), 0), size - 1
    if last and int(last) < int(first):
        return None  # invalid, so ignored (RFC 9110 §14.2)
    if int(first) >= size:
        raise Unsatisfiable
    return int(first), min(int(last), size - 1) if last else size - 1


async def _slice(path: Path, first: int, last: int) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as fh:
        await fh.seek(first)
        left = last - first + 1
        while left > 0 and (chunk := await fh.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk


def ranged_file(path: Path, range_header: str | None, if_range: str | None, media_type: str, inline: bool,
                headers: dict[str, str], filename: str | None = None) -> Response:
    """The file, or the part of it the Range header asks for."""
    stat = path.stat()
    etag = create_etag_for_file(path=path, modified_time=stat.st_mtime, file_size=stat.st_size)
    modified = formatdate(stat.st_mtime, usegmt=True)
    headers = {**headers, "Accept-Ranges": "bytes"}
    try:
        wanted = byte_range(range_header, stat.st_size) if if_range in (None, etag, modified) else None
    except Unsatisfiable:
        return Response(b"", status_code=416, media_type=media_type,
                        headers={**headers, "Content-Range": f"bytes */{stat.st_size}"})
    if wanted is None:
        return File(path=path, media_type=media_type, filename=filename, headers=headers,
                    content_disposition_type="inline" if inline else "attachment")
    first, last = wanted
    return Stream(_slice(path, first, last), status_code=206, media_type=media_type, headers={
        **headers, "Content-Range": f"bytes {first}-{last}/{stat.st_size}", "Content-Length": str(last - first + 1),
        "Content-Disposition": _disposition("inline" if inline else "attachment", filename or path.name),
        "ETag": etag, "Last-Modified": modified})


def _disposition(kind: str, filename: str) -> str:
    """As Litestar's `File` writes it, so a part and the whole file say the same."""
    quoted = quote(filename)
    return f'{kind}; filename="{filename}"' if quoted == filename else f"{kind}; filename*=utf-8''{quoted}"


async def stored_file(key: str, range_header: str | None, if_range: str | None, media_type: str, inline: bool,
                      headers: dict[str, str], filename: str | None = None, version: str = "",
                      through: bool = False) -> Response:
    """A file of the upload store: from the folder, served here (ranges too). From the media bucket,
    a redirect to a presigned URL, so the browser fetches the bytes (and their ranges) from the
    bucket; but a small file the workspace's scripts fetch (`through`: peaks, a page's words) is
    read and sent from here, as a script may not follow a redirect to another origin."""
    kept = media_store.current()
    if isinstance(kept, media_store.Folder):
        return ranged_file(kept.path(key), range_header, if_range, media_type, inline, headers, filename)
    if through:
        content = await anyio.to_thread.run_sync(kept.read, key)
        if content is None:
            raise NotFoundException("No such file")
        return Response(content, media_type=media_type, headers=headers)
    url, seconds = await anyio.to_thread.run_sync(kept.url, key, media_type, inline, filename, version)
    return Redirect(url, status_code=302, headers={"Cache-Control": _redirect_cache(headers, seconds)})


def _redirect_cache(headers: dict[str, str], seconds: int) -> str:
    """The caller's caching for the file, no longer than the presigned URL it redirects to still works."""
    asked = headers.get("Cache-Control", "")
    if "no-store" in asked:
        return "no-store"
    found = re.search(r"max-age=(\d+)", asked)
    return f"private, max-age={max(0, min(int(found.group(1)) if found else 0, seconds - 60))}"
