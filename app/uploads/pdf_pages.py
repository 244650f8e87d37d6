"""A PDF upload's pages as pictures, rendered once by the worker and kept beside the upload
(app/uploads/media_store.py: in the upload folder or the media bucket) in `<file>.pages/`: `manifest.json` (page count, each page's size in points), then `page-N.png` and
`text-N.json` (the text layer's words, boxes as fractions 0-1 of the page) for N = 1, 2, ... in order,
so page 1 is there first. Every file is written to a scratch file and then stored whole, so a killed worker
leaves no half page; a job asked for again renders only the pages still missing. The check at upload
time (damaged, password, too many pages or pixels) runs pypdfium2 in a child process
(app/uploads/pdf_probe.py): the web process never loads PDFium."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from app import jobs
from app.errors import InputError
from app.settings import settings
from app.uploads import media_store, pdf_probe

KIND = "pdf_pages"
STALE = 600  # seconds after which a queued rendering that left nothing is asked for again
PROBE_TIMEOUT = 60


def folder_of(file: str) -> str:
    return file + ".pages"


def page_key(file: str, page: int) -> str:
    return f"{folder_of(file)}/page-{page}.png"


def text_key(file: str, page: int) -> str:
    return f"{folder_of(file)}/text-{page}.json"


def manifest_key(file: str) -> str:
    return f"{folder_of(file)}/manifest.json"


def _key(file: str, name: str) -> str:
    return f"{folder_of(file)}/{name}"


async def probe(path: Path, name: str, file: str | None) -> dict[str, Any]:
    """Check an uploaded PDF (at `path`, about to be stored as `file`) in a child process and keep its
    manifest; InputError (a 400 naming the file) if bad."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app.uploads.pdf_probe", str(path), str(settings.pdf_max_pages),
        str(settings.pdf_max_pixels), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            out, _ = await proc.communicate()
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise InputError({"file": [f"{name} took too long to read as a PDF."]}) from None
    try:
        found = json.loads(out or b"{}")
    except ValueError:
        found = {}
    if "sizes" not in found:  # a crash of PDFium on a hostile file is a refusal too
        raise InputError({"file": [f"{name} {found.get('error') or 'is not a readable PDF'}."]})
    if file is not None:  # a replacement's new content (None): the worker reads it once it is in place
        manifest = json.dumps({"pages": len(found["sizes"]), "sizes": found["sizes"]}).encode()
        await asyncio.to_thread(media_store.current().write, manifest_key(file), manifest)
    return {"content_type": "application/pdf", "width": None, "height": None}


def manifest(file: str) -> dict[str, Any] | None:
    try:
        return json.loads(media_store.current().read(manifest_key(file)) or b"")
    except ValueError:
        return None


def page_urls(url: str | None) -> list[str]:
    """The addresses of a PDF upload's page images (known from the manifest kept at upload), for an
    `<Image valueList>`: each serves once the worker has rendered it."""
    found = manifest(url.removeprefix("/data/upload/")) if url and url.startswith("/data/upload/") else None
    return [f"{url}/pages/{n}" for n in range(1, (found or {}).get("pages", 0) + 1)]


async def ask(file: str, project_id: int | None) -> None:
    """Queue the rendering of a stored PDF upload (once: a queued one is not asked for again until stale)."""
    if await asyncio.to_thread(media_store.mark_queued, file, _key(file, "queued"), STALE):
        await jobs.enqueue(KIND, project_id=project_id, user_id=None, params={"file": file}, quiet=True)


def want(file: str, page: int) -> None:
    """Someone is waiting for this page: the rendering job takes it next (a jump to page 150 of a
    document still being rendered waits for one page, not for 149)."""
    with contextlib.suppress(OSError, ValueError):
        media_store.current().write(_key(file, f"wanted-{page}"), b"")


def _next_page(names: set[str], pending: list[int]) -> int:
    """The page to render next: one someone is waiting for, else the first still missing."""
    wanted = {int(n[7:]) for n in names if n.startswith("wanted-") and n[7:].isdigit()}
    return next((n for n in pending if n in wanted), pending[0])


def _missing(names: set[str], count: int) -> list[int]:
    return [n for n in range(1, count + 1) if f"page-{n}.png" not in names or f"text-{n}.json" not in names]


def render_all(file: str) -> dict[str, Any]:
    """The worker's job: every missing page rendered, page 1 first (blocking; run in a thread)."""
    started, kept = time.monotonic(), media_store.current()
    with media_store.local_copy(file) as path:  # a bucket's object is fetched first: PDFium reads files
        if path is None:
            raise jobs.JobFailed("No pages: the upload is no longer stored", {"error": "missing"})
        try:
            sizes = pdf_probe.sizes(str(path), settings.pdf_max_pages, settings.pdf_max_pixels)
        except pdf_probe.BadPdf as exc:
            kept.write(_key(file, "error"), str(exc).encode())
            raise jobs.JobFailed(f"No pages for {file.rsplit('/', 1)[-1]}: it {exc}", {"error": str(exc)}) from None
        kept.write(manifest_key(file), json.dumps({"pages": len(sizes), "sizes": sizes}).encode())
        doc, done = pdf_probe.open_document(str(path)), 0
        try:
            # the missing pages are counted again after each page and once more after the marker is gone:
            # a page asked for (or lost) while this job runs is rendered by it, not left for the next ask
            while True:
                names = kept.names(folder_of(file))
                pending = _missing(names, len(sizes))
                if not pending:
                    kept.delete(_key(file, "queued"))
                    if not (pending := _missing(kept.names(folder_of(file)), len(sizes))):
                        break
                page = _next_page(names, pending)
                picture, text = kept.scratch(page_key(file, page)), kept.scratch(text_key(file, page))
                try:
                    pdf_probe.render_page(doc, page - 1, str(picture), str(text))
                    kept.put_file(text_key(file, page), text)
                    kept.put_file(page_key(file, page), picture)  # the picture last: a page is there when its picture is
                finally:
                    picture.unlink(missing_ok=True)
                    text.unlink(missing_ok=True)
                kept.delete(_key(file, f"wanted-{page}"))
                done += 1
        finally:
            doc.close()
    return {"pages": len(sizes), "rendered": done, "took": round(time.monotonic() - started, 3)}


def _state(file: str) -> tuple[bytes | None, dict[str, Any] | None, bool]:
    kept = media_store.current()
    error = kept.read(_key(file, "error"))
    found = manifest(file) if error is None else None
    last = kept.stat(page_key(file, found["pages"])) is not None if found else False
    return error, found, last


async def state(file: str) -> dict[str, Any]:
    """What the workspace shows of a stored PDF: its page count and sizes, and how many pages are ready
    (asked for when some are missing)."""
    error, found, last_ready = await asyncio.to_thread(_state, file)
    if error is not None:
        return {"pdf_state": "failed", "pdf_error": error.decode(errors="replace")[:300]}
    if not found or not last_ready:
        await ask(file, media_store.project_of(file))
    if not found:
        return {"pdf_state": "pending"}
    return {"pdf_state": "ready" if last_ready else "rendering", "pages": found["pages"], "sizes": found["sizes"]}
