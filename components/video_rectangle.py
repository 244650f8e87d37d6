"""<VideoRectangle>: object tracking on a <Video>. One result item per tracked object, holding only
its keyframes (1-based frames, boxes in percent of the frame, `time = frame / fps`), its labels (from
a <Labels toName> on the same video) inside the value, as Label Studio writes it. Between two
keyframes the box is interpolated linearly; after the last one it keeps its shape; a keyframe with
`enabled: false` ends the box after its frame, until a later keyframe. The interpolation lives
here only: the check, the export (`interpolate_key_frames`) and the page use it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components import shapes
from components.base import ACCEPTED, About, Control, Problem
from components.labels import region_target

if TYPE_CHECKING:
    from components.render import RenderContext

KEYS = ("rotation", "x", "y", "width", "height")
EXAMPLE = {"framesCount": 75, "duration": 3.0, "labels": ["Car"], "sequence": [
    {"frame": 1, "enabled": True, "rotation": 0, "x": 6.25, "y": 41.67, "width": 12.5, "height": 16.67, "time": 0.04},
    {"frame": 30, "enabled": True, "rotation": 0, "x": 24.38, "y": 41.67, "width": 12.5, "height": 16.67, "time": 1.2},
    {"frame": 60, "enabled": False, "rotation": 0, "x": 43.13, "y": 41.67, "width": 12.5, "height": 16.67, "time": 2.4}]}


def _positive(value: Any, field: str, whole: bool) -> Any:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value) or value <= 0:
        raise Problem(f"value.{field} must be a positive {'whole number' if whole else 'number'}, not {value!r}")
    return value


def keyframe(raw: Any, index: int, frames: int) -> dict[str, Any]:
    """One keyframe, checked: a frame from 1 to `frames`, a box inside the frame, enabled, time."""
    at = f"value.sequence[{index}]"
    if not isinstance(raw, dict):
        raise Problem(f"{at} must be an object {{frame, enabled, x, y, width, height, rotation, time}}")
    frame = raw.get("frame")
    if isinstance(frame, bool) or not isinstance(frame, int) or not 1 <= frame <= frames:
        raise Problem(f"{at}.frame must be a frame number from 1 to {frames} (framesCount), not {frame!r}")
    try:
        box = shapes.box({**raw, "rotation": raw.get("rotation", 0)})
    except Problem as exc:
        raise Problem(str(exc).replace("value.", f"{at}.").replace("a box", at)
                      .replace("the box", f"{at}: the box").replace("the image", "the frame")) from None
    enabled, time = raw.get("enabled", True), raw.get("time")
    if not isinstance(enabled, bool):
        raise Problem(f"{at}.enabled must be true or false, not {enabled!r}")
    if isinstance(time, bool) or not isinstance(time, (int, float)) or not math.isfinite(time) or time < 0:
        raise Problem(f"{at}.time must be the frame's time in seconds (frame / fps), not {time!r}")
    out = {"frame": frame, "enabled": enabled, **{k: box[k] for k in KEYS}, "time": time}
    if raw.get("auto") is True:
        out["auto"] = True  # an expanded export read back in
    return out


def track(value: dict[str, Any]) -> dict[str, Any]:
    """A track's value, checked: framesCount, duration, keyframes sorted by frame (one per frame)."""
    frames = _positive(value.get("framesCount"), "framesCount", whole=True)
    duration = _positive(value.get("duration"), "duration", whole=False)
    raw = value.get("sequence")
    if not isinstance(raw, list) or not raw:
        raise Problem("value.sequence must be a list of at least one keyframe")
    sequence = [keyframe(each, i, frames) for i, each in enumerate(raw)]
    for i in range(1, len(sequence)):
        if sequence[i]["frame"] <= sequence[i - 1]["frame"]:
            raise Problem(f"value.sequence must be sorted by frame, one keyframe a frame: sequence[{i}] is frame "
                          f"{sequence[i]['frame']}, after frame {sequence[i - 1]['frame']}")
    out: dict[str, Any] = {"framesCount": frames, "duration": duration}
    if "labels" in value:
        labels = value["labels"]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise Problem("value.labels must be a list of label names")
        out["labels"] = labels
    out["sequence"] = sequence
    return out


# -- interpolation: the one place ---------------------------------------------------------------

def _between(a: dict[str, Any], b: dict[str, Any], frame: int) -> dict[str, float]:
    t = (frame - a["frame"]) / (b["frame"] - a["frame"])
    return {k: a[k] + (b[k] - a[k]) * t for k in KEYS}


