"""<TimelineLabels>: frame spans on a <Video>'s timeline, each with its labels. A span is whole frames,
1-based and inclusive (`start == end` is one frame), one range per item, as Label Studio writes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import About, Problem
from components.labels import LabelSet

if TYPE_CHECKING:
    from components.render import RenderContext


def frame_range(raw: Any, index: int, frames: int | None) -> dict[str, Any]:
    at = f"value.ranges[{index}]"
    if not isinstance(raw, dict):
        raise Problem(f"{at} must be an object {{start, end}}")
    out: dict[str, Any] = {}
    for key in ("start", "end"):
        found = raw.get(key)
        if isinstance(found, bool) or not isinstance(found, int) or found < 1:
            raise Problem(f"{at}.{key} must be a frame number from 1, not {found!r}")
        out[key] = found
    if out["start"] > out["end"]:
        raise Problem(f"{at}: start (frame {out['start']}) is after end (frame {out['end']})")
    if frames is not None and out["end"] > frames:
        raise Problem(f"{at}.end (frame {out['end']}) is past the video's last frame ({frames})")
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            raise Problem(f"{at}.enabled must be true or false")
        out["enabled"] = raw["enabled"]
    return out


class TimelineLabels(LabelSet):
    tag = "TimelineLabels"
    about = About(
        summary="Frame spans on a `<Video>`: with a label pressed, drag on the timeline under the player (a click is "
                "one frame), or press `[` at the first frame and `]` at the last. `ranges` holds one "
                "`{\"start\", \"end\"}` of whole frames, 1-based and inclusive, as Label Studio writes it; a span "
                "past the video's last frame (when the file's frame count is known) or running backwards is "
                "refused. With no label pressed, a click on the timeline only seeks.",
        example='<Video name="video" value="$video" timelineHeight="120"/>\n'
                '<TimelineLabels name="motion" toName="video">\n  <Label value="Moving"/>\n  <Label value="Still"/>\n'
                '</TimelineLabels>',
        result={"ranges": [{"start": 3, "end": 5}], "timelinelabels": ["Moving"]})
    template = "labels.html"
    result_type = "timelinelabels"
    labels_objects = ("Video",)
    geometry_keys = ("ranges",)

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        ranges = value.get("ranges")
        if not isinstance(ranges, list) or not ranges:
            raise Problem("value.ranges must be a list of at least one {start, end}")
        frames = ctx.config.by_name[to_name].frame_count(ctx)
        return {"ranges": [frame_range(r, i, frames) for i, r in enumerate(ranges)]}
