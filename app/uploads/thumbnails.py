"""Task-list thumbnails: a small JPEG of a task's picture, made once by the worker and kept beside
it, so a page of the task list loads fifty small pictures instead of fifty full-size ones from a
bucket. Both are kept in the upload store (app/uploads/media_store.py: the upload folder or the media bucket):
an upload's beside the upload (`<file>.thumb.jpg`, gone with it), a bucket object's under
`thumbnails/<project>/<hash of the URI>.jpg`.

They are asked for the first time a page of the task list shows the task: the page marks the
missing ones queued and hands them to the worker in one job, then polls until they are there. A
picture that cannot be read (no longer in the bucket, not an image, too large) leaves its reason
beside it instead, so it is not asked for again and the list says why."""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
from typing import Any

from app import jobs
from app.storages import resolve
from app.errors import Unavailable
from app.storages.faults import ObjectGone, StorageError
from app.uploads import media_store, waveform

KIND = "thumbnails"
SIZE = 160  # pixels on the longer side: the list's column shows them at 80, twice that for sharp screens
MAX_BYTES = 100 << 20  # a bigger object gets no thumbnail (said so) rather than a worker's memory
MAX_PIXELS = 200_000_000  # a decompression bomb is refused by its header, before it is decoded
STALE = 300  # seconds after which a queued thumbnail that never came is asked for again
BATCH = 100  # pictures a job makes: a page of the list is fifty


def place(project_id: int, uri: str) -> str | None:
    """The store's key for the thumbnail of a task's picture, None for a picture we do not hold
    (an upload of another project is not one of this project's pictures)."""
    if uri.startswith(f"/data/upload/{project_id}/") and media_store.UPLOAD_KEY.fullmatch(upload_of(uri)):
        return waveform.thumbnail_key(upload_of(uri))
    if uri.startswith("s3://"):
        digest = hashlib.sha256(f"{project_id}\0{uri}".encode()).hexdigest()
        return f"thumbnails/{project_id}/{digest[:2]}/{digest}.jpg"
    return None


def upload_of(uri: str) -> str:
    return uri.removeprefix("/data/upload/").split("?", 1)[0]


def _error(target: str) -> str:
    return target + ".error"


def _queued(target: str) -> str:
    return target + ".queued"


def states(targets: list[str]) -> dict[str, tuple[str, str]]:
    """Each thumbnail's ("ready" | "failed" | "queued" | "missing", the failure's reason); the
    missing ones are marked queued (and said to be)."""
    kept = media_store.current()
    found = kept.stats(targets)  # most are made: their markers are asked after only for the others
    waiting = [t for t in targets if found[t] is None]
    found.update(kept.stats([k for t in waiting for k in (_error(t), _queued(t))]))
    out: dict[str, tuple[str, str]] = {}
    for target in targets:
        if found[target] is not None:
            out[target] = ("ready", "")
        elif found[_error(target)] is not None:
            out[target] = ("failed", (kept.read(_error(target)) or b"").decode(errors="replace")[:200])
        elif (queued := found[_queued(target)]) is not None and time.time() - queued.modified < STALE:
            out[target] = ("queued", "")
        else:
            kept.write(_queued(target), b"")
            out[target] = ("missing", "")
    return out


async def for_rows(project_id: int, pictures: dict[tuple[int, str], str]) -> dict[tuple[int, str], dict[str, str]]:
    """The thumbnail of each (task id, data key) -> picture URI: its state and reason. The missing
    ones are marked queued and handed to the worker in one job."""
    targets = {where: target for where, uri in pictures.items() if (target := place(project_id, uri)) is not None}
    found = await asyncio.to_thread(states, sorted(set(targets.values())))
    wanted = sorted({(where[0], pictures[where]) for where, t in targets.items() if found[t][0] == "missing"})
    out = {where: {"state": "queued" if found[t][0] == "missing" else found[t][0], "reason": found[t][1]}
           for where, t in targets.items()}
    for start in range(0, len(wanted), BATCH):
        await jobs.enqueue(KIND, project_id=project_id, user_id=None,
                           params={"pictures": [list(w) for w in wanted[start:start + BATCH]]}, quiet=True)
    return out


async def make_all(project_id: int, pictures: list[list[Any]]) -> dict[str, Any]:
    """The worker's part: each picture read (from the upload store or its bucket), shrunk and kept."""
    made = failed = 0
    kept, down = media_store.current(), {}
    for _task_id, uri in pictures:
        target, source = place(project_id, str(uri)), _source(str(uri))
        if target is None or source in down or await asyncio.to_thread(kept.stat, target) is not None:
            continue  # one a bucket that failed holds is left queued: asked for again once that is stale
        try:
            picture = await _read(project_id, str(uri))
            await asyncio.to_thread(kept.write, target, await asyncio.to_thread(_shrink, picture))
            made += 1
        except (StorageError, Unavailable) as exc:
            if not isinstance(exc, ObjectGone):
                # the bucket itself fails (unreachable, refusing, silent): one timeout, not one a picture,
                # and no verdict on its pictures: they stay queued and are asked for again later
                down[source] = str(exc)
                continue
            await _failed(target, exc)
            failed += 1
        except Exception as exc:  # noqa: BLE001 - a bad picture (not an image, a bomb) never stops the rest
            await _failed(target, exc)
            failed += 1
        await asyncio.to_thread(kept.delete, _queued(target))
    return {"made": made, "failed": failed, **({"bucket": "; ".join(down.values())} if down else {})}


def _source(uri: str) -> str:
    """Where a picture is read from: its bucket, or the upload store."""
    return uri.split("/", 3)[2] if uri.startswith("s3://") else ""


async def _failed(target: str, exc: Exception) -> None:
    reason = str(exc).encode()[:500] or type(exc).__name__.encode()
    await asyncio.to_thread(media_store.current().write, _error(target), reason)


async def _read(project_id: int, uri: str) -> bytes:
    if uri.startswith("/data/upload/"):
        kept, file = media_store.current(), upload_of(uri)
        found = await asyncio.to_thread(kept.stat, file)
        if found is None:
            raise ValueError("the upload is no longer stored")
        if found.size > MAX_BYTES:
            raise ValueError(f"larger than {MAX_BYTES >> 20} MiB")
        return await asyncio.to_thread(kept.read, file) or b""
    found = await resolve.read(project_id, uri, MAX_BYTES)
    if found is None:
        raise ValueError("no storage of this project holds it any more")
    return found


def _shrink(picture: bytes) -> bytes:
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
    return out.getvalue()
