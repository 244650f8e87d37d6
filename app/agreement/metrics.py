"""Inter-annotator agreement on Label Studio result JSON: per-control pair scores, kappas and alpha."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from components.rle import RLEError, decode

IOU_MIN = 0.5  # PASCAL VOC's threshold: below it two shapes are not "the same object"

# Shown in the UI next to each score, so a reader knows what was measured.
METRICS = {
    "span": "span F1 (exact match)",
    "span_overlap": "span F1 (any overlap)",
    "choice": "exact match of chosen set",
    "box": "box F1 at IoU ≥ 0.5",
    "polygon": "polygon F1 at IoU ≥ 0.5",
    "text": "1 − normalised edit distance",
    "rating": "1 − |difference| / range",
    "number": "1 − |difference| / range",
    "ranking": "(1 + Kendall's τ) / 2 of the order; with buckets, items in the same bucket",
    "mask_iou": "mask IoU per label (pixels of the union of each label's masks)",
}

KINDS = {"labels": "span", "hypertextlabels": "span", "paragraphlabels": "span", "choices": "choice",
         "taxonomy": "choice", "rectanglelabels": "box", "rectangle": "box", "polygonlabels": "polygon",
         "polygon": "polygon", "textarea": "text", "rating": "rating", "number": "number",
         "ranker": "ranking", "brushlabels": "mask_iou", "brush": "mask_iou"}

Item = tuple  # (label, geometry): only items with the same label can match


@dataclass
class TaskAgreement:
    score: float | None
    pairs: dict[tuple[int, int], float | None] = field(default_factory=dict)
    controls: dict[str, float] = field(default_factory=dict)
    labels: dict[str, float] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


def controls_of(result: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for region in result or []:
        if isinstance(region, dict) and region.get("type") != "relation" and region.get("from_name"):
            grouped.setdefault(region["from_name"], []).append(region)
    return grouped


def kind_of(regions: list[dict]) -> str:
    for region in regions:
        kind = KINDS.get(str(region.get("type", "")).lower())
        if kind:
            return kind
    return "other"


def _value(region: dict) -> dict:
    value = region.get("value")
    return value if isinstance(value, dict) else {}


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _labels(region: dict) -> list[str]:
    # Label Studio keys the labels by the region type ("rectanglelabels"); a bare "rectangle" has none.
    value, key = _value(region), region.get("type")
    labels = value.get(key) if isinstance(key, str) and key in value else value.get("labels")
    return [str(label) for label in labels] if isinstance(labels, list) and labels else [""]


# ---- spans ----

def _interval(v: dict) -> tuple | None:
    """(space, start, end) to measure overlap in; None when the span crosses nodes of unknown length."""
    start, end = v.get("start"), v.get("end")
    if _number(start) and _number(end) and "startOffset" not in v:
        return (v.get("message"), start, end)  # a <Chat> span's axis is its message
    if start == end and _number(v.get("startOffset")) and _number(v.get("endOffset")):
        return (start, v["startOffset"], v["endOffset"])
    return None


def _span_items(regions: list[dict]) -> list[Item]:
    items = []
    for region in regions:
        v = _value(region)
        key = tuple(str(v.get(k)) for k in ("start", "end", "startOffset", "endOffset", "message"))
        items += [(label, (key, _interval(v))) for label in _labels(region)]
    return items


def _overlap(a: tuple, b: tuple) -> float:
    if a[0] == b[0]:
        return 1.0
    # Spans across several nodes (HTML, paragraphs) have no common axis: only exact matches count.
    if a[1] is None or b[1] is None or a[1][0] != b[1][0]:
        return 0.0
    (_, s1, e1), (_, s2, e2) = a[1], b[1]
    inter = min(e1, e2) - max(s1, s2)
    return inter / ((e1 - s1) + (e2 - s2) - inter) if inter > 0 else 0.0


# ---- boxes and polygons ----

def _box_items(regions: list[dict]) -> list[Item]:
    items = []
    for region in regions:
        v = _value(region)
        x, y, w, h = (float(v.get(k) or 0) for k in ("x", "y", "width", "height"))
        corners = (min(x, x + w), min(y, y + h), max(x, x + w), max(y, y + h))  # rotation is ignored
        items += [(label, corners) for label in _labels(region)]
    return items


def _box_iou(a: tuple, b: tuple) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _edges(pts: list) -> list:
    return list(zip(pts, pts[1:] + pts[:1]))


def _area(pts: list) -> float:
    """Signed shoelace area: positive when the points run counter-clockwise."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in _edges(pts)) / 2


