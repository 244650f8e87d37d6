"""Model quality: how an ML backend's predictions compare with the results annotators finally stored.

Spans match exactly, boxes by IoU, choices by value. Labels are keyed by their value alone: two controls
offering the same label ("PER") are counted together, which is what a reader of the page expects."""

from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

IOU_MIN = 0.5  # PASCAL VOC's threshold: below it two boxes are not "the same object"
SPAN_KEYS = ("start", "end", "startOffset", "endOffset")
BOX_KEYS = ("x", "y", "width", "height")
# what an annotator can change; a relation keeps its content at the top level, not in value
KEPT = ("type", "from_name", "to_name", "value", "direction", "labels")
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 110, 16, 40  # room for the y ticks, the legend and the version labels
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
METRICS = (("f1", "F1", "#0072B2"), ("precision", "Precision", "#E69F00"), ("recall", "Recall", "#009E73"))


class Item(NamedTuple):
    kind: str  # "span", "box" or "choice"
    from_name: str
    label: str  # a choice's value is its label
    geometry: tuple | None  # span: SPAN_KEYS (None when absent), box: BOX_KEYS, choice: None


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


def items(result: list[dict]) -> list[Item]:
    """The comparable items of a result, one per label; regions of other types are left out."""
    return [item for region in result or [] if isinstance(region, dict) for item in _region_items(region)]


def _region_items(region: dict) -> list[Item]:
    value, kind, name = region.get("value"), region.get("type"), str(region.get("from_name", ""))
    if not isinstance(value, dict):
        return []
    # per-region choices carry their region's geometry too; they are compared by value only
    if kind == "choices":
        return [Item("choice", name, choice, None) for choice in _strings(value.get("choices"))]
    if kind == "taxonomy":
        paths = value.get("taxonomy") if isinstance(value.get("taxonomy"), list) else []
        return [Item("choice", name, " / ".join(map(str, p)), None) for p in paths if isinstance(p, list)]
    if kind in ("rectanglelabels", "rectangle"):  # Label Studio writes either for a <RectangleLabels>
        box = tuple(value.get(k) for k in BOX_KEYS)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
            return []  # a malformed prediction from a model server is no box at all
        return [Item("box", name, label, box) for label in _strings(value.get("rectanglelabels"))]
    labels = next((v for k, v in value.items() if k.endswith("labels") and isinstance(v, list)), None)
    if "start" in value and "end" in value and labels is not None:
        span = tuple(_position(value.get(k)) for k in SPAN_KEYS)
        if all(isinstance(v, (str, float, type(None))) for v in span):
            return [Item("span", name, label, span) for label in _strings(labels)]
    return []


def _strings(values: Any) -> list[str]:
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def _position(value: Any) -> Any:
    # Label Studio writes paragraph indexes as strings and models often send ints: compare them as text
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def iou(a: tuple, b: tuple) -> float:
    """Intersection over union of two (x, y, width, height) boxes."""
    # rotation is ignored: the axis-aligned boxes are compared, good enough for "did the model find it"
    wide = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    high = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(0.0, wide) * max(0.0, high)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _box_hits(predicted: list[tuple], final: list[tuple]) -> int:
    """How many pairs match one to one, taking the best-overlapping pair first."""
    pairs = sorted(((iou(p, f), i, j) for i, p in enumerate(predicted) for j, f in enumerate(final)),
                   key=lambda t: (-t[0], t[1], t[2]))
    used_p, used_f = set(), set()
    for score, i, j in pairs:
        if score < IOU_MIN:
            break
        if i not in used_p and j not in used_f:
            used_p.add(i)
            used_f.add(j)
    return len(used_p)


def match(predicted: list[dict], final: list[dict]) -> dict[str, Counts]:
    """Per label: predicted items found in the final result (tp), not found (fp), and missed (fn)."""
    counts: dict[str, Counts] = {}
    pred, gold = items(predicted), items(final)
    # spans and choices match exactly; as multisets, so duplicates pair off one to one
    p_exact = Counter(i for i in pred if i.kind != "box")
    g_exact = Counter(i for i in gold if i.kind != "box")
    for item in p_exact.keys() | g_exact.keys():
        tp = min(p_exact[item], g_exact[item])
        counts[item.label] = counts.get(item.label, Counts()) + Counts(tp, p_exact[item] - tp, g_exact[item] - tp)
    for name, label in {(i.from_name, i.label) for i in pred + gold if i.kind == "box"}:
        p_boxes, g_boxes = ([i.geometry for i in side if i.kind == "box" and i.from_name == name and i.label == label]
                            for side in (pred, gold))
        tp = _box_hits(p_boxes, g_boxes)
        counts[label] = counts.get(label, Counts()) + Counts(tp, len(p_boxes) - tp, len(g_boxes) - tp)
    return counts


