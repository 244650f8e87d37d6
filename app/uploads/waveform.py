"""Waveform peaks of an uploaded audio file, computed once in the worker and kept beside it
(app/uploads/media_store.py: in the upload folder or the media bucket).

ffmpeg decodes the file to 8-bit PCM at 8 kHz through a pipe (a two-hour file never sits in
memory), and every 10 ms (80 samples) of each channel becomes one bucket: its lowest and highest
sample, two signed bytes. 100 buckets a second is finer than the 20 ms an annotator can place an
edge by mouse, and keeps a two-hour mono file at 1.4 MB (one minute: 12 kB; stereo twice that),
which the browser reads once and draws at any zoom, per channel for `splitchannels`. The file is written to a scratch file and then stored whole, so an interrupted job
leaves no half file; a file ffmpeg cannot decode leaves the reason beside it instead."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import struct
import time
from pathlib import Path
from typing import Any

from app import jobs
from app.uploads import media_store

KIND, SPECTRUM_KIND = "audio_peaks", "audio_spectrogram"
SPECTRUM_SIZE = "2048x160"  # the whole file in one picture, stretched with the zoom: an overview, not a tool
RATE = 8000  # samples a second decoded: the waveform shows what lies below 4 kHz, where speech's energy is
PER_SECOND = 100  # buckets a second
SPAN = RATE // PER_SECOND  # samples a bucket
MAGIC, VERSION = b"LWPK", 1
HEADER = struct.Struct("<4sHHII")  # magic, version, channels, buckets a second, bucket count
CHUNK = SPAN * 8192  # bytes read from ffmpeg at a time (about 82 s of audio)
TIMEOUT = 1800  # seconds for one file: a two-hour file takes a few
STALE = 600  # seconds after which a queued computation that left nothing is asked for again
SIGNED = bytes((b ^ 0x80) for b in range(256))  # unsigned 8-bit PCM to two's complement int8
KEPT_ERRORS = 2000
MAX_CHANNELS = 8  # waveforms kept a file (splitchannels draws each); a file with more is drawn from its first 8


def peaks_key(file: str) -> str:
    return file + ".peaks"


def error_key(file: str) -> str:
    return file + ".peaks-error"


def queued_key(file: str, kind: str = KIND) -> str:
    return file + (".peaks-queued" if kind == KIND else ".spectrogram-queued")


def spectrogram_key(file: str) -> str:
    return file + ".spectrogram.png"


def thumbnail_key(file: str) -> str:
    """The task list's thumbnail of an image upload (made by app/uploads/thumbnails.py)."""
    return file + ".thumb.jpg"


