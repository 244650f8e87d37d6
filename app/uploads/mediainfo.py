"""Audio and video files, read once with ffprobe when they are stored: what they are (the container
their name promises, with a stream of their kind), their duration, and for video the frame rate,
size and frame count; every packet of the main stream is read, so a truncated file is found here
and not by an annotator halfway through it. ffprobe runs as a subprocess with a time limit, never
through a shell and never on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from pathlib import Path
from typing import Any

from app.data_import.readers import AUDIO_TYPES, VIDEO_TYPES
from app.errors import InputError

MEDIA_TYPES = {**AUDIO_TYPES, **VIDEO_TYPES}
# the demuxer ffprobe names for each extension's container (format_name is a comma-separated family)
CONTAINERS = {"wav": "wav", "mp3": "mp3", "flac": "flac", "ogg": "ogg", "m4a": "mov", "mp4": "mov", "mov": "mov",
              "webm": "webm"}
SHOWN = {"wav": "WAV", "mp3": "MP3", "flac": "FLAC", "ogg": "Ogg", "mov": "MP4/MOV", "matroska": "Matroska/WebM"}
HEADER_SECONDS = 15  # reading a file's header
READ_SECONDS = 300  # reading every packet: a two-hour file takes seconds
SHORT_BY = 0.5  # seconds (or 2 %) a file's packets may end before its stated duration: more is a truncated file
KEPT_ERRORS = 4096  # bytes of ffprobe's complaints kept
NO_MEDIA_INFO = {"duration": None, "frame_rate": None, "frame_count": None, "sample_rate": None, "channels": None}


def kind_of(ext: str) -> str | None:
    return "audio" if ext in AUDIO_TYPES else "video" if ext in VIDEO_TYPES else None


def ffprobe() -> str | None:
    return shutil.which("ffprobe")


def refused(name: str, why: str) -> InputError:
    return InputError({"file": [f"{name}: {why}"]})


async def _run(args: list[str], timeout: float) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(*args, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except BaseException:
        await _stop(proc)
        raise
    return proc.returncode, out, err


async def _stop(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()


async def _errors(stream: asyncio.StreamReader) -> bytes:
    kept = b""
    while chunk := await stream.read(65536):  # drained to the end, so ffprobe never blocks on it
        kept = (kept + chunk)[:KEPT_ERRORS]
    return kept


async def _packets(tool: str, path: Path, stream: str, timeout: float) -> tuple[int, float, bytes]:
    """Packets of the stream read to the end of the file, where the last one ends (seconds), and
    what ffprobe complained of; line by line, so a long file costs no memory."""
    proc = await asyncio.create_subprocess_exec(
        tool, "-v", "error", "-select_streams", stream, "-show_entries", "packet=pts_time,duration_time",
        "-of", "csv=p=0", str(path), stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    count, end = 0, 0.0
    complaints = asyncio.ensure_future(_errors(proc.stderr))
    try:
        async with asyncio.timeout(timeout):
            async for line in proc.stdout:
                count += 1
                pts, _, length = line.decode("ascii", "replace").strip().partition(",")
                try:
                    end = max(end, float(pts) + (float(length) if length not in ("", "N/A") else 0.0))
                except ValueError:
                    pass
            errors = await complaints
            await proc.wait()
    except BaseException:
        complaints.cancel()
        await _stop(proc)
        raise
    return count, end, errors


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _rate(value: Any) -> float | None:
    """ffprobe's '25/1' or '30000/1001' as frames per second; None for '0/0'."""
    top, _, bottom = str(value or "").partition("/")
    top_n, bottom_n = _number(top), _number(bottom or 1)
    return round(top_n / bottom_n, 6) if top_n and bottom_n else None


async def probe(path: Path, name: str, ext: str) -> dict[str, Any]:
    """The media info of an audio or video file, or a 400 naming it: not installed, not readable,
    not what its name says, truncated, or a video whose frames cannot be counted."""
    kind, tool = kind_of(ext), ffprobe()
    if tool is None:
        raise refused(name, "audio and video cannot be imported on this server: ffprobe (the ffmpeg package) is "
                            "not installed. Ask the administrator to install ffmpeg.")
    try:
        code, out, _ = await _run([tool, "-v", "error", "-show_entries",
                                   "format=format_name,duration:stream=index,codec_type,codec_name,duration,width,"
                                   "height,avg_frame_rate,r_frame_rate,sample_rate,channels:stream_disposition="
                                   "attached_pic", "-of", "json", str(path)], HEADER_SECONDS)
    except TimeoutError:
        raise refused(name, f"reading this file took longer than {HEADER_SECONDS} s; it may be damaged.") from None
    info = json.loads(out or b"{}") if code == 0 else {}
    if not info.get("format"):
        raise refused(name, f"not a readable {kind} file (ffprobe cannot read it; it may be damaged or "
                            "something else under this name).")
    container = info["format"].get("format_name", "")
    if CONTAINERS[ext] not in container.split(","):
        inside = SHOWN.get(container.split(",")[0], container.split(",")[0])
        raise refused(name, f"the file inside is {inside}, not {ext.upper()}: rename it or convert it.")
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == kind
               and not (s.get("disposition") or {}).get("attached_pic")]  # an album cover is no video
    if not streams:
        raise refused(name, f"it holds no {kind} stream, so it is not the {kind} file its name says.")
    main = streams[0]
    stated = _number(info["format"].get("duration")) or _number(main.get("duration"))
    try:
        count, end, errors = await _packets(tool, path, str(main["index"]), READ_SECONDS)
    except TimeoutError:
        raise refused(name, f"reading this file took longer than {READ_SECONDS} s; it may be damaged.") from None
    if errors.strip() or not count or (stated and stated - end > max(SHORT_BY, 0.02 * stated)):
        raise refused(name, f"the {kind} is truncated or damaged (its data ends before its stated length"
                            + (f": {errors.decode('utf-8', 'replace').strip().splitlines()[0][:200]}" if errors.strip()
                               else "") + ").")
    described = {"content_type": MEDIA_TYPES[ext], "duration": round(stated or end, 6), "width": None, "height": None,
                 "frame_rate": None, "frame_count": None, "sample_rate": None, "channels": None}
    if kind == "audio":
        described.update(sample_rate=int(_number(main.get("sample_rate")) or 0) or None,
                         channels=int(_number(main.get("channels")) or 0) or None)
        return described
    rate = _rate(main.get("avg_frame_rate")) or _rate(main.get("r_frame_rate"))
    if rate is None or not main.get("width"):
        raise refused(name, "the video's frame rate or size cannot be read, so its frames cannot be counted.")
    described.update(width=int(main["width"]), height=int(main["height"]), frame_rate=rate, frame_count=count)
    return described
