"""The uploads domain's background jobs: an audio file's waveform peaks and spectrogram, computed once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from app.jobs import JobFailed, handler
from app.uploads import media_store, pdf_pages, thumbnails, waveform

if TYPE_CHECKING:
    from app.tables import Job


@handler(waveform.KIND)
async def audio_peaks(job: Job) -> dict[str, Any]:
    """Decode a stored audio upload and keep its peaks beside it (see app/uploads/waveform.py)."""
    return await waveform.compute(_file(job), int((job.params or {}).get("channels") or 1))


@handler(waveform.SPECTRUM_KIND)
async def audio_spectrogram(job: Job) -> dict[str, Any]:
    """Draw a stored audio upload's spectrogram once, for `<Audio spectrogram="true">`."""
    return await waveform.compute_spectrogram(_file(job))


@handler(pdf_pages.KIND)
async def pdf_render(job: Job) -> dict[str, Any]:
    """Render a stored PDF upload's pages and text layer once, page 1 first (see app/uploads/pdf_pages.py)."""
    return await asyncio.to_thread(pdf_pages.render_all, _file(job))


def _file(job: Job) -> str:
    file = str((job.params or {}).get("file", ""))
    if not media_store.UPLOAD_KEY.fullmatch(file):
        raise JobFailed(f"No such upload: {file[:100]!r}", {"error": "missing"})
    return file


@handler(thumbnails.KIND)
async def make_thumbnails(job: Job) -> dict[str, Any]:
    """The task list's thumbnails of a page's pictures, each made once (see app/uploads/thumbnails.py)."""
    return await thumbnails.make_all(int(job.project or 0), list((job.params or {}).get("pictures", [])))
