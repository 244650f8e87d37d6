"""Where uploads and the files made beside them (waveform peaks, spectrograms, PDF pages,
thumbnails) are kept: the data folder's `upload/`, or a bucket when LABELWELL_MEDIA_URL is
`s3://bucket/prefix`, so that several web nodes share them and none keeps state on its own disk.

Both are addressed by the same keys (`<project>/<stored name>`, then `<that>.peaks`,
`<that>.pages/page-1.png`, `thumbnails/<project>/…`), and both write whole files only: a file is
written under a temporary name and renamed in the folder, and a bucket's object appears whole when
its PUT ends, so a killed process leaves no half file under a key anyone reads.

ffmpeg and PDFium read local files: `local_copy` hands them the file itself from the folder, or a
temporary copy fetched from the bucket. The web process serves a folder's file itself (with Range)
and answers for a bucket's object with a redirect to a presigned URL, so the bytes never pass
through Labelwell. The bucket's credentials are the usual AWS_* settings (as a storage without its
own), its endpoint LABELWELL_MEDIA_ENDPOINT; they never reach the browser."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import mimetypes
import os
import re
import shutil
import stat
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from app.errors import Unavailable
from app.settings import env, settings
from app.storages.kinds import s3
from app.storages.signed_urls import SignedUrls

STORED_NAME = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}"  # what app/uploads/service.safe_name() makes
UPLOAD_KEY = re.compile(rf"\d+/{STORED_NAME}")  # <project>/<a stored name>: no way elsewhere
T = TypeVar("T")
PRESIGN_SECONDS = 3600  # a redirect's URL works this long; the same one is handed out for half of it
PARALLEL = 16  # HEAD requests at once when a page asks after many files (a page of thumbnails)
_POOL = ThreadPoolExecutor(PARALLEL, thread_name_prefix="media-store")


@dataclass(frozen=True)
class Found:
    size: int
    modified: float  # seconds since the epoch
    stamp: str  # changes when the content does: a version for addresses cached for good


class Folder:
    """The data folder's `upload/`: the default, and one web node's own."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        """The file of a key; a key that would leave the folder is refused. By its words, not by
        resolving it (a system call a component, which a page of fifty thumbnails felt): every file
        here is ours, no link leads out."""
        return self.root / checked(key)

    def stat(self, key: str) -> Found | None:
        try:
            found = self.path(key).stat()
        except (OSError, ValueError):
            return None
        return Found(found.st_size, found.st_mtime, str(found.st_mtime_ns)) if not _is_dir(found) else None

    def stats(self, keys: list[str]) -> dict[str, Found | None]:
        return {key: self.stat(key) for key in keys}

    def read(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except (OSError, ValueError):
            return None

    def write(self, key: str, data: bytes) -> None:
        part = self.scratch(key)
        try:
            part.write_bytes(data)
            os.replace(part, self.path(key))
        finally:
            part.unlink(missing_ok=True)

    def put_file(self, key: str, source: Path) -> None:
        """`source` (a scratch file of this store) becomes the key's file: renamed, so it is there whole or not at all."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)

    def delete(self, key: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.path(key).unlink()

    def delete_beside(self, key: str) -> None:
        """Every file whose key starts with `key.` (what was made beside an upload), folders too."""
        with contextlib.suppress(ValueError):
            stored = self.path(key)
            for path in stored.parent.glob(f"{glob.escape(stored.name)}.*"):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)

    def remove(self, files: list[str]) -> None:
        """Stored files gone, with everything made beside them."""
        for file in files:
            self.delete(file)
            self.delete_beside(file)

    def names(self, folder: str) -> set[str]:
        """The names of the files directly under the key `folder`."""
        with contextlib.suppress(OSError, ValueError):
            return {p.name for p in self.path(folder).iterdir()}
        return set()

    def scratch(self, key: str) -> Path:
        """A new temporary file's path, for a file then given to put_file: beside its place, so the
        rename is on one file system (a name of its own: two writers of one key never share it)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.with_name(f"{target.name}.{uuid.uuid4().hex[:12]}.part")

    def fetch(self, key: str) -> Path | None:
        """The file itself, for a tool that reads files (ffmpeg, PDFium); release() it after."""
        return self.path(key) if self.stat(key) else None

    def release(self, path: Path | None) -> None:
        """Nothing to do: fetch() gave the stored file itself."""


class Bucket:
    """A bucket and prefix (LABELWELL_MEDIA_URL=s3://bucket/prefix) shared by every node."""

    def __init__(self, bucket: str, prefix: str, endpoint: str | None) -> None:
        self.bucket, self.prefix, self.endpoint = bucket, prefix.strip("/"), endpoint
        self._signed = SignedUrls()

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{checked(key)}" if self.prefix else checked(key)

    @property
    def client(self):
        # the operator's own bucket: no SSRF rule (it may well be a MinIO on this network)
        return s3.media_client(self.endpoint)

    @contextlib.contextmanager
    def _answering(self) -> Iterator[None]:
        """A bucket that fails (gone, refuses the credentials, does not answer) is named, as a 503."""
        try:
            yield
        except (Unavailable, ValueError):
            raise
        except Exception as exc:  # noqa: BLE001 - whatever boto raised, in words
            raise Unavailable(f"The media bucket (LABELWELL_MEDIA_URL) cannot be used: "
                              f"{s3.why(exc, self.bucket, self.endpoint)}") from None

    def check(self) -> None:
        """Unavailable unless the bucket answers."""
        with self._answering():
            self.client.head_bucket(Bucket=self.bucket)

    def _or_none(self, call: Callable[[], T]) -> T | None:
        """What `call` gives; None when the object is not in the bucket, or the key none of ours."""
        try:
            with self._answering():
                try:
                    return call()
                except Exception as exc:
                    if _missing(exc):
                        return None
                    raise
        except ValueError:
            return None

    def stat(self, key: str) -> Found | None:
        head = self._or_none(lambda: self.client.head_object(Bucket=self.bucket, Key=self._key(key)))
        if head is None:
            return None
        return Found(int(head.get("ContentLength", 0)), head["LastModified"].timestamp(),
                     str(head.get("ETag", "")).strip('"'))

    def stats(self, keys: list[str]) -> dict[str, Found | None]:
        if len(keys) < 2:
            return {key: self.stat(key) for key in keys}
        return dict(zip(keys, _POOL.map(self.stat, keys), strict=True))

    def read(self, key: str) -> bytes | None:
        return self._or_none(lambda: self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read())

    def write(self, key: str, data: bytes) -> None:
        with self._answering():
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=_kind(key))

    def put_file(self, key: str, source: Path) -> None:
        try:
            with self._answering():
                self.client.upload_file(str(source), self.bucket, self._key(key), ExtraArgs={"ContentType": _kind(key)})
        finally:
            source.unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        with contextlib.suppress(ValueError), self._answering():
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def _keys_under(self, prefix: str) -> Iterator[str]:
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def delete_beside(self, key: str) -> None:
        self.remove([key], beside_only=True)

    def remove(self, files: list[str], beside_only: bool = False) -> None:
        """Stored files gone, with everything made beside them: one listing a file, the deletes batched."""
        with self._answering():
            gone: list[str] = []
            for file in files:
                with contextlib.suppress(ValueError):
                    gone += [] if beside_only else [self._key(file)]
                    gone += self._keys_under(self._key(file) + ".")
            for start in range(0, len(gone), 1000):  # S3's most in one request
                self.client.delete_objects(Bucket=self.bucket, Delete={
                    "Objects": [{"Key": k} for k in gone[start:start + 1000]], "Quiet": True})

    def names(self, folder: str) -> set[str]:
        with contextlib.suppress(ValueError), self._answering():
            under = self._key(folder) + "/"
            return {k[len(under):] for k in self._keys_under(under) if "/" not in k[len(under):]}
        return set()

    def scratch(self, key: str) -> Path:
        """A new temporary file in the data folder's `scratch/` (not the system's /tmp, which may be a
        small tmpfs): an upload being checked, or a copy for ffmpeg; gone once used."""
        folder = settings.data_dir / "scratch"
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix="lw-", suffix="-" + key.rsplit("/", 1)[-1][-60:])
        os.close(handle)
        return Path(name)

    def fetch(self, key: str) -> Path | None:
        """A scratch copy of the object, for a tool that reads files (ffmpeg, PDFium); release() it after."""
        path = self.scratch(key)
        try:
            fetched = self._or_none(lambda: self.client.download_file(self.bucket, self._key(key), str(path)) or True)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if not fetched:
            path.unlink(missing_ok=True)
        return path if fetched else None

    def release(self, path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)

    def url(self, key: str, content_type: str, inline: bool, filename: str | None = None,
            version: str = "") -> tuple[str, int]:
        """A presigned URL of the object, served with this type and disposition, and how many
        seconds it still works; the same URL again while it has half its life left (cached by the
        browser), unless the object's `version` changed (a replaced upload gets a new URL)."""
        wanted = (key, content_type, filename or "", inline, version)
        found = self._signed.fresh(wanted)
        if found is not None:
            return found
        disposition = "inline" if inline else "attachment"
        if filename:
            disposition += f"; filename*=utf-8''{quote(filename)}"
        with self._answering():
            url = self.client.generate_presigned_url("get_object", Params={
                "Bucket": self.bucket, "Key": self._key(key), "ResponseContentType": content_type,
                "ResponseContentDisposition": disposition,
                "ResponseCacheControl": f"private, max-age={PRESIGN_SECONDS // 2}"}, ExpiresIn=PRESIGN_SECONDS)
        return self._signed.keep(wanted, url, PRESIGN_SECONDS)


