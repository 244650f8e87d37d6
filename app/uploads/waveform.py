"""Waveform peaks of an uploaded audio file, computed once in the worker and kept next to it.

ffmpeg decodes the file to 8-bit PCM at 8 kHz through a pipe (a two-hour file never sits in
memory), and every 10 ms (80 samples) of each channel becomes one bucket: its lowest and highest
sample, two signed bytes. 100 buckets a second is finer than the 20 ms an annotator can place an
edge by mouse, and keeps a two-hour mono file at 1.4 MB (one minute: 12 kB; stereo twice that),
which the browser reads once and draws at any zoom, per channel for `splitchannels`. The file is written under a temporary name and renamed, so an interrupted job
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
from app.settings import settings

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


def peaks_path(stored: Path) -> Path:
    return stored.with_name(stored.name + ".peaks")


def error_path(stored: Path) -> Path:
    return stored.with_name(stored.name + ".peaks-error")


def queued_path(stored: Path, kind: str = KIND) -> Path:
    return stored.with_name(stored.name + (".peaks-queued" if kind == KIND else ".spectrogram-queued"))


def spectrogram_path(stored: Path) -> Path:
    return stored.with_name(stored.name + ".spectrogram.png")


def thumbnail_path(stored: Path) -> Path:
    """The task list's thumbnail of an image upload (made by app/uploads/thumbnails.py)."""
    return stored.with_name(stored.name + ".thumb.jpg")


def files_of(stored: Path) -> list[Path]:
    """Every file kept beside an upload (waveform, spectrogram, thumbnail): gone with it, or when it is replaced."""
    thumb = thumbnail_path(stored)
    return [peaks_path(stored), error_path(stored), queued_path(stored), spectrogram_path(stored),
            queued_path(stored, SPECTRUM_KIND), thumb, thumb.with_name(thumb.name + ".error"),
            thumb.with_name(thumb.name + ".queued")]


def forget(stored: Path) -> None:
    # with any half file a killed worker left (never served: no address names it)
    for path in [*files_of(stored), *stored.parent.glob(f"{stored.name}.*.part*")]:
        path.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_bytes(data)
    os.replace(part, path)


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


