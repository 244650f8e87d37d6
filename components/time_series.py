"""<TimeSeries> with its <Channel>s: columns of numbers against a time (or index) column, from a CSV/TSV/JSON
file (`valueType="url"`) or the task itself (`valueType="json"`). The server parses the data (here: pure
functions, no I/O) and sends the browser only what a window of the chart needs (app/labelling/series.py);
static/timeseries-tools.js draws it and makes the <TimeSeriesLabels> ranges."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from components.base import ACCEPTED, About, Component, ObjectTag, Problem
from components.variables import resolve

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext

SEPS = {"tab": "\t", "\\t": "\t", "space": " ", "comma": ",", "dot": ".", "auto": "auto"}
D3_TO_PY = {"%L": "%f", "%f": "%f", "%e": "%d", "%Z": "%z", "%Q": "%Q", "%s": "%s"}  # the rest mean the same
SUFFIX = re.compile(r"(Z|[+-]\d\d:?\d\d)$")  # a timezone written after a time the format does not name
MAX_POINTS = 20_000_000  # rows of one series: beyond this the file is refused, not parsed


class SeriesError(ValueError):
    """Data that cannot be drawn: the message names the file, the row and the column."""


def separator(raw: str | None) -> str:
    sep = SEPS.get(raw or ",", raw or ",")
    return sep


def strptime_format(d3: str) -> str:
    return re.sub(r"%[a-zA-Z]", lambda m: D3_TO_PY.get(m.group(0), m.group(0)), d3)


def parse_time(text: str, fmt: str) -> float:
    """One time value in ms since the epoch (UTC unless it names a zone), read with a d3 format."""
    text = text.strip()
    if fmt in ("%Q", "%s"):
        return float(text) * (1 if fmt == "%Q" else 1000)
    py = strptime_format(fmt)
    try:
        moment = datetime.strptime(text, py)
    except ValueError:
        if "%z" in py or not SUFFIX.search(text):
            raise
        moment = datetime.strptime(SUFFIX.sub("", text), py)
        moment = moment.replace(tzinfo=datetime.fromisoformat("2000-01-01T00:00:00" + _zone(text)).tzinfo)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp() * 1000


def _zone(text: str) -> str:
    zone = SUFFIX.search(text).group(0)  # type: ignore[union-attr]
    return "+00:00" if zone == "Z" else zone if ":" in zone else zone[:3] + ":" + zone[3:]


def format_time(ms: float, fmt: str) -> str:
    """A time (ms since the epoch) written back with the d3 format, in UTC, as Label Studio writes it."""
    if fmt == "%Q":
        return str(round(ms))
    if fmt == "%s":
        return f"{ms / 1000:g}"
    moment = datetime.fromtimestamp(round(ms) / 1000, tz=timezone.utc)
    millis = f"{moment.microsecond // 1000:03d}"
    py = re.sub(r"%[a-zA-Z]", lambda m: {"%L": millis, "%e": str(moment.day)}.get(m.group(0), m.group(0)), fmt)
    return moment.strftime(py.replace("%Z", "+0000"))


def _numbers(values: list[str], where: str, first_row: int) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except ValueError:
        for row, value in enumerate(values):
            try:
                float(value)
            except ValueError:
                raise SeriesError(f"{where}, row {row + first_row}: {value!r} is not a number") from None
        raise


def _times(values: list[str], fmt: str, where: str, first_row: int) -> np.ndarray:
    if fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%L", "%Y-%m-%dT%H:%M:%S",
               "%Y-%m-%d") and not any(SUFFIX.search(v) for v in values[:1]):
        try:  # the common ISO shapes: numpy reads a million of them in well under a second
            return np.asarray(values, dtype="datetime64[ms]").astype(np.float64)
        except ValueError:
            pass
    out = np.empty(len(values))
    for row, value in enumerate(values):
        try:
            out[row] = parse_time(value, fmt)
        except ValueError:
            raise SeriesError(f"{where}, row {row + first_row}: {value!r} does not match timeFormat "
                              f"{fmt!r}") from None
    return out


@dataclass
class Series:
    """A parsed series: x (ascending: index, numbers or ms since the epoch) and one array per channel."""

    x: np.ndarray
    channels: dict[str, np.ndarray]

    @property
    def points(self) -> int:
        return int(self.x.size)


def _table(raw: Any, sep: str, where: str) -> tuple[list[str], list[list[str]], bool]:
    """(header, columns as lists of strings, whether it is CSV whose first row may be a header) from a JSON
    object of arrays or CSV text."""
    if isinstance(raw, str):
        stripped = raw.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                raw = json.loads(stripped)
            except ValueError:
                pass
    if isinstance(raw, dict):
        lists = {str(k): v for k, v in raw.items() if isinstance(v, list)}
        if not lists:
            raise SeriesError(f"{where}: no columns (expected an object of arrays, e.g. {{\"time\": [...]}})")
        return list(lists), [[str(v) for v in col] for col in lists.values()], False
    if isinstance(raw, list):
        raise SeriesError(f"{where}: a list; time series data is an object of column arrays or a CSV")
    if not isinstance(raw, str):
        raise SeriesError(f"{where}: no data (got {type(raw).__name__})")
    text = raw.lstrip("\ufeff")
    if sep == "auto":
        sep = csv.Sniffer().sniff(text[:4096], delimiters=",;\t |").delimiter
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=sep == " ") if r]
    if not rows:
        raise SeriesError(f"{where}: the file is empty")
    width = len(rows[0])
    for number, row in enumerate(rows, 1):
        if len(row) != width:
            raise SeriesError(f"{where}, row {number}: {len(row)} values where the first row has {width}")
    return rows[0], [list(col) for col in zip(*rows)], True


class Channel(Component):
    tag = "Channel"
    kind = "child"
    required = ("column",)
    about = About(
        summary="One line of a `<TimeSeries>`: the data column `column` (a name, matched case-insensitively, "
                "or a column index for a file without a header row).",
        attributes={"column": "the column drawn: its name in the header, or its index", "legend": "its name on the "
                    "chart", "units": "its unit, after the legend", "strokeColor": "the line's colour",
                    "displayFormat": ACCEPTED, "height": ACCEPTED, "strokeWidth": ACCEPTED, "markerColor": ACCEPTED,
                    "markerSize": ACCEPTED, "markerSymbol": ACCEPTED, "interpolation": ACCEPTED,
                    "dataRange": ACCEPTED, "timeRange": ACCEPTED, "showAxis": ACCEPTED, "fixedScale": ACCEPTED},
        defaults={"displayFormat": ".1f", "height": "200", "strokeWidth": "1", "interpolation": "curveStep"},
        example='<TimeSeries name="ts" value="$csv" timeColumn="time">\n  <Channel column="value"/>\n</TimeSeries>')
    checks = {"strokeColor": "color", "markerColor": "color", "height": "int", "strokeWidth": "number",
              "markerSize": "number", "showAxis": "bool", "fixedScale": "bool",
              "interpolation": ("curveStep", "curveLinear", "curveMonotoneX", "curveBasis", "curveCardinal",
                                "curveNatural", "curveStepAfter", "curveStepBefore")}

    @property
    def label(self) -> str:
        text = self.get("legend") or str(self.get("column"))
        return f"{text} ({self.get('units')})" if self.get("units") else text


PALETTE = ("#1f6fb5", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490")


class TimeSeries(ObjectTag):
    tag = "TimeSeries"
    about = About(
        summary="Numbers over time, one line per `<Channel>`, with an overview strip of the whole series under "
                "the chart. `valueType=\"url\"` (the default): the task's value is a CSV, TSV or JSON file uploaded "
                "here (`/data/upload/…`) or under the local files root (`/data/local-files/?d=…`); the server reads "
                "it once and sends the browser only what the visible window needs (at most a minimum and a maximum "
                "per pixel), so a million rows open and zoom quickly. Other addresses (http) are not fetched: "
                "upload the file. `valueType=\"json\"`: the value is an object of column arrays (or that object as "
                "a JSON string), e.g. `{\"time\": [0, 1], \"value\": [1.5, 2]}`.\n\n"
                "A file has a header row unless every column the config names is an index (`0`, `1`, …) and its "
                "first row is all numbers. Without `timeColumn` the x axis is the row index from 0. The time column "
                "must ascend; with `timeFormat` (d3's `%Y-%m-%d %H:%M:%S`, `%L` ms, `%f` µs, `%Q` ms timestamps, "
                "`%s` seconds; read as UTC, a `+00:00` or `Z` suffix is honoured) it may be text. Bad data "
                "(a missing column, a text where a number belongs, time going backwards, a single row) is shown "
                "as an error naming the file, row and column.\n\n"
                "Zoom with the wheel, the buttons or `+`/`-`, pan with the arrows or by dragging the overview "
                "window; `<TimeSeriesLabels>` marks ranges and instants (see there).",
        attributes={"value": "`$key`: a file's address (`valueType=\"url\"`) or the column arrays (`json`)",
                    "valueType": "`url` (a file) or `json` (data in the task)",
                    "timeColumn": "the x column (a name or an index); none: the row index",
                    "timeFormat": "how the time column is written (d3 strptime); results then carry times in it",
                    "sep": "the CSV separator: a character or `tab`, `\\t`, `space`, `comma`, `dot`, `auto`",
                    "overviewChannels": "the channels (names or indexes, comma separated) in the overview strip",
                    "overviewWidth": "how much of the series the chart shows first (`25%`)",
                    "timeDisplayFormat": "how the shown window's ends are written: strftime (UTC) such as `%d.%m.%Y %H:%M` for dates, a d3-format such as `.2f`, `,d` or `.1%` for numbers; `date` (or none): ISO dates, plain numbers", "durationDisplayFormat": ACCEPTED, "fixedScale": ACCEPTED,
                    "multiaxis": ACCEPTED, "sync": ACCEPTED, "cursorColor": ACCEPTED, "hotkey": ACCEPTED},
        defaults={"valueType": "url", "sep": ",", "overviewWidth": "25%"},
        example='<TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time">\n'
                '  <Channel column="value" legend="Value"/>\n</TimeSeries>\n'
                '<TimeSeriesLabels name="label" toName="ts">\n  <Label value="Run"/>\n</TimeSeriesLabels>')
    template = "time_series.html"
    child_tags = ("Channel",)
    checks = {"valueType": ("url", "json"), "fixedScale": "bool", "multiaxis": "bool", "cursorColor": "color"}

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        sep = self.get("sep")
        if sep is not None and len(separator(sep)) != 1 and separator(sep) != "auto":
            yield self.error(f"'{sep}' is not a valid sep: use one character or tab, space, comma, dot, auto.", "sep")
        width = self.get("overviewWidth")
        if width is not None and not re.fullmatch(r"\d+(\.\d+)?%?", width.strip()):
            yield self.error(f"'{width}' is not a valid overviewWidth: use a percentage such as 25%.", "overviewWidth")
        fmt = self.get("timeFormat")
        if fmt is not None and not re.search(r"%[a-zA-Z]", fmt):
            yield self.error(f"'{fmt}' is not a valid timeFormat: use d3 directives such as %Y-%m-%d %H:%M:%S.",
                             "timeFormat")
        if not (self.get("value") or "").startswith("$") and self.get("valueType", "url") == "json":
            yield self.error("valueType=\"json\" needs value=\"$key\" naming the task's data.", "value")

    @property
    def channels(self) -> list[Channel]:
        return [c for c in self.children if isinstance(c, Channel)]

    @property
    def time_format(self) -> str | None:
        return self.get("timeFormat") or None

    def sample_value(self) -> Any:
        return {"time": list(range(50)), **{str(c.get("column")): [round((i % 10) / 3, 2) for i in range(50)]
                                            for c in self.channels}}

    def source(self, data: dict[str, Any]) -> Any:
        return resolve(self.get("value"), data)

    def overview_width(self) -> float:
        raw = (self.get("overviewWidth") or "25%").strip().rstrip("%")
        try:
            return min(1.0, max(0.001, float(raw) / 100))
        except ValueError:
            return 0.25

    # -- data ------------------------------------------------------------------------------------

    def parse(self, raw: Any, where: str) -> Series:
        """The series from the task's value or a file's text; SeriesError names what is wrong and where."""
        if not self.channels:
            raise SeriesError(f"<TimeSeries name=\"{self.name}\"> has no <Channel column=\"…\"> inside: nothing to draw")
        fmt = self.time_format
        fast = None if fmt else _numeric_csv(raw, separator(self.get("sep")))
        if fast is not None:
            header, columns, headless, first = *fast, False, 2
        else:
            header, columns, from_csv = _table(raw, separator(self.get("sep")), where)
            wanted = [self.get("timeColumn")] if self.get("timeColumn") else []
            wanted += [str(c.get("column")) for c in self.channels]
            headless = from_csv and all(w.strip().isdigit() for w in wanted) and all(_is_number(v) for v in header)
            first = (1 if headless else 2) if from_csv else 0  # rows are the file's lines; in JSON, array indexes
            if from_csv and not headless:
                columns = [col[1:] for col in columns]
        if not columns or len(columns[0]) < 2:
            raise SeriesError(f"{where}: {len(columns[0]) if columns else 0} row(s) of data; a series needs at "
                              "least 2")
        if len(columns[0]) > MAX_POINTS:
            raise SeriesError(f"{where}: {len(columns[0]):,} rows; at most {MAX_POINTS:,} are drawn")
        names = [h.strip().lower() for h in header] if not headless else []

        def column(wanted_name: str, attr: str) -> list[str]:
            key = wanted_name.strip().lower()
            if key in names:
                return columns[names.index(key)]
            if key.isdigit() and int(key) < len(columns):
                return columns[int(key)]
            shown = ", ".join(header) if names else f"{len(columns)} columns, by index from 0"
            raise SeriesError(f"{where}: no column {wanted_name!r} ({attr}); the data has {shown}")

        if self.get("timeColumn"):
            name = str(self.get("timeColumn"))
            values = column(name, "timeColumn")
            at = f"{where}, column {name!r}"
            x = _times(values, fmt, at, first) if fmt else _numbers(values, at, first)
            steps = np.flatnonzero(np.diff(x) < 0)
            if steps.size:
                row = int(steps[0]) + 1
                raise SeriesError(f"{at}, row {row + first}: time goes backwards ({values[row]!r} after "
                                  f"{values[row - 1]!r}); the time column must ascend")
        else:
            x = np.arange(len(columns[0]), dtype=np.float64)
        chans = {}
        for c in self.channels:
            name = str(c.get("column"))
            chans[name] = _numbers(column(name, "Channel column"), f"{where}, column {name!r}", first)
        return Series(x, chans)

    def x_of(self, value: Any) -> float | None:
        """A region bound as a number on the x axis (a timeFormat string read back), None if unreadable."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and self.time_format:
            try:
                return parse_time(value, self.time_format)
            except ValueError:
                return None
        return None

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        regions = []
        for r in ctx.by_to.get(str(self.name), []):
            if r.get("type") == "timeserieslabels":
                start, end = self.x_of(r["value"].get("start")), self.x_of(r["value"].get("end"))
                if start is not None and end is not None:
                    regions.append({**r, "x0": start, "x1": end})
        regions.sort(key=lambda r: (r["x0"], r["x1"]))
        channels = [{"column": str(c.get("column")), "label": c.label,
                     "color": c.get("strokeColor") or PALETTE[i % len(PALETTE)]} for i, c in enumerate(self.channels)]
        return {"regions": regions, "channels": channels, "width": self.overview_width(),
                "marks": [c for c in ctx.config.controls if c.tag == "TimeSeriesLabels" and self.name in c.to_names]}


