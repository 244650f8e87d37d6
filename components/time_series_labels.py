"""<TimeSeriesLabels>: ranges and instants on a <TimeSeries>, in the x axis's own units (a number, or a
timeFormat string when the series has one), as Label Studio writes them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, Problem
from components.labels import LabelSet
from components.time_series import bound

if TYPE_CHECKING:
    from components.render import RenderContext


class TimeSeriesLabels(LabelSet):
    tag = "TimeSeriesLabels"
    about = About(
        summary="Ranges on a `<TimeSeries>`: with a label pressed, drag on the chart (a double click "
                "makes an instant: `start == end`, `instant: true`; so does the `Instant` button, at the window's "
                "middle). `start` and `end` are in the x axis's units: "
                "the row index, the time column's numbers, or, when the series has a `timeFormat`, times written "
                "in it (UTC), as Label Studio writes them. Select a range by clicking it on the chart or in the "
                "region list; then arrows grow it (`←` moves its start, `→` its end), Alt+arrows shrink it, "
                "Shift ×10 (a step is 1 % of the visible window), Delete removes it. `<Choices>`, `<Rating>` and "
                "`<TextArea>` with `perRegion` repeat the range's `start`, `end` and `instant`.",
        attributes={"fillColor": ACCEPTED, "strokeColor": ACCEPTED},
        defaults={"showInline": "true", "opacity": "0.9", "strokeColor": "#f48a42", "strokeWidth": "1"},
        example='<TimeSeries name="ts" value="$csv" timeColumn="time">\n  <Channel column="value"/>\n</TimeSeries>\n'
                '<TimeSeriesLabels name="label" toName="ts">\n  <Label value="Run"/>\n  <Label value="Walk"/>\n'
                '</TimeSeriesLabels>',
        result={"start": 1592250751951, "end": 1592251017745, "instant": False, "timeserieslabels": ["Run"]})
    template = "labels.html"
    result_type = "timeserieslabels"
    labels_objects = ("TimeSeries",)
    geometry_keys = ("start", "end", "instant")
    checks = {**LabelSet.checks, "fillColor": "color", "strokeColor": "color"}

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        fmt = ctx.config.by_name[to_name].time_format
        (start, x0), (end, x1) = bound(value.get("start"), "start", fmt), bound(value.get("end"), "end", fmt)
        if x0 > x1:
            raise Problem(f"value.start ({start!r}) is after value.end ({end!r})")
        instant = value.get("instant", x0 == x1)
        if not isinstance(instant, bool):
            raise Problem(f"value.instant must be true or false, not {instant!r}")
        if instant and x0 != x1:
            raise Problem("an instant region (value.instant true) must have start equal to end")
        return {"start": start, "end": end, "instant": instant}
