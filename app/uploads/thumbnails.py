"""Task-list thumbnails: a small JPEG of a task's picture, made once by the worker and kept beside
it, so a page of the task list loads fifty small pictures instead of fifty full-size ones from a
bucket. An upload's thumbnail sits next to the upload (`<file>.thumb.jpg`, gone with it); a bucket
object's under the data folder (`thumbnails/<project>/<hash of the URI>.jpg`).

They are asked for the first time a page of the task list shows the task: the page marks the
missing ones queued and hands them to the worker in one job, then polls until they are there. A
picture that cannot be read (no longer in the bucket, not an image, too large) leaves its reason
beside it instead, so it is not asked for again and the list says why."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import time
from pathlib import Path
from typing import Any

from app import jobs
from app.settings import settings
from app.storages import resolve
from app.uploads import waveform

KIND = "thumbnails"
SIZE = 160  # pixels on the longer side: the list's column shows them at 80, twice that for sharp screens
MAX_BYTES = 100 << 20  # a bigger object gets no thumbnail (said so) rather than a worker's memory
MAX_PIXELS = 200_000_000  # a decompression bomb is refused by its header, before it is decoded
STALE = 300  # seconds after which a queued thumbnail that never came is asked for again
BATCH = 100  # pictures a job makes: a page of the list is fifty


def place(project_id: int, uri: str) -> Path | None:
    """Where the thumbnail of a task's picture is kept, None for a picture we do not hold."""
    if uri.startswith("/data/upload/"):
        stored = waveform.stored_path(uri.removeprefix("/data/upload/").split("?", 1)[0])
        return waveform.thumbnail_path(stored) if stored else None
    if uri.startswith("s3://"):
        digest = hashlib.sha256(f"{project_id}\0{uri}".encode()).hexdigest()
        return settings.data_dir / "thumbnails" / str(project_id) / digest[:2] / f"{digest}.jpg"
    return None


def _error(target: Path) -> Path:
    return target.with_name(target.name + ".error")


def _queued(target: Path) -> Path:
    return target.with_name(target.name + ".queued")


def state(target: Path) -> tuple[str, str]:
    """("ready" | "failed" | "queued" | "missing", the failure's reason)."""
    if target.is_file():
        return "ready", ""
    with contextlib.suppress(OSError):
        return "failed", _error(target).read_text(errors="replace")[:200]
    with contextlib.suppress(FileNotFoundError):
        if time.time() - _queued(target).stat().st_mtime < STALE:
            return "queued", ""
    return "missing", ""


async def for_rows(project_id: int, pictures: dict[tuple[int, str], str]) -> dict[tuple[int, str], dict[str, str]]:
    """The thumbnail of each (task id, data key) -> picture URI: its state and reason. The missing
    ones are marked queued and handed to the worker in one job."""
    out: dict[tuple[int, str], dict[str, str]] = {}
    wanted: list[list[Any]] = []
    for (task_id, key), uri in pictures.items():
        target = place(project_id, uri)
        if target is None:
            continue
        found, reason = state(target)
        if found == "missing":
            _write(_queued(target), b"")
            wanted.append([task_id, uri])
            found = "queued"
        out[(task_id, key)] = {"state": found, "reason": reason}
    for start in range(0, len(wanted), BATCH):
        await jobs.enqueue(KIND, project_id=project_id, user_id=None, params={"pictures": wanted[start:start + BATCH]},
                           quiet=True)
    return out


async def make_all(project_id: int, pictures: list[list[Any]]) -> dict[str, Any]:
    """The worker's part: each picture read (from the upload folder or its bucket), shrunk and kept."""
    made = failed = 0
    for _task_id, uri in pictures:
        target = place(project_id, str(uri))
        if target is None or target.is_file():
            continue
        try:
            picture = await _read(project_id, str(uri))
            await asyncio.to_thread(_shrink, picture, target)
            made += 1
        except Exception as exc:  # noqa: BLE001 - a bad picture (not an image, gone, a bomb) never stops the rest
            _write(_error(target), str(exc).encode()[:500] or type(exc).__name__.encode())
            failed += 1
        finally:
            _queued(target).unlink(missing_ok=True)
    return {"made": made, "failed": failed}


async def _read(project_id: int, uri: str) -> bytes:
    if uri.startswith("/data/upload/"):
        path = waveform.stored_path(uri.removeprefix("/data/upload/").split("?", 1)[0])
        if path is None:
            raise ValueError("the upload is no longer stored")
        if path.stat().st_size > MAX_BYTES:
            raise ValueError(f"larger than {MAX_BYTES >> 20} MiB")
        return await asyncio.to_thread(path.read_bytes)
    found = await resolve.read(project_id, uri, MAX_BYTES)
    if found is None:
        raise ValueError("no storage of this project holds it any more")
    return found


def _shrink(picture: bytes, target: Path) -> None:
    from PIL import Image, ImageOps, UnidentifiedImageError  # only the worker draws

    try:
        opened = Image.open(io.BytesIO(picture))
    except UnidentifiedImageError:
        raise ValueError("not a picture (or of a kind this server cannot read)") from None
    except Image.DecompressionBombError:
        raise ValueError("more pixels than a thumbnail is made of") from None
    with opened as image:
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"{image.width}x{image.height} pixels is more than a thumbnail is made of")
        image.draft("RGB", (SIZE * 2, SIZE * 2))  # a JPEG decodes at a fraction of its size: much faster
        shown = ImageOps.exif_transpose(image)
        shown.thumbnail((SIZE, SIZE))
        if shown.mode not in ("RGB", "L"):
            flat = Image.new("RGB", shown.size, "white")
            flat.paste(shown.convert("RGBA"), mask=shown.convert("RGBA").getchannel("A"))
            shown = flat
        out = io.BytesIO()
        shown.save(out, "JPEG", quality=82, optimize=True)
    _write(target, out.getvalue())


def _write(path: Path, content: bytes) -> None:
    """Under a temporary name, then renamed: a killed worker leaves no half picture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_bytes(content)
    os.replace(part, path)