def box_at(sequence: list[dict[str, Any]], frame: int) -> dict[str, float] | None:
    """The box shown at `frame` (rotation, x, y, width, height), or None when the track is not there:
    before its first keyframe, or after a keyframe with enabled false (which itself still shows)."""
    before = after = None
    for kf in sequence:
        if kf["frame"] <= frame:
            before = kf
        else:
            after = kf
            break
    if before is None or (not before.get("enabled", True) and before["frame"] != frame):
        return None
    if after is None or before["frame"] == frame:
        return {k: before[k] for k in KEYS}
    return _between(before, after, frame)


def every_frame(value: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The keyframes and, between them and after the last enabled one up to framesCount, a box for
    every frame with `auto: true` and its time rounded to 2 decimals (Label Studio's export option
    `interpolate_key_frames`: the same frames, the same times)."""
    sequence, last = value["sequence"], value.get("framesCount") or 0
    duration = value.get("duration") or 0
    for i, kf in enumerate(sequence):
        yield kf
        after = sequence[i + 1] if i + 1 < len(sequence) else None
        if not kf.get("enabled", True):
            continue
        end = after["frame"] if after else last + 1
        span = (after["frame"] if after else last) - kf["frame"]
        for frame in range(kf["frame"] + 1, end):
            delta = (frame - kf["frame"]) / max(1, span)
            if after:
                shape, time = _between(kf, after, frame), kf["time"] + (after["time"] - kf["time"]) * delta
            else:
                shape = {k: kf[k] for k in KEYS}
                time = kf["time"] + delta * (duration - kf["time"]) if duration > 0 else kf["time"]
            yield {"frame": frame, "enabled": True, **shape, "time": round(time, 2), "auto": True}


def with_every_frame(results: list[Any]) -> list[Any]:
    """Results with each well-formed track expanded to every frame; anything else as it is."""
    out = []
    for item in results if isinstance(results, list) else []:
        if isinstance(item, dict) and item.get("type") == "videorectangle" and isinstance(item.get("value"), dict):
            try:
                value = track(item["value"])
            except Problem:
                out.append(item)
                continue
            item = {**item, "value": {**item["value"], "sequence": list(every_frame(value))}}
        out.append(item)
    return out


class VideoRectangle(Control):
    tag = "VideoRectangle"
    about = About(
        summary="Object tracking on `<Video>`: draw a box on a frame, move or resize it on a later frame to add a "
                "keyframe there; in between the box moves linearly, after the last keyframe it stays. "
                "\"End here\" writes a keyframe with `enabled: false` (the box ends after that frame, a gap until "
                "a later keyframe). One item per tracked object: `framesCount`, `duration` (seconds), `sequence` "
                "(keyframes only, sorted by `frame`, 1-based; `x`, `y`, `width`, `height` in percent of the frame, "
                "`rotation` in degrees, `time = frame / fps`) and the object's `labels` from a `<Labels "
                "toName>` on the same video, as Label Studio writes it. A frame past `framesCount`, keyframes out "
                "of order or a box outside the frame are refused, naming the keyframe. The export option "
                "`interpolate_key_frames=true` writes every frame.",
        attributes={"opacity": ACCEPTED, "strokeColor": ACCEPTED, "strokeWidth": ACCEPTED, "fillColor": ACCEPTED},
        example='<Video name="video" value="$video" frameRate="25"/>\n<Labels name="object" toName="video">\n'
                '  <Label value="Car"/>\n</Labels>\n<VideoRectangle name="box" toName="video"/>',
        result=EXAMPLE)
    template = "video_rectangle.html"
    result_type = "videorectangle"
    value_key = "sequence"
    labels_objects = ("Video",)
    geometry_keys = ("framesCount", "duration", "sequence")
    child_tags = ()
    checks = {"opacity": "number", "strokeWidth": "number", "strokeColor": "color", "fillColor": "color"}

    def known_labels(self, ctx: RenderContext, to_name: str) -> set[str]:
        return {label["value"] for c in ctx.config.controls if c.tag == "Labels" and to_name in c.to_names
                for label in ctx.labels(c)}

    def region_from_form(self, item: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        region_id, to_name = region_target(self, item)
        value = track(item.get("value") if isinstance(item.get("value"), dict) else {})
        unknown = [x for x in value.get("labels", []) if x not in self.known_labels(ctx, to_name)]
        if unknown:
            raise Problem(f"{self.name} has no label {', '.join(map(repr, unknown))}")
        origin = item.get("origin") if item.get("origin") in ("manual", "prediction", "prediction-changed") else "manual"
        return {"id": region_id, "from_name": self.name, "to_name": to_name, "type": self.result_type,
                "origin": origin, "value": value}

    def check(self, item: dict[str, Any], ctx: RenderContext) -> list[str]:
        value = track(item["value"])
        unknown = [x for x in value.get("labels", []) if x not in self.known_labels(ctx, str(item.get("to_name")))]
        return [f"label(s) {', '.join(map(repr, unknown))} are not in the config"] if unknown else []