def _numeric_csv(raw: Any, sep: str) -> tuple[list[str], list[np.ndarray]] | None:
    """A CSV of numbers under a header row, read by numpy at once (a million rows in well under a second);
    None for anything else, which the careful reader (_table) reads and names the problem of."""
    if not isinstance(raw, str) or raw.lstrip()[:1] in ("{", "[") or sep == "auto":
        return None
    text = raw.lstrip("\ufeff")
    line, _, body = text.partition("\n")
    header = next(csv.reader([line], delimiter=sep), [])
    if not header or all(_is_number(v) for v in header):
        return None
    try:
        table = np.loadtxt(io.StringIO(body), delimiter=sep, dtype=np.float64, ndmin=2)
    except ValueError:
        return None
    if table.shape[1] != len(header) or not np.isfinite(table).all():
        return None
    return header, list(table.T)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def bound(value: Any, field: str, fmt: str | None) -> Any:
    """A region bound as Label Studio writes it: a number, or a timeFormat string (a number from the
    browser, ms since the epoch, is written back in the format)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Problem(f"value.{field} must be a number{' or a time like ' + repr(fmt) if fmt else ''}, not {value!r}")
    if isinstance(value, str):
        if not fmt:
            raise Problem(f"value.{field} must be a number (the TimeSeries has no timeFormat), not {value!r}")
        try:
            return value, parse_time(value, fmt)
        except ValueError:
            raise Problem(f"value.{field} {value!r} does not match timeFormat {fmt!r}") from None
    if not np.isfinite(value):
        raise Problem(f"value.{field} must be a finite number, not {value!r}")
    return (format_time(value, fmt), float(value)) if fmt else (value, float(value))
