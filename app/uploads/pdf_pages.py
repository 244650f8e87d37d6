"""A PDF upload's pages as pictures, rendered once by the worker and kept beside the upload in
`<file>.pages/`: `manifest.json` (page count, each page's size in points), then `page-N.png` and
`text-N.json` (the text layer's words, boxes as fractions 0-1 of the page) for N = 1, 2, ... in order,
so page 1 is there first. Every file is written under a temporary name and renamed, so a killed worker
leaves no half page; a job asked for again renders only the pages still missing. The check at upload
time (damaged, password, too many pages or pixels) runs pypdfium2 in a child process
(app/uploads/pdf_probe.py): the web process never loads PDFium."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from app import jobs
from app.errors import InputError
from app.settings import settings
from app.uploads import pdf_probe

KIND = "pdf_pages"
STALE = 600  # seconds after which a queued rendering that left nothing is asked for again
PROBE_TIMEOUT = 60


def folder_of(stored: Path) -> Path:
    return stored.with_name(stored.name + ".pages")


def page_path(stored: Path, page: int) -> Path:
    return folder_of(stored) / f"page-{page}.png"


def text_path(stored: Path, page: int) -> Path:
    return folder_of(stored) / f"text-{page}.json"


def manifest_path(stored: Path) -> Path:
    return folder_of(stored) / "manifest.json"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_bytes(data)
    os.replace(part, path)


def forget(stored: Path) -> None:
    shutil.rmtree(folder_of(stored), ignore_errors=True)


async def probe(path: Path, name: str) -> dict[str, Any]:
    """Check an uploaded PDF in a child process and keep its manifest; InputError (a 400 naming the file) if bad."""
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
    if not path.name.endswith(".part"):  # a replacement's new content: the worker reads it once it is in place
        _write_atomic(manifest_path(path), json.dumps({"pages": len(found["sizes"]), "sizes": found["sizes"]}).encode())
    return {"content_type": "application/pdf", "width": None, "height": None}


def manifest(stored: Path) -> dict[str, Any] | None:
    try:
        return json.loads(manifest_path(stored).read_text())
    except (OSError, ValueError):
        return None


def page_urls(stored: Path | None, url: str | None) -> list[str]:
    """The addresses of a PDF upload's page images (known from the manifest kept at upload), for an
    `<Image valueList>`: each serves once the worker has rendered it."""
    found = manifest(stored) if stored else None
    return [f"{url}/pages/{n}" for n in range(1, (found or {}).get("pages", 0) + 1)]


async def ask(file: str, project_id: int | None) -> None:
    """Queue the rendering of a stored PDF upload (once: a queued one is not asked for again until stale)."""
    folder = settings.upload_dir.resolve()
    path = (folder / file).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return
    marker = folder_of(path) / "queued"
    with contextlib.suppress(FileNotFoundError):
        if time.time() - marker.stat().st_mtime < STALE:
            return
    _write_atomic(marker, b"")
    await jobs.enqueue(KIND, project_id=project_id, user_id=None, params={"file": file}, quiet=True)


def want_path(stored: Path, page: int) -> Path:
    return folder_of(stored) / f"wanted-{page}"


def want(stored: Path, page: int) -> None:
    """Someone is waiting for this page: the rendering job takes it next (a jump to page 150 of a
    document still being rendered waits for one page, not for 149)."""
    with contextlib.suppress(OSError):
        want_path(stored, page).touch()


def _next_page(stored: Path, pending: list[int]) -> int:
    """The page to render next: one someone is waiting for, else the first still missing."""
    wanted = {int(p.name[7:]) for p in folder_of(stored).glob("wanted-*") if p.name[7:].isdigit()}
    return next((n for n in pending if n in wanted), pending[0])


def _missing(stored: Path, count: int) -> list[int]:
    return [n for n in range(1, count + 1) if not (page_path(stored, n).is_file() and text_path(stored, n).is_file())]


def render_all(stored: Path) -> dict[str, Any]:
    """The worker's job: every missing page rendered, page 1 first (blocking; run in a thread)."""
    started = time.monotonic()
    try:
        sizes = pdf_probe.sizes(str(stored), settings.pdf_max_pages, settings.pdf_max_pixels)
    except pdf_probe.BadPdf as exc:
        _write_atomic(folder_of(stored) / "error", str(exc).encode())
        raise jobs.JobFailed(f"No pages for {stored.name}: it {exc}", {"error": str(exc)}) from None
    _write_atomic(manifest_path(stored), json.dumps({"pages": len(sizes), "sizes": sizes}).encode())
    doc, done, marker = pdf_probe.open_document(str(stored)), 0, folder_of(stored) / "queued"
    try:
        # the missing pages are counted again after each page and once more after the marker is gone:
        # a page asked for (or lost) while this job runs is rendered by it, not left for the next ask
        while True:
            pending = _missing(stored, len(sizes))
            if not pending:
                marker.unlink(missing_ok=True)
                if not (pending := _missing(stored, len(sizes))):
                    break
            page = _next_page(stored, pending)
            picture, text = page_path(stored, page), text_path(stored, page)
            parts = [p.with_name(f"{p.name}.{os.getpid()}.part") for p in (picture, text)]
            pdf_probe.render_page(doc, page - 1, str(parts[0]), str(parts[1]))
            os.replace(parts[1], text)
            os.replace(parts[0], picture)  # the picture last: a page is there when its picture is
            want_path(stored, page).unlink(missing_ok=True)
            done += 1
    finally:
        doc.close()
    return {"pages": len(sizes), "rendered": done, "took": round(time.monotonic() - started, 3)}


async def state(file: str) -> dict[str, Any]:
    """What the workspace shows of a stored PDF: its page count and sizes, and how many pages are ready
    (asked for when some are missing)."""
    path = settings.upload_dir / file
    if (folder_of(path) / "error").is_file():
        return {"pdf_state": "failed", "pdf_error": (folder_of(path) / "error").read_text(errors="replace")[:300]}
    found = manifest(path)
    pages = found["pages"] if found else 0
    if not found or not page_path(path, pages).is_file():
        await ask(file, int(file.split("/", 1)[0]) if file.split("/", 1)[0].isdigit() else None)
    if not found:
        return {"pdf_state": "pending"}
    return {"pdf_state": "ready" if page_path(path, pages).is_file() else "rendering", "pages": pages,
            "sizes": found["sizes"]}
