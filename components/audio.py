"""<Audio> (and Label Studio's older name <AudioPlus>, the same class): an HTML5 player over a
waveform (peaks the server computed, app/uploads/waveform.py) and a timeline of the time segments
that <Labels toName="audio"> makes, in lanes where they overlap. Segments are in seconds from the
file's start, as Label Studio writes them; the item carries the file's length in `original_length`."""

from __future__ import annotations

import base64
import io
import math
import re
import wave
from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, ObjectTag, Problem, _fits
from components.errors import ConfigError
from components.variables import resolve

if TYPE_CHECKING:
    from components.render import RenderContext

SAFE_SRC = re.compile(r"^(https?://|/|data:audio/[a-z0-9.+-]+;)", re.I)
SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
SLACK = 1e-3  # seconds: a segment ending a hair past the length (float rounding) is still inside


def _silence(seconds: float = 1.0, rate: int = 8000) -> str:
    """A silent WAV (8 kHz, 8-bit mono) as a data URI: the preview's sound when no sample task is given."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(b"\x80" * int(seconds * rate))
    return "data:audio/wav;base64," + base64.b64encode(out.getvalue()).decode()


SAMPLE_AUDIO = _silence()


def seconds(value: Any, field: str) -> float:
    """A time in seconds: a finite, non-negative number (a boolean is not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Problem(f"value.{field} must be a number of seconds, not {value!r}")
    if value < 0:
        raise Problem(f"value.{field} must be 0 or more seconds, not {value!r}")
    return value


def length_of(item: dict[str, Any]) -> float | None:
    """The item's `original_length` (the file's length in seconds), checked; None when absent."""
    if "original_length" not in item:
        return None
    found = item["original_length"]
    if isinstance(found, bool) or not isinstance(found, (int, float)) or not math.isfinite(found) or found <= 0:
        raise Problem(f"original_length must be the audio's length in seconds (a positive number), not {found!r}")
    return found


def segment(value: dict[str, Any], length: float | None = None) -> dict[str, Any]:
    """A segment's geometry {start, end, channel?}, checked: start < end, both inside the audio when
    its length is known (else only >= 0); channel a whole number from 0."""
    start, end = seconds(value.get("start"), "start"), seconds(value.get("end"), "end")
    if not start < end:
        raise Problem(f"value.start ({start}) must be before value.end ({end})")
    if length is not None and end > length + SLACK:
        raise Problem(f"value.end ({end}) is past the end of the audio ({length} s)")
    out: dict[str, Any] = {"start": start, "end": end}
    if "channel" in value:
        channel = value["channel"]
        if isinstance(channel, bool) or not isinstance(channel, int) or channel < 0:
            raise Problem(f"value.channel must be a channel number from 0, not {channel!r}")
        out["channel"] = channel
    return out


def check_segment(item: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
    """The segment of a result item on an <Audio>, against the item's own length or, failing that,
    the length another result of the same audio gives."""
    length = length_of(item)
    if length is None:
        obj = ctx.config.by_name.get(str(item.get("to_name")))
        length = obj.duration(ctx) if isinstance(obj, Audio) else None
    return segment(item.get("value") or {}, length)


def lanes_of(regions: list[dict[str, Any]]) -> dict[str, int]:
    """A lane for each segment (sorted by start), the first one free at its start: overlapping
    segments sit one above the other, so each stays clickable."""
    ends: list[float] = []
    lanes: dict[str, int] = {}
    for r in regions:
        start, end = r["value"]["start"], r["value"]["end"]
        lane = next((i for i, last in enumerate(ends) if last <= start), len(ends))
        if lane == len(ends):
            ends.append(end)
        else:
            ends[lane] = end
        lanes[r["id"]] = lane
    return lanes


class Audio(ObjectTag):
    tag = "Audio"
    about = About(
        summary="A sound file played in the page (`value`: an http(s) URL, a `/data/…` path or a `data:audio/…` "
                "URI), with play/pause, speed and volume, and a timeline under it showing the segments. "
                "`<AudioPlus>` is the same tag under Label Studio's older name.\n\n"
                "`<Labels toName=\"audio\">` makes time segments: `start` and `end` in seconds from the file's "
                "start, `channel` (0 unless the file is split by channel), and the file's length in seconds in "
                "`original_length` beside `value`, as Label Studio writes them. A segment must start before it "
                "ends, and end within the audio when its length is known. `<TextArea perRegion>` (a transcript "
                "per segment), `<Choices>`, `<Rating>` and `<Number>` per region repeat the segment's `start`, "
                "`end` and `channel`; without `perRegion` they answer for the whole clip.\n\n"
                "For a file uploaded here the timeline is its waveform, from peaks the worker computes once per "
                "file; `+`/`-` zoom (from `defaultzoom`), and with a label pressed a drag makes a segment; "
                "segments are moved and resized by dragging (or Alt+arrows, Alt+`[`/`]`), overlapping ones "
                "in lanes; `spectrogram=\"true\"` adds the file's spectrogram under it. Keys (see the workspace guide): space plays and pauses, arrows seek 1 s (with Shift "
                "5 s), `[` marks a segment's start and `]` its end with the pressed label.",
        attributes={"value": "the audio: `$key` holding a URL, a `/data/…` path or a `data:audio/…` URI",
                    "hotkey": "a key that plays and pauses (besides space), unless a workspace key uses it",
                    "defaultspeed": "the playback speed it starts at (0.5–2)",
                    "defaultvolume": "the volume it starts at (0–1)",
                    "speed": "show the speed control", "volume": "show the volume control",
                    "defaultzoom": "the waveform's zoom it starts at (1–1500)", "sync": ACCEPTED, "defaultscale": ACCEPTED, "height": ACCEPTED,
                    "waveheight": ACCEPTED,
                    "splitchannels": "a waveform a channel, one above the other; a segment dragged in a channel's band "
                                     "gets its `channel`",
                    "spectrogram": "show the file's spectrogram under the waveform (drawn once by the worker, for "
                                   "files uploaded here)",
                    "decoder": ACCEPTED, "player": ACCEPTED, "zoom": ACCEPTED, "cursorwidth": ACCEPTED,
                    "cursorcolor": ACCEPTED},
        defaults={"defaultspeed": "1", "defaultvolume": "1", "defaultzoom": "1", "defaultscale": "1",
                  "height": "96", "waveheight": "32", "splitchannels": "false", "spectrogram": "false",
                  "decoder": "webaudio", "player": "html5", "speed": "true", "volume": "true"},
        example='<Audio name="audio" value="$audio"/>\n<Labels name="speech" toName="audio">\n'
                '  <Label value="Speech"/>\n  <Label value="Noise"/>\n</Labels>',
        result={"id": "aB3dE5fG7h", "from_name": "speech", "to_name": "audio", "type": "labels", "origin": "manual",
                "original_length": 18.0, "value": {"start": 3.1, "end": 8.2, "channel": 0, "labels": ["Speech"]}})
    template = "audio.html"
    checks = {"defaultspeed": "number", "defaultzoom": "number", "defaultvolume": "number",
              "defaultscale": "number", "height": "int", "waveheight": "int", "splitchannels": "bool",
              "spectrogram": "bool", "decoder": ("webaudio", "ffmpeg", "none"), "player": ("html5", "webaudio"),
              "speed": "bool", "volume": "bool", "zoom": "bool", "cursorwidth": "int", "cursorcolor": "color"}

    def __init__(self, element: Any, parent: Any, uid: str) -> None:
        super().__init__(element, parent, uid)
        self.written = str(element.tag)  # Audio or AudioPlus: errors name the tag as the config writes it

    def error(self, message: str, attribute: str | None = None) -> ConfigError:
        return ConfigError(message.replace(f"<{self.tag}>", f"<{self.written}>"), line=self.line, tag=self.written,
                           attribute=attribute)

    def validate(self, config: Any) -> Any:
        yield from super().validate(config)
        for attr, low, high in (("defaultspeed", 0.5, 2), ("defaultvolume", 0, 1), ("defaultzoom", 1, 1500)):
            if _fits(self.attrs.get(attr, "x"), "number") and not low <= self.number(attr, low) <= high:
                yield self.error(f"'{self.attrs[attr]}' is not a valid {attr}: use a number from {low} to {high}.", attr)

    def sample_value(self) -> Any:
        return SAMPLE_AUDIO

    def source(self, data: dict[str, Any]) -> str:
        return str(resolve(self.get("value"), data) or "")

    def info(self, ctx: RenderContext) -> dict[str, Any]:
        """What the server read of this audio's file (ffprobe's duration, its waveform), if it stores it."""
        return ctx.media.get(self.source(ctx.data)) or {}

    def duration(self, ctx: RenderContext) -> float | None:
        """The file's length: as ffprobe read it when the server stores the file, else as the results of
        this audio give it (`original_length`), if any does."""
        known = self.info(ctx).get("duration")
        if isinstance(known, (int, float)) and math.isfinite(known) and known > 0:
            return float(known)
        for item in ctx.by_to.get(str(self.name), []):
            found = item.get("original_length")
            if not isinstance(found, bool) and isinstance(found, (int, float)) and math.isfinite(found) and found > 0:
                return float(found)
        return None

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        src = self.source(ctx.data)
        regions = [r for r in ctx.by_to.get(str(self.name), []) if r.get("type") == "labels"
                   and isinstance(r["value"].get("start"), (int, float)) and isinstance(r["value"].get("end"), (int, float))]
        regions.sort(key=lambda r: (r["value"]["start"], r["value"]["end"]))
        speed = min(SPEEDS, key=lambda s: abs(s - self.number("defaultspeed", 1)))
        info = self.info(ctx)
        # splitchannels: a band a channel (of the file as ffprobe read it), each segment in its channel's band
        bands = min(8, info.get("channels") or 1) if self.flag("splitchannels", False) else 1
        band = {r["id"]: min(bands - 1, r["value"].get("channel") or 0) if bands > 1 else 0 for r in regions}
        lanes: dict[str, int] = {}
        for b in range(bands):
            lanes.update(lanes_of([r for r in regions if band[r["id"]] == b]))
        return {"bands": bands, "band": band,"src": src if SAFE_SRC.match(src) else None, "raw_src": src, "regions": regions,
                "lanes": lanes, "lane_count": max(lanes.values(), default=0) + 1,
                "peaks": info.get("peaks"), "peaks_state": info.get("peaks_state"), "peaks_error": info.get("peaks_error"),
                "spectrogram": f"{src}/spectrogram" if self.flag("spectrogram", False) and info.get("peaks_state") else None,
                "zoom": min(1500.0, max(1.0, self.number("defaultzoom", 1))),
                "duration": self.duration(ctx), "speed": speed, "speeds": SPEEDS,
                "volume": min(1.0, max(0.0, self.number("defaultvolume", 1))),
                "marks": [c for c in ctx.config.controls if c.tag == "Labels" and self.name in c.to_names]}