def _canonical(region: dict) -> str:
    kept = {k: region[k] for k in KEPT if k in region}
    value = kept.get("value")
    if isinstance(value, dict):
        value = dict(value)
        # the editor stores what a model may leave out: a span's text (read from the task) and rotation 0
        if "start" in value and "end" in value:
            value.pop("text", None)
            value["start"], value["end"] = _position(value["start"]), _position(value["end"])
        if value.get("rotation") == 0:
            del value["rotation"]
        kept["value"] = value
    return json.dumps(_rounded(kept), sort_keys=True, default=str)


def _rounded(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_rounded(v) for v in x]
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return round(float(x), 4) + 0.0  # float(): 10 == 10.0; + 0.0: noise rounds to -0.0, make it 0.0
    return x


def unchanged(predicted: list[dict], final: list[dict]) -> bool:
    """Whether the annotator stored the prediction as is (ids, origin and score aside)."""
    def regions(result: list[dict]) -> Counter:
        return Counter(_canonical(r) for r in result or [] if isinstance(r, dict))
    return regions(predicted) == regions(final)


def _metrics(c: Counts) -> dict[str, Any]:
    return {"tp": c.tp, "fp": c.fp, "fn": c.fn, "precision": c.precision, "recall": c.recall, "f1": c.f1}


def summarize(pairs: Iterable[tuple[list[dict], list[dict]]]) -> dict:
    """Quality of one model version over (prediction result, final annotation result) pairs."""
    compared = same = 0
    per_label: dict[str, Counts] = {}
    for predicted, final in pairs:
        compared += 1
        same += unchanged(predicted, final)
        for label, c in match(predicted, final).items():
            per_label[label] = per_label.get(label, Counts()) + c
    f1s = [c.f1 for c in per_label.values() if c.f1 is not None]
    return {"compared": compared, "unchanged": same,
            "labels": {label: {**_metrics(c), "support": c.tp + c.fn} for label, c in sorted(per_label.items())},
            "micro": _metrics(sum(per_label.values(), Counts())),
            "macro_f1": sum(f1s) / len(f1s) if f1s else None}


def _y(value: float) -> float:
    return TOP + (1 - min(max(value, 0.0), 1.0)) * PLOT_H


def _series(points: list[dict], xs: list[float], key: str, colour: str) -> list[str]:
    """One metric: a line through each run of defined values (None breaks it), markers on top."""
    runs: list[list[str]] = [[]]
    markers = []
    for x, point in zip(xs, points):
        value = point.get(key)
        if value is None:
            runs.append([])
            continue
        runs[-1].append(f"{x:g},{_y(value):g}")
        markers.append(f'<circle cx="{x:g}" cy="{_y(value):g}" r="3.5" fill="{colour}"><title>'
                       f'{html.escape(str(point.get("version", "")))}: {key} {value:.2f}</title></circle>')
    lines = [f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>'
             for run in runs if len(run) > 1]
    return lines + markers


def chart_svg(points: list[dict], metrics: tuple[tuple[str, str, str], ...] = METRICS,
              label: str = "F1, precision and recall of the predictions per model version",
              testid: str = "quality-chart") -> str:
    """An inline SVG line chart of `metrics` (key, name, colour) per point, oldest first. Points
    are spaced evenly and named by their version, or, when each has a number `x` (a training set
    size), placed by it and named by it."""
    e = html.escape  # versions come from a model server: every string that goes in is escaped
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" data-testid="{testid}" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{e(label)}" font-family="sans-serif" '
            f'font-size="11"><title>{e(label)}</title>')]
    if not points:
        out.append(f'<text x="{WIDTH / 2:g}" y="{HEIGHT / 2:g}" text-anchor="middle" fill="currentColor">No data yet</text>')
        return "".join(out + ["</svg>"])
    n = len(points)
    xs = [LEFT + (PLOT_W / 2 if n == 1 else i * PLOT_W / (n - 1)) for i in range(n)]
    if n > 1 and all(isinstance(p.get("x"), (int, float)) for p in points):
        low, high = min(p["x"] for p in points), max(p["x"] for p in points)
        if high > low:
            xs = [LEFT + (p["x"] - low) * PLOT_W / (high - low) for p in points]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<line x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{_y(tick):g}" y2="{_y(tick):g}" stroke="#ccc"/>'
                   f'<text x="{LEFT - 6}" y="{_y(tick) + 4:g}" text-anchor="end" fill="currentColor">{tick:g}</text>')
    for x, point in list(zip(xs, points))[::-(-n // 8)]:  # at most 8 labels under the axis, so they do not overlap
        version = str(point.get("version", ""))
        name = str(point["x"]) if "x" in point else version
        short = name if len(name) <= 14 else name[:13] + "…"
        out.append(f'<text x="{x:g}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="currentColor">'
                   f'<title>{e(version)}</title>{e(short)}</text>')
    for row, (key, name, colour) in enumerate(metrics):
        out += _series(points, xs, key, colour)
        ly, lx = TOP + 8 + row * 18, WIDTH - RIGHT + 12
        out.append(f'<line x1="{lx}" x2="{lx + 20}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"/>'
                   f'<text x="{lx + 26}" y="{ly + 4}" fill="currentColor">{name}</text>')
    return "".join(out + ["</svg>"])