def buckets(pcm: bytes, channels: int = 1) -> bytes:
    """min, max (int8) of each whole bucket of unsigned 8-bit samples (interleaved by channel), as
    min, max of channel 0, then of channel 1… for each bucket."""
    out = bytearray(2 * channels * (len(pcm) // (SPAN * channels)))
    for c in range(channels):
        samples = pcm[c::channels]
        n = len(out) // (2 * channels) * SPAN
        out[2 * c::2 * channels] = bytes([min(samples[i:i + SPAN]) for i in range(0, n, SPAN)])
        out[2 * c + 1::2 * channels] = bytes([max(samples[i:i + SPAN]) for i in range(0, n, SPAN)])
    return bytes(out).translate(SIGNED)


async def _drain(stream: asyncio.StreamReader) -> bytes:
    kept = b""
    while chunk := await stream.read(65536):
        kept = (kept + chunk)[:KEPT_ERRORS]
    return kept


async def compute(file: str, channels: int = 1) -> dict[str, Any]:
    """Decode the upload `file` and keep its peaks (one waveform a channel, for `splitchannels`);
    raises jobs.JobFailed (and leaves the reason) when ffmpeg cannot decode it."""
    channels = min(MAX_CHANNELS, max(1, channels))
    tool = shutil.which("ffmpeg")
    if tool is None:
        return await _failed(file, "ffmpeg is not installed on the server, so no waveform can be computed")
    started, kept = time.monotonic(), media_store.current()
    part = kept.scratch(peaks_key(file))
    source = None
    try:
        source = await asyncio.to_thread(kept.fetch, file)  # a bucket's object is fetched first: ffmpeg reads files
        if source is None:
            raise jobs.JobFailed(f"No waveform: the upload {file!r} is no longer stored", {"error": "missing"})
        count, code, errors = await _decode(tool, source, part, channels)
        if code != 0 or not count:
            reason = errors.decode("utf-8", "replace").strip().splitlines()
            return await _failed(file, "ffmpeg cannot decode this audio" + (f": {reason[0][:200]}" if reason else ""))
        if await asyncio.to_thread(kept.stat, file) is None:  # deleted meanwhile: nothing to keep beside it
            raise jobs.JobFailed(f"No waveform for {file}: the file was deleted", {"error": "deleted"})
        size = part.stat().st_size
        await asyncio.to_thread(kept.put_file, peaks_key(file), part)
    except TimeoutError:
        return await _failed(file, f"decoding took longer than {TIMEOUT} s")
    finally:
        part.unlink(missing_ok=True)
        kept.release(source)
    await asyncio.to_thread(_done, file, KIND)
    return {"buckets": count, "seconds": round(count / PER_SECOND, 2), "bytes": size,
            "took": round(time.monotonic() - started, 3)}


async def _decode(tool: str, source: Path, part: Path, channels: int) -> tuple[int, int, bytes]:
    """ffmpeg's PCM of `source` turned into the peaks file `part`: (buckets, exit code, complaints)."""
    frame = SPAN * channels
    proc = await asyncio.create_subprocess_exec(
        tool, "-nostdin", "-v", "error", "-xerror", "-i", str(source), "-map", "0:a:0", "-ac", str(channels),
        "-ar", str(RATE), "-f", "u8", "-acodec", "pcm_u8", "pipe:1",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    complaints = asyncio.ensure_future(_drain(proc.stderr))
    count, rest = 0, b""
    try:
        with open(part, "wb") as out:
            out.write(HEADER.pack(MAGIC, VERSION, channels, PER_SECOND, 0))
            async with asyncio.timeout(TIMEOUT):
                while chunk := await proc.stdout.read(CHUNK * channels):
                    pcm = rest + chunk
                    whole = len(pcm) // frame * frame
                    out.write(buckets(pcm[:whole], channels))
                    count, rest = count + whole // frame, pcm[whole:]
                if len(rest) >= channels:  # the last bucket may be short: its last sample repeated
                    last = rest[len(rest) // channels * channels - channels:len(rest) // channels * channels]
                    out.write(buckets(rest[:len(rest) // channels * channels] + last * SPAN, channels)[:2 * channels])
                    count += 1
                errors = await complaints
                code = await proc.wait()
            out.seek(0)
            out.write(HEADER.pack(MAGIC, VERSION, channels, PER_SECOND, count))
            out.flush()
            os.fsync(out.fileno())
    finally:
        complaints.cancel()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
    return count, code, errors


def _done(file: str, kind: str) -> None:
    kept = media_store.current()
    if kind == KIND:
        kept.delete(error_key(file))
    kept.delete(queued_key(file, kind))


async def _failed(file: str, reason: str) -> dict[str, Any]:
    await asyncio.to_thread(media_store.current().write, error_key(file), reason.encode())
    await asyncio.to_thread(media_store.current().delete, queued_key(file))
    raise jobs.JobFailed(f"No waveform for {file.rsplit('/', 1)[-1]}: {reason}", {"error": reason})


async def ask(file: str, project_id: int | None, kind: str = KIND, channels: int | None = 1) -> None:
    """Queue the computation for a stored upload (once: a queued one is not asked for again until stale)."""
    if await asyncio.to_thread(media_store.mark_queued, file, queued_key(file, kind), STALE):
        await jobs.enqueue(kind, project_id=project_id, user_id=None,
                           params={"file": file, "channels": channels or 1}, quiet=True)


async def compute_spectrogram(file: str) -> dict[str, Any]:
    """The whole file's spectrum as one PNG (ffmpeg's showspectrumpic). A failure leaves the queued
    marker, so it is not asked for again until stale."""
    tool = shutil.which("ffmpeg")
    if tool is None:
        raise jobs.JobFailed("ffmpeg is not installed on the server", {"error": "no ffmpeg"})
    kept = media_store.current()
    part, source = kept.scratch(spectrogram_key(file)), None
    try:
        source = await asyncio.to_thread(kept.fetch, file)
        if source is None:
            raise jobs.JobFailed("No spectrogram: the upload is no longer stored", {"error": "missing"})
        proc = await asyncio.create_subprocess_exec(
            tool, "-nostdin", "-v", "error", "-y", "-i", str(source), "-filter_complex",
            f"[0:a:0]aformat=channel_layouts=mono,showspectrumpic=s={SPECTRUM_SIZE}:legend=0:scale=log",
            "-frames:v", "1", "-f", "image2", "-c:v", "png", str(part),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            async with asyncio.timeout(TIMEOUT):
                _, errors = await proc.communicate()
        finally:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if proc.returncode != 0 or not part.is_file() or not part.stat().st_size:
            reason = errors.decode("utf-8", "replace").strip().splitlines()
            raise jobs.JobFailed("ffmpeg cannot draw this audio's spectrogram" + (f": {reason[0][:200]}" if reason else ""),
                                 {"error": "ffmpeg"})
        size = part.stat().st_size
        await asyncio.to_thread(kept.put_file, spectrogram_key(file), part)
    finally:
        part.unlink(missing_ok=True)
        kept.release(source)
    await asyncio.to_thread(_done, file, SPECTRUM_KIND)
    return {"bytes": size}


async def spectrogram(file: str) -> tuple[str, str] | None:
    """The upload's spectrogram (its key, its version) once drawn; until then None, and it is asked for."""
    found = await media_store.exists(spectrogram_key(file))
    if found is not None:
        return spectrogram_key(file), found.stamp
    await ask(file, media_store.project_of(file), SPECTRUM_KIND)
    return None


async def state(file: str, address: str, channels: int | None = 1) -> dict[str, Any]:
    """What the player shows of a stored audio upload's waveform: its peaks address when computed,
    else whether it is coming or why there is none (and it is asked for when missing)."""
    kept = media_store.current()
    found = await asyncio.to_thread(kept.stats, [file, peaks_key(file), error_key(file)])
    if found[file] is None:
        return {"peaks": None, "peaks_state": "failed", "peaks_error": "the stored file is missing"}
    if found[peaks_key(file)] is not None:
        return {"peaks": f"{address}/peaks?v={found[peaks_key(file)].stamp}", "peaks_state": "ready", "peaks_error": None}
    if found[error_key(file)] is not None:
        reason = await asyncio.to_thread(kept.read, error_key(file))
        return {"peaks": None, "peaks_state": "failed", "peaks_error": (reason or b"").decode(errors="replace")[:300]}
    await ask(file, media_store.project_of(file), KIND, channels)
    return {"peaks": f"{address}/peaks", "peaks_state": "pending", "peaks_error": None}