def _side(a: tuple, b: tuple, p: tuple) -> float:
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def _is_convex(pts: list) -> bool:
    # Every vertex on one side of every edge: unlike checking turns only, this rejects pentagrams.
    sides = {_side(a, b, p) > 0 for a, b in _edges(pts) for p in pts if _side(a, b, p)}
    return len(pts) >= 3 and len(sides) == 1


def _clip(subject: list, clip: list) -> list:
    """Sutherland–Hodgman: the part of `subject` inside the convex counter-clockwise `clip`."""
    out = subject
    for a, b in _edges(clip):
        pts, out = out, []
        for p, q in zip(pts[-1:] + pts[:-1], pts):
            sp, sq = _side(a, b, p), _side(a, b, q)
            if (sp >= 0) != (sq >= 0):
                t = sp / (sp - sq)
                out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
            if sq >= 0:
                out.append(q)
    return out


def _shape(points: list) -> tuple:
    """(counter-clockwise points, convex?, bounding box) of a polygon."""
    pts = [(float(p[0]), float(p[1])) for p in points or []]
    if _area(pts) < 0:
        pts.reverse()
    xs, ys = [p[0] for p in pts] or [0.0], [p[1] for p in pts] or [0.0]
    return pts, _is_convex(pts), (min(xs), min(ys), max(xs), max(ys))


def _shape_iou(a: tuple, b: tuple) -> float:
    # Clipping is exact only for convex shapes; for the rest we settle for the bounding boxes' IoU.
    if not (a[1] and b[1]):
        return _box_iou(a[2], b[2])
    inter = abs(_area(_clip(a[0], b[0])))
    union = _area(a[0]) + _area(b[0]) - inter
    return inter / union if union > 0 else 0.0


def polygon_iou(a: list, b: list) -> float:
    """IoU of two polygons given as [[x, y], ...]: exact when both are convex, else of their bounding boxes."""
    return _shape_iou(_shape(a), _shape(b))


def _polygon_items(regions: list[dict]) -> list[Item]:
    items = []
    for region in regions:
        shape = _shape(_value(region).get("points"))
        items += [(label, shape) for label in _labels(region)]
    return items


def _f1(a: list[Item], b: list[Item], sim: Callable[[Any, Any], float], threshold: float) -> float:
    """F1 of a one-to-one greedy matching of same-label items, best-scoring pairs first."""
    if not a and not b:
        return 1.0
    scored = sorted((-s, i, j) for i, x in enumerate(a) for j, y in enumerate(b)
                    if x[0] == y[0] and (s := sim(x[1], y[1])) > 0 and s >= threshold)
    used_a: set[int] = set()
    used_b: set[int] = set()
    for _, i, j in scored:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
    return 2 * len(used_a) / (len(a) + len(b))


# ---- choices, text, numbers ----

def _choices(regions: list[dict]) -> set[str]:
    chosen = set()
    for region in regions:
        v = _value(region)
        chosen |= {str(c) for c in v.get("choices") or []}
        chosen |= {" / ".join(map(str, path)) for path in v.get("taxonomy") or []}
    return chosen


def _text(regions: list[dict]) -> str:
    parts: list[str] = []
    for region in regions:
        text = _value(region).get("text") or []
        parts += [text] if isinstance(text, str) else [str(t) for t in text]
    return "\n".join(parts).strip()


def _levenshtein(s: str, t: str) -> int:
    prev = list(range(len(t) + 1))
    for i, cs in enumerate(s, 1):
        cur = [i]
        for j, ct in enumerate(t, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (cs != ct)))
        prev = cur
    return prev[-1]


def _text_score(s: str, t: str) -> float:
    return 1.0 - _levenshtein(s, t) / max(len(s), len(t)) if s or t else 1.0


def _scalar(regions: list[dict], key: str) -> float | None:
    for region in regions:
        x = _value(region).get(key)
        if _number(x):
            return float(x)
    return None


def _scalar_score(x: float | None, y: float | None, value_range: float | None) -> float | None:
    if x is None or y is None:
        return None if x is None and y is None else 0.0
    if not value_range or value_range <= 0:
        return float(x == y)
    return max(0.0, 1.0 - abs(x - y) / value_range)


# ---- rankings ----

def _ranking(regions: list[dict]) -> dict[str, list[str]]:
    """A <Ranker>'s value as bucket -> item ids (a bare list: one unnamed order)."""
    for region in regions:
        value = _value(region).get("ranker")
        if isinstance(value, list):
            return {"": [str(v) for v in value]}
        if isinstance(value, dict):
            return {str(k): [str(v) for v in ids] for k, ids in value.items() if isinstance(ids, list)}
    return {}


