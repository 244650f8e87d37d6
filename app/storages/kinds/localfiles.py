"""Label Studio's local-files storage: a folder under LABELWELL_LOCAL_FILES_ROOT (its
LOCAL_FILES_DOCUMENT_ROOT). Same functions as kinds/s3.py. Keys are paths relative to the root;
task data points at `/data/local-files/?d=<key>`, which app/uploads serves (with Range). As in
Label Studio the regex matches the file name, the scan is recursive, and files come in name order
(a directory at a time, so a folder of a million files is never listed into memory at once)."""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app.settings import settings
from app.storages.faults import ObjectGone, StorageError

SCHEME = "localfiles"
SECRET_FIELDS: tuple[str, ...] = ()
FIELDS: dict[str, Any] = {"path": None, "regex_filter": None, "use_blob_urls": False, "can_delete_objects": None}
PREFIX = "/data/local-files/?d="
CHUNK = 512 * 1024


def _root() -> Path:
    if settings.local_files_root is None:
        raise StorageError("Local files storage is off on this server: set LABELWELL_LOCAL_FILES_ROOT.")
    return settings.local_files_root.resolve()


def _folder(config: dict[str, Any]) -> Path:
    """The storage's folder: `path` absolute (Label Studio's way) or relative to the root, inside it."""
    root, given = _root(), str(config.get("path") or "").strip()
    if not given or "\x00" in given:
        raise StorageError("path is required: a folder under LABELWELL_LOCAL_FILES_ROOT.")
    folder = (root / given).resolve()
    if not folder.is_relative_to(root):
        raise StorageError(f"Path {given} must be under LABELWELL_LOCAL_FILES_ROOT ({root}).")
    return folder


def _file(config: dict[str, Any], key: str) -> Path:
    root = _root()
    path = (root / key).resolve()
    if "\x00" in key or not path.is_relative_to(_folder(config)):
        raise StorageError(f"{key} is not in this storage's folder.")
    return path


def check(config: dict[str, Any], secrets: dict[str, Any], role: str) -> None:
    folder = _folder(config)
    if not folder.is_dir():
        raise StorageError(f"Path {config.get('path')} does not exist or is not a folder.")
    if role == "export" and not os.access(folder, os.W_OK):
        raise StorageError(f"Path {config.get('path')} is not writable by this server.")


def objects(config: dict[str, Any], secrets: dict[str, Any]) -> Iterator[dict[str, Any]]:
    root, folder = _root(), _folder(config)
    pattern = re.compile(config["regex_filter"]) if config.get("regex_filter") else None
    for here, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if pattern and not pattern.match(name):
                continue
            path = Path(here) / name
            try:
                info = path.stat()
            except OSError:  # gone since the listing
                continue
            yield {"key": path.relative_to(root).as_posix(), "size": info.st_size,
                   "last_modified": dt.datetime.fromtimestamp(info.st_mtime, dt.timezone.utc)}


def uri(config: dict[str, Any], key: str) -> str:
    return PREFIX + key


def key_of(config: dict[str, Any], address: str) -> str | None:
    if not address.startswith(PREFIX) or len(address) == len(PREFIX):
        return None
    key = address[len(PREFIX):]
    try:
        _file(config, key)
    except StorageError:
        return None
    return key


def read(config: dict[str, Any], secrets: dict[str, Any], key: str, limit: int) -> bytes:
    path = _file(config, key)
    try:
        if path.stat().st_size > limit:
            raise StorageError(f"{key} is {path.stat().st_size} bytes, over the {limit}-byte limit.")
        return path.read_bytes()
    except OSError:
        raise ObjectGone(f"{key} is no longer in the storage's folder.") from None


def content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def presign(config: dict[str, Any], secrets: dict[str, Any], key: str, seconds: int) -> str:
    """Local files need no signature: the server's own URL, access checked when it is fetched."""
    return uri(config, key)


def _chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as fh:
        fh.seek(start)
        while length > 0 and (chunk := fh.read(min(CHUNK, length))):
            length -= len(chunk)
            yield chunk


def open(config: dict[str, Any], secrets: dict[str, Any], key: str,  # noqa: A001 - the kinds' common name
         byte_range: str | None) -> tuple[int, dict[str, str], Iterator[bytes]]:
    path = _file(config, key)
    try:
        size = path.stat().st_size
    except OSError:
        raise ObjectGone(f"{key} is no longer in the storage's folder.") from None
    start, end = 0, size - 1
    found = re.fullmatch(r"bytes=(\d*)-(\d*)", (byte_range or "").strip())
    if found and (found[1] or found[2]):
        start, end = (int(found[1]), min(int(found[2] or size - 1), size - 1)) if found[1] \
            else (max(0, size - int(found[2])), size - 1)
    headers = {"Content-Length": str(max(0, end - start + 1)), "Accept-Ranges": "bytes",
               "Content-Type": content_type(key)}
    if found and (found[1] or found[2]):
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return (206 if "Content-Range" in headers else 200), headers, _chunks(path, start, end - start + 1)


def put(config: dict[str, Any], secrets: dict[str, Any], key: str, data: bytes, kind: str) -> None:
    path = _file(config, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    temporary.write_bytes(data)
    temporary.replace(path)  # readers never see half an object


def remove(config: dict[str, Any], secrets: dict[str, Any], key: str) -> None:
    _file(config, key).unlink(missing_ok=True)


def export_key(config: dict[str, Any], name: str) -> str:
    """Label Studio writes `<path>/<annotation id>`."""
    return (_folder(config) / name).relative_to(_root()).as_posix()