async def compute(stored: Path, channels: int = 1) -> dict[str, Any]:
    """Decode `stored` and write its peaks file (one waveform a channel, for `splitchannels`); raises
    jobs.JobFailed (and leaves the reason) when ffmpeg cannot decode it."""
    channels = min(MAX_CHANNELS, max(1, channels))
    frame = SPAN * channels
    tool = shutil.which("ffmpeg")
    if tool is None:
        return _failed(stored, "ffmpeg is not installed on the server, so no waveform can be computed")
    started = time.monotonic()
    target = peaks_path(stored)
    part = target.with_name(f"{target.name}.{os.getpid()}.part")
    proc = await asyncio.create_subprocess_exec(
        tool, "-nostdin", "-v", "error", "-xerror", "-i", str(stored), "-map", "0:a:0", "-ac", str(channels), "-ar", str(RATE),
        "-f", "u8", "-acodec", "pcm_u8", "pipe:1",
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
        if code != 0 or not count:
            reason = errors.decode("utf-8", "replace").strip().splitlines()
            return _failed(stored, "ffmpeg cannot decode this audio" + (f": {reason[0][:200]}" if reason else ""))
        if not stored.exists():  # deleted meanwhile: nothing to keep beside it
            raise jobs.JobFailed(f"No waveform for {stored.name}: the file was deleted", {"error": "deleted"})
        os.replace(part, target)
    except TimeoutError:
        return _failed(stored, f"decoding took longer than {TIMEOUT} s")
    finally:
        complaints.cancel()
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        part.unlink(missing_ok=True)
    error_path(stored).unlink(missing_ok=True)
    queued_path(stored).unlink(missing_ok=True)
    return {"buckets": count, "seconds": round(count / PER_SECOND, 2), "bytes": target.stat().st_size,
            "took": round(time.monotonic() - started, 3)}


def _failed(stored: Path, reason: str) -> dict[str, Any]:
    _write_atomic(error_path(stored), reason.encode())
    queued_path(stored).unlink(missing_ok=True)
    raise jobs.JobFailed(f"No waveform for {stored.name}: {reason}", {"error": reason})


def stored_path(file: str) -> Path | None:
    """The stored upload `<project>/<name>` inside the upload folder, or None."""
    folder = settings.upload_dir.resolve()
    path = (folder / file).resolve()
    return path if path.is_relative_to(folder) and path.is_file() else None


async def ask(file: str, project_id: int | None, kind: str = KIND, channels: int | None = 1) -> None:
    """Queue the computation for a stored upload (once: a queued one is not asked for again until stale)."""
    path = stored_path(file)
    if path is None:
        return
    marker = queued_path(path, kind)
    with contextlib.suppress(FileNotFoundError):
        if time.time() - marker.stat().st_mtime < STALE:
            return
    _write_atomic(marker, b"")
    await jobs.enqueue(kind, project_id=project_id, user_id=None, params={"file": file, "channels": channels or 1},
                       quiet=True)


async def compute_spectrogram(stored: Path) -> dict[str, Any]:
    """The whole file's spectrum as one PNG (ffmpeg's showspectrumpic), written under a temporary
    name and renamed. A failure leaves the queued marker, so it is not asked for again until stale."""
    tool = shutil.which("ffmpeg")
    if tool is None:
        raise jobs.JobFailed("ffmpeg is not installed on the server", {"error": "no ffmpeg"})
    target = spectrogram_path(stored)
    part = target.with_name(f"{target.name}.{os.getpid()}.part.png")
    proc = await asyncio.create_subprocess_exec(
        tool, "-nostdin", "-v", "error", "-y", "-i", str(stored), "-filter_complex",
        f"[0:a:0]aformat=channel_layouts=mono,showspectrumpic=s={SPECTRUM_SIZE}:legend=0:scale=log", "-frames:v", "1",
        str(part), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        async with asyncio.timeout(TIMEOUT):
            _, errors = await proc.communicate()
        if proc.returncode != 0 or not part.is_file():
            reason = errors.decode("utf-8", "replace").strip().splitlines()
            raise jobs.JobFailed("ffmpeg cannot draw this audio's spectrogram" + (f": {reason[0][:200]}" if reason else ""),
                                 {"error": "ffmpeg"})
        os.replace(part, target)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        part.unlink(missing_ok=True)
    queued_path(stored, SPECTRUM_KIND).unlink(missing_ok=True)
    return {"bytes": target.stat().st_size}


async def spectrogram(stored: Path, file: str) -> Path | None:
    """The upload's spectrogram once computed; until then None, and it is asked for."""
    if spectrogram_path(stored).is_file():
        return spectrogram_path(stored)
    await ask(file, int(file.split("/", 1)[0]) if file.split("/", 1)[0].isdigit() else None, SPECTRUM_KIND)
    return None


async def state(file: str, address: str, channels: int | None = 1) -> dict[str, Any]:
    """What the player shows of a stored audio upload's waveform: its peaks address when computed,
    else whether it is coming or why there is none (and it is asked for when missing)."""
    path = stored_path(file)
    if path is None:
        return {"peaks": None, "peaks_state": "failed", "peaks_error": "the stored file is missing"}
    try:
        stamp = peaks_path(path).stat().st_mtime_ns
    except FileNotFoundError:
        stamp = None
    if stamp is not None:
        return {"peaks": f"{address}/peaks?v={stamp}", "peaks_state": "ready", "peaks_error": None}
    if error_path(path).exists():
        return {"peaks": None, "peaks_state": "failed",
                "peaks_error": error_path(path).read_text(errors="replace")[:300]}
    await ask(file, int(file.split("/", 1)[0]) if file.split("/", 1)[0].isdigit() else None, KIND, channels)
    return {"peaks": f"{address}/peaks", "peaks_state": "pending", "peaks_error": None}
