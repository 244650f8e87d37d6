"""<Video>: an HTML5 player stepped frame by frame, with the frame counter of the file (ffprobe's
count, when the server stored it), a timeline of <TimelineLabels> spans under it, and the boxes of
<VideoRectangle> tracks drawn over it. Frames are 1-based; frame N is shown from (N-1)/fps to N/fps
and written as `time = N / fps`, as Label Studio writes it."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, ObjectTag, Problem, _fits
from components.variables import resolve
from components.video_rectangle import box_at, track

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext

SAFE_SRC = re.compile(r"^(https?://|/|data:video/[a-z0-9.+-]+;)", re.I)
SPEEDS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 4.0)
DEFAULT_FPS = 24.0
SAMPLE_VIDEO = ""  # no sample clip ships: the preview says where the task's video plays


def frame_rate(value: Any) -> float:
    """Label Studio's reading of a frame rate: below 1 it is seconds per frame (inverted); NaN, 0,
    a negative number or text fall back to 24."""
    try:
        fps = float(value)
    except (TypeError, ValueError):
        return DEFAULT_FPS
    if not math.isfinite(fps) or fps <= 0:
        return DEFAULT_FPS
    return 1 / fps if fps < 1 else fps


def _drawable(item: dict[str, Any]) -> bool:
    """A track whose keyframes can be drawn (results are checked when stored; a malformed one is left out)."""
    try:
        track(item["value"])
    except Problem:
        return False
    return True


class Video(ObjectTag):
    tag = "Video"
    about = About(
        summary="A video played in the page (`value`: an http(s) URL, a `/data/…` path or a `data:video/…` URI; "
                "WebM or MP4 the browser can play), stepped frame by frame. Frames are numbered from 1 to the "
                "file's frame count as `ffprobe` reads it when the file was uploaded (else estimated from its "
                "duration); frame N is shown from (N-1)/fps to N/fps and results write `time = N / fps` (frame 1 "
                "at 25 fps is 0.04 s), as Label Studio does. The frame rate is the config's `frameRate` (a number, "
                "or `$key` from the task), else the file's, else 24; a value below 1 is seconds per frame.\n\n"
                "`<Choices>`, `<TextArea>` and `<Rating>` answer for the whole video; `<TimelineLabels>` marks frame "
                "spans on a timeline under the player; `<VideoRectangle>` (with `<Labels toName>` for its labels) "
                "tracks objects with boxes. The labels of a tracked box go inside its `videorectangle` item: a "
                "`<Labels>` on a video writes no item of its own.\n\n"
                "Keys (see the workspace guide): space plays and pauses, `,` and `.` step one frame back and "
                "forward, arrows jump 1 s (with Shift 5 s), `[` and `]` mark a timeline span's first and last frame.",
        attributes={"value": "the video: `$key` holding a URL, a `/data/…` path or a `data:video/…` URI",
                    "frameRate": "frames per second (`framerate` too): a number or `$key`; below 1, seconds per frame",
                    "muted": "start muted", "height": "the tallest the player is shown, in pixels",
                    "timelineHeight": "the timeline's height, in pixels",
                    "defaultPlaybackSpeed": "the speed it starts at (0.05–10, not below `minPlaybackSpeed`)",
                    "minPlaybackSpeed": "the slowest speed offered (0.05–10)", "sync": ACCEPTED},
        defaults={"frameRate": "24", "muted": "false", "height": "600", "timelineHeight": "64",
                  "defaultPlaybackSpeed": "1", "minPlaybackSpeed": "0.25"},
        example='<Video name="video" value="$video" frameRate="25"/>\n<Choices name="quality" toName="video">\n'
                '  <Choice value="Sharp"/>\n  <Choice value="Blurry"/>\n</Choices>')
    template = "video.html"
    checks = {"muted": "bool", "height": "int", "timelineHeight": "int", "defaultPlaybackSpeed": "number",
              "minPlaybackSpeed": "number"}

    @property
    def rate_attr(self) -> tuple[str, str] | None:
        """The frame rate attribute as written (`frameRate`, `framerate`, any case) and its value."""
        return next(((k, v) for k, v in self.attrs.items() if k.lower() == "framerate"), None)

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        if self.rate_attr:
            attr, value = self.rate_attr
            if not value.strip().startswith("$") and not (_fits(value, "number") and float(value) > 0):
                yield self.error(f"'{value}' is not a valid {attr}: use a number of frames per second (such as 25) "
                                 "or $key.", attr)
        for attr in ("defaultPlaybackSpeed", "minPlaybackSpeed"):
            if _fits(self.attrs.get(attr, "x"), "number") and not 0.05 <= self.number(attr, 1) <= 10:
                yield self.error(f"'{self.attrs[attr]}' is not a valid {attr}: use a number from 0.05 to 10.", attr)
        for attr in ("height", "timelineHeight"):
            if _fits(self.attrs.get(attr, "x"), "int") and int(self.attrs[attr]) <= 0:
                yield self.error(f"'{self.attrs[attr]}' is not a valid {attr}: use a number of pixels above 0.", attr)
        if self.number("defaultPlaybackSpeed", 1) < self.number("minPlaybackSpeed", 0.05):
            yield self.error("defaultPlaybackSpeed is below minPlaybackSpeed.", "defaultPlaybackSpeed")

    def sample_value(self) -> Any:
        return SAMPLE_VIDEO

    def source(self, data: dict[str, Any]) -> str:
        return str(resolve(self.get("value"), data) or "")

    def media(self, ctx: RenderContext) -> dict[str, Any]:
        """What the server read of this task's file with ffprobe (empty when it did not store it)."""
        return (getattr(ctx, "media", None) or {}).get(self.source(ctx.data)) or {}

    def fps(self, ctx: RenderContext) -> float:
        """The config's frameRate (or the task's `$fps`) wins, as in Label Studio; else the file's; else 24."""
        if self.rate_attr:
            written = self.rate_attr[1].strip()
            return frame_rate(resolve(written, ctx.data) if written.startswith("$") else written)
        return frame_rate(self.media(ctx).get("frame_rate"))

    def frame_count(self, ctx: RenderContext) -> int | None:
        """The file's frames: ffprobe's count; else what the results of this video say (framesCount)."""
        count = self.media(ctx).get("frame_count")
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            return count
        for item in ctx.by_to.get(str(self.name), []):
            found = item.get("value", {}).get("framesCount")
            if isinstance(found, int) and not isinstance(found, bool) and found > 0:
                return found
        return None

    def duration(self, ctx: RenderContext) -> float | None:
        found = self.media(ctx).get("duration")
        return float(found) if isinstance(found, (int, float)) and not isinstance(found, bool) and found > 0 else None

    def box_at(self, item: dict[str, Any], frame: int) -> dict[str, float] | None:
        """Where a track's box is at a frame (None: not there), from its keyframes."""
        try:
            return box_at(item["value"]["sequence"], frame)
        except (KeyError, TypeError):
            return None  # a malformed track is listed, not drawn

    def color(self, ctx: RenderContext, item: dict[str, Any]) -> str:
        """A track's colour: its first label's, from the <Labels> on this video."""
        for control in ctx.config.controls:
            if control.tag == "Labels" and self.name in control.to_names:
                colors = {label["value"]: label["background"] for label in ctx.labels(control)}
                for value in item["value"].get("labels") or []:
                    if value in colors:
                        return colors[value]
        return ctx.color_of(item)

    def speeds(self) -> tuple[list[float], float]:
        low = self.number("minPlaybackSpeed", 0.25)
        offered = sorted({s for s in SPEEDS if s >= low} | {self.number("defaultPlaybackSpeed", 1)})
        return offered, self.number("defaultPlaybackSpeed", 1)

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        src = self.source(ctx.data)
        mine = ctx.by_to.get(str(self.name), [])
        tracks = [r for r in mine if r.get("type") == "videorectangle" and _drawable(r)]
        spans = [r for r in mine if r.get("type") == "timelinelabels" and isinstance(r["value"].get("ranges"), list)
                 and r["value"]["ranges"] and isinstance(r["value"]["ranges"][0], dict)]
        controls = [c for c in ctx.config.controls if self.name in c.to_names]
        speeds, speed = self.speeds()
        return {"src": src if SAFE_SRC.match(src) else None, "raw_src": src, "fps": self.fps(ctx),
                "frames": self.frame_count(ctx), "duration": self.duration(ctx), "regions": tracks + spans,
                "tracks": tracks, "spans": spans, "speeds": speeds, "speed": speed,
                "boxes": [c for c in controls if c.tag == "VideoRectangle"],
                "timeline": [c for c in controls if c.tag == "TimelineLabels"]}