def kendall_tau(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Kendall's τ (τ-a) of two orders over the items both hold: 1 the same order, −1 reversed;
    None with fewer than two items in common."""
    position = {x: i for i, x in enumerate(b)}
    common = [position[x] for x in dict.fromkeys(a) if x in position]
    pairs = len(common) * (len(common) - 1) // 2
    if not pairs:
        return None
    concordant = sum(1 for i, x in enumerate(common) for y in common[i + 1:] if x < y)
    return (2 * concordant - pairs) / pairs


def _ranking_score(a: dict[str, list[str]], b: dict[str, list[str]], label: str | None) -> float | None:
    if not a or not b:
        return None if not a and not b else 0.0
    if label is None and len(a) == 1 and a.keys() == b.keys():  # one order (no buckets): how alike the orders are
        tau = kendall_tau(next(iter(a.values())), next(iter(b.values())))
        return 1.0 if tau is None and a == b else None if tau is None else (1 + tau) / 2
    where_a = {i: k for k, ids in a.items() for i in ids}
    where_b = {i: k for k, ids in b.items() for i in ids}
    items = where_a.keys() | where_b.keys()
    if label is not None:
        return _mean([float((where_a.get(i) == label) == (where_b.get(i) == label)) for i in items])
    return _mean([float(where_a.get(i) == where_b.get(i)) for i in items])


# ---- brush masks ----

def _masks(regions: list[dict]) -> dict[str, np.ndarray]:
    """label -> union of that label's masks; a mask that is not one of its image's size is left out."""
    union: dict[str, np.ndarray] = {}
    for region in regions:
        width, height = region.get("original_width"), region.get("original_height")
        try:
            mask = decode(_value(region).get("rle") or [], int(width), int(height))
        except (RLEError, TypeError, ValueError):
            continue
        for label in _value(region).get("brushlabels") or [""]:
            found = union.get(str(label))
            union[str(label)] = mask if found is None or found.shape != mask.shape else found | mask
    return union


def _mask_score(a: dict[str, np.ndarray], b: dict[str, np.ndarray], label: str | None) -> float | None:
    """Mean over labels of the IoU of the two unions: a label neither drew is skipped, one only one drew is 0."""
    scores = []
    for name in [label] if label is not None else sorted(a.keys() | b.keys()):
        x, y = a.get(name), b.get(name)
        if x is None and y is None:
            continue
        if x is None or y is None or x.shape != y.shape:
            scores.append(0.0)
            continue
        union = int((x | y).sum())
        if union:
            scores.append(int((x & y).sum()) / union)
    return _mean(scores)


# ---- pairs and tasks ----

# kind -> (items of a region list, similarity of two geometries, least similarity that matches)
_MATCHED = {"span": (_span_items, lambda a, b: float(a[0] == b[0]), 0.0), "box": (_box_items, _box_iou, IOU_MIN),
            "polygon": (_polygon_items, _shape_iou, IOU_MIN)}


def pair_score(kind: str, a: list[dict], b: list[dict], *, mode: str = "exact",
               range: float | None = None, label: str | None = None) -> float | None:
    """Agreement of two annotators on one control, 0..1; None when undefined. `label` restricts to one label."""
    if kind in ("rating", "number"):
        return _scalar_score(_scalar(a, kind), _scalar(b, kind), range)
    if kind == "text":
        return _text_score(_text(a), _text(b))
    if kind == "ranking":
        return _ranking_score(_ranking(a), _ranking(b), label)
    if kind == "mask_iou":
        return _mask_score(_masks(a), _masks(b), label)
    if kind == "choice":
        ca, cb = _choices(a), _choices(b)
        return float((label in ca) == (label in cb)) if label is not None else float(ca == cb)
    if kind not in _MATCHED:
        return None
    if mode not in ("exact", "overlap"):
        raise ValueError(f"unknown span mode {mode!r}")
    items, sim, threshold = _MATCHED[kind]
    xs, ys = items(a), items(b)
    if label is not None:
        xs, ys = [x for x in xs if x[0] == label], [y for y in ys if y[0] == label]
    return _f1(xs, ys, _overlap if kind == "span" and mode == "overlap" else sim, threshold)


def _labels_used(kind: str, regions: list[dict]) -> set[str]:
    if kind == "choice":
        return _choices(regions)
    if kind == "ranking":  # buckets are the labels; a single order has none
        found = _ranking(regions)
        return {k for k, ids in found.items() if ids} if len(found) > 1 else set()
    if kind == "mask_iou":
        return set(_masks(regions)) - {""}
    return {item[0] for item in _MATCHED[kind][0](regions)} - {""} if kind in _MATCHED else set()


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _weighted_mean(scores: dict[str, float], weights: dict[str, float]) -> float | None:
    total = sum(weights.get(c, 1.0) for c in scores if weights.get(c, 1.0) > 0)
    if not total:
        return None
    return sum(s * weights.get(c, 1.0) for c, s in scores.items() if weights.get(c, 1.0) > 0) / total


def task_agreement(results: dict[int, list[dict]], weights: dict[str, float] | None = None,
                   ranges: dict[str, float] | None = None, *, span_mode: str = "exact") -> TaskAgreement:
    weights, ranges = weights or {}, ranges or {}
    grouped = {u: controls_of(r) for u, r in results.items()}
    # Only controls somebody used on this task are compared; a missing one is an empty list.
    kinds = {c: kind_of([r for g in grouped.values() for r in g.get(c, [])])
             for c in sorted({c for g in grouped.values() for c in g})}
    kinds = {c: k for c, k in kinds.items() if k != "other"}
    per_control: dict[str, list[float]] = {c: [] for c in kinds}
    per_label: dict[str, list[float]] = {}
    pairs: dict[tuple[int, int], float | None] = {}
    for u, v in combinations(sorted(grouped), 2):
        scores = {}
        for control, kind in kinds.items():
            a, b = grouped[u].get(control, []), grouped[v].get(control, [])
            score = pair_score(kind, a, b, mode=span_mode, range=ranges.get(control))
            if score is not None:
                scores[control] = score
                per_control[control].append(score)
            # A label neither of the two used says nothing about this pair, so it is left out.
            for label in sorted(_labels_used(kind, a) | _labels_used(kind, b)):
                per_label.setdefault(label, []).append(pair_score(kind, a, b, mode=span_mode, label=label))
        pairs[(u, v)] = _weighted_mean(scores, weights)
    return TaskAgreement(
        score=_mean([s for s in pairs.values() if s is not None]),
        pairs=pairs,
        controls={c: m for c, s in per_control.items() if (m := _mean(s)) is not None},
        labels={label: m for label, s in per_label.items() if (m := _mean(s)) is not None},
        kinds=kinds,
    )


# ---- chance-corrected coefficients over many items ----

Table = Sequence[Sequence[Hashable | None]]


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    if len(a) != len(b):
        raise ValueError("both annotators must rate the same items")
    n = len(a)
    ca, cb = Counter(a), Counter(b)
    chance = sum(ca[c] * cb[c] for c in ca)
    if not n or chance == n * n:  # undefined: both used one and the same category throughout
        return None
    p_o, p_e = sum(x == y for x, y in zip(a, b)) / n, chance / (n * n)
    return (p_o - p_e) / (1 - p_e)


def _units(table: Table, convert: Callable[[Any], Hashable] = lambda x: x) -> list[Counter]:
    """Per item, the count of each category; items with fewer than two ratings cannot be paired."""
    units = [Counter(convert(x) for x in row if x is not None) for row in table]
    return [u for u in units if u.total() >= 2]


def fleiss_kappa(table: Table) -> float | None:
    # Generalised to a varying number of raters per item: each P_i uses the item's own n_i,
    # and p_j pools every rating. With equal n_i this is Fleiss (1971) exactly.
    units = _units(table)
    totals: Counter = sum(units, Counter())
    if len(totals) < 2:
        return None
    p_bar = _mean([(sum(c * c for c in u.values()) - u.total()) / (u.total() * (u.total() - 1)) for u in units])
    p_e = sum((t / totals.total()) ** 2 for t in totals.values())
    return (p_bar - p_e) / (1 - p_e)


def krippendorff_alpha(table: Table, level: str = "nominal") -> float | None:
    """Krippendorff's alpha from the coincidence matrix (Krippendorff 2011); nominal or interval."""
    if level == "nominal":
        units, delta = _units(table), lambda c, k: float(c != k)
    elif level == "interval":
        units, delta = _units(table, float), lambda c, k: (c - k) ** 2
    else:
        raise ValueError(f"unsupported level {level!r}")
    totals: Counter = sum(units, Counter())
    observed = sum(sum(u[c] * u[k] * delta(c, k) for c in u for k in u) / (u.total() - 1) for u in units)
    expected = sum(totals[c] * totals[k] * delta(c, k) for c in totals for k in totals)
    if not expected:  # every pairable value is the same: no variation to be reliable about
        return None
    return 1 - (totals.total() - 1) * observed / expected


def observed_agreement(table: Table) -> float | None:
    return _mean([sum(c * (c - 1) for c in u.values()) / (u.total() * (u.total() - 1)) for u in _units(table)])