def checked(key: str) -> str:
    """A key as given, if it is one: relative, no empty, `.` or `..` part, no NUL; else ValueError."""
    if not key or "\x00" in key or any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"{key[:100]!r} is not a key of the upload store")
    return key


def _is_dir(found: os.stat_result) -> bool:
    return stat.S_ISDIR(found.st_mode)


def _kind(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


def _missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", "")) in ("404", "NoSuchKey", "NotFound")


@contextlib.contextmanager
def local_copy(key: str) -> Iterator[Path | None]:
    """The stored file for a tool that reads files (ffmpeg, PDFium, a task file's reader): the file
    itself from the folder, a scratch copy of a bucket's object (removed after); None if not stored."""
    kept = current()
    path = kept.fetch(key)
    try:
        yield path
    finally:
        kept.release(path)


def project_of(file: str) -> int | None:
    """The project of an upload's key (`<project>/<name>`)."""
    head = file.split("/", 1)[0]
    return int(head) if head.isdigit() else None


def mark_queued(file: str, marker: str, stale: float) -> bool:
    """Mark a computation about the upload `file` asked for (an empty object under `marker`), unless
    it already is and not `stale` seconds ago, or the upload is gone: whether it should be queued."""
    kept = current()
    found = kept.stats([file, marker])
    if found[file] is None or (found[marker] is not None and time.time() - found[marker].modified < stale):
        return False
    kept.write(marker, b"")
    return True


async def exists(key: str) -> Found | None:
    return await asyncio.to_thread(current().stat, key)


@cache
def current() -> Folder | Bucket:
    """The store this process uses, from LABELWELL_MEDIA_URL (unset: the data folder)."""
    url = env("LABELWELL_MEDIA_URL")
    if not url:
        return Folder(settings.upload_dir)
    if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
        raise ValueError(f"LABELWELL_MEDIA_URL={url!r}: give s3://bucket or s3://bucket/prefix")
    bucket, _, prefix = url[5:].partition("/")
    return Bucket(bucket, prefix, env("LABELWELL_MEDIA_ENDPOINT"))


def describe() -> str:
    """Where uploads are kept, for the admin's installation page and the start banner (no secret in it)."""
    store = current()
    if isinstance(store, Folder):
        return str(store.root)
    return f"s3://{store.bucket}/{store.prefix}" + (f" at {store.endpoint}" if store.endpoint else "")
