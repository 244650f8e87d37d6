"""Inline SVG charts for the agreement dashboard: heatmap, bars, histogram and trend.

Pure string building, stdlib only. Labels, names and URLs come from users, so every string that goes
into the SVG is escaped, and a link whose scheme is not http(s) is dropped rather than drawn."""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from urllib.parse import urlsplit

NO_DATA = "#e5e7eb"
NEUTRAL = "#4e79a7"  # bars that are not agreement scores (counts) are not red/green
STOPS = ((0.0, (0xD7, 0x30, 0x27)), (0.5, (0xFE, 0xE0, 0x8B)), (1.0, (0x1A, 0x98, 0x50)))
CELL = 28  # heatmap cell: 30 annotators make an 840px square
TICKS = (0, 0.25, 0.5, 0.75, 1)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _safe_href(href: str | None) -> str | None:
    """Relative or http(s) links only: a `javascript:` URL inside an <a> would run on click."""
    if not href or not str(href).strip():
        return None
    return href if urlsplit(str(href).strip()).scheme in ("", "http", "https") else None


def _a(href: str | None, inner: str) -> str:
    href = _safe_href(href)
    return f'<a href="{_e(href)}">{inner}</a>' if href else inner


def _svg(testid: str, width: float, height: float, label: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" data-testid="{_e(testid)}" width="100%" '
            f'style="max-width:{width:g}px;height:auto" viewBox="0 0 {width:g} {height:g}" role="img" '
            f'aria-label="{_e(label)}" font-family="sans-serif" font-size="11"><title>{_e(label)}</title>'
            + "".join(body) + "</svg>")


def _empty(testid: str, label: str) -> str:
    return _svg(testid, 320, 60, label, [('<text x="160" y="34" text-anchor="middle" fill="currentColor">'
                                          'No data yet</text>')])


def _defined(score: float | None) -> bool:
    return score is not None and not math.isnan(score)  # NaN is "no data" too


def _rgb(score: float) -> tuple[int, int, int]:
    s = min(max(float(score), 0.0), 1.0)
    (a, ca), (b, cb) = (STOPS[0], STOPS[1]) if s <= 0.5 else (STOPS[1], STOPS[2])
    t = (s - a) / (b - a)
    return tuple(int(x + (y - x) * t + 0.5) for x, y in zip(ca, cb))


def color_for(score: float | None) -> str:
    """Red (0) → yellow (0.5) → green (1), linear in RGB; grey for no data. Out-of-range scores are clamped."""
    if not _defined(score):
        return NO_DATA
    return "#{:02x}{:02x}{:02x}".format(*_rgb(score))


def _ink(score: float | None) -> str:
    """Text colour that stays readable on the cell colour."""
    if not _defined(score):
        return "#374151"
    r, g, b = _rgb(score)
    return "#111" if (0.299 * r + 0.587 * g + 0.114 * b) / 255 > 0.5 else "#fff"


def _fmt(score: float | None) -> str:
    return f"{score:.2f}" if _defined(score) else "–"


def heatmap(names: list[str], matrix: list[list[float | None]], link: Callable[[int, int], str | None] | None = None,
            testid: str = "agreement-heatmap") -> str:
    """Annotator × annotator agreement; the diagonal is grey and never linked."""
    label = f"Agreement between each pair of {len(names)} annotators"
    if not names:
        return _empty(testid, label)
    n, left, top, right = len(names), 120, 90, 80  # top and right: room for the -45° column labels
    width, height = left + n * CELL + right, top + n * CELL + 8
    out = []
    for i, name in enumerate(names):
        cx, cy = left + i * CELL + CELL / 2, top + i * CELL + CELL / 2
        short, full = _e(_short(str(name), 16)), _e(name)
        out.append(f'<text x="{left - 6}" y="{cy + 4:g}" text-anchor="end" fill="currentColor">'
                   f'<title>{full}</title>{short}</text>'
                   f'<text x="{cx:g}" y="{top - 6}" transform="rotate(-45 {cx:g} {top - 6})" '
                   f'fill="currentColor"><title>{full}</title>{short}</text>')
    for i in range(n):
        row = matrix[i] if i < len(matrix) else []
        for j in range(n):
            x, y = left + j * CELL, top + i * CELL
            rect = f'<rect class="cell" x="{x}" y="{y}" width="{CELL}" height="{CELL}" stroke="#fff"'
            if i == j:
                out.append(f'{rect} fill="{NO_DATA}" data-diagonal="1"><title>{_e(names[i])}</title></rect>')
                continue
            score = row[j] if j < len(row) else None
            title = f"{names[i]} × {names[j]}: {_fmt(score) if _defined(score) else 'no data'}"
            cell = (f'{rect} fill="{color_for(score)}"><title>{_e(title)}</title></rect>'
                    f'<text x="{x + CELL / 2:g}" y="{y + CELL / 2 + 3:g}" text-anchor="middle" font-size="9" '
                    f'fill="{_ink(score)}" pointer-events="none">{_fmt(score)}</text>')
            out.append(_a(link(i, j) if link else None, cell))
    return _svg(testid, width, height, label, out)


def bars(items: list[tuple[str, float | None, str | None]], testid: str = "agreement-bars",
         max_value: float = 1.0) -> str:
    """Horizontal bars, one row per (label, value, href); a row with an href is one link."""
    label = f"Bar chart of {len(items)} values" + (" (agreement, 0 to 1)" if max_value == 1.0 else "")
    if not items:
        return _empty(testid, label)
    left, bar_w, right, top, row_h = 170, 360, 60, 8, 24
    width, height = left + bar_w + right, top * 2 + row_h * len(items)
    out = []
    for k, (text, value, href) in enumerate(items):
        y = top + k * row_h
        parts = [(f'<text x="{left - 6}" y="{y + 16}" text-anchor="end" fill="currentColor">'
                  f'<title>{_e(text)}</title>{_e(_short(str(text), 24))}</text>')]
        if _defined(value):
            shown = _fmt(value) if max_value == 1.0 else (str(value) if isinstance(value, int) else f"{value:g}")
            ratio = min(max(value / max_value, 0.0), 1.0) if max_value > 0 else 0.0
            length = ratio * bar_w
            colour = color_for(value) if max_value == 1.0 else NEUTRAL
            parts.append(f'<rect class="bar" x="{left}" y="{y + 4}" width="{length:g}" height="16" '
                         f'fill="{colour}"><title>{_e(f"{text}: {shown}")}</title></rect>')
        else:
            shown, length = "–", 0.0
        parts.append(f'<text x="{left + length + 4:g}" y="{y + 16}" fill="currentColor">{_e(shown)}</text>')
        out.append(_a(href, f'<g class="row">{"".join(parts)}</g>'))
    return _svg(testid, width, height, label, out)


def histogram(counts: list[int], edges: list[float], link: Callable[[int], str | None] | None = None,
              testid: str = "agreement-histogram") -> str:
    """Vertical bars per bin [edges[i], edges[i+1]); each bin coloured by its midpoint."""
    label = f"Histogram of {sum(counts)} agreement scores in {len(counts)} bins"
    if not counts:
        return _empty(testid, label)
    if len(edges) != len(counts) + 1:
        raise ValueError(f"histogram needs len(edges) == len(counts) + 1, got {len(edges)} and {len(counts)}")
    width, height, left, right, top, bottom = 640, 240, 24, 24, 20, 30
    plot_w, plot_h, n = width - left - right, height - top - bottom, len(counts)
    step, peak, base = plot_w / n, max(max(counts), 1), height - bottom
    out = [f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="#ccc"/>']
    for i, count in enumerate(counts):
        h = count / peak * plot_h
        x = left + i * step
        lo, hi = edges[i], edges[i + 1]
        bar = (f'<rect class="bar" x="{x + 1:g}" y="{base - h:g}" width="{max(step - 2, 1):g}" height="{h:g}" '
               f'fill="{color_for((lo + hi) / 2)}"><title>{lo:g}–{hi:g}: {count}</title></rect>'
               f'<text x="{x + step / 2:g}" y="{base - h - 4:g}" text-anchor="middle" fill="currentColor">'
               f'{count}</text>')
        out.append(_a(link(i) if link else None, bar))
    every = -(-len(edges) // 11)  # at most 11 edge labels
    for i in range(0, len(edges), every):
        out.append(f'<text x="{left + i * step:g}" y="{base + 16}" text-anchor="middle" '
                   f'fill="currentColor">{edges[i]:g}</text>')
    return _svg(testid, width, height, label, out)


def _x_labels(n: int, limit: int = 10) -> list[int]:
    """Indices of at most `limit` evenly spaced labels, always the first and the last."""
    if n <= limit:
        return list(range(n))
    return sorted({round(k * (n - 1) / (limit - 1)) for k in range(limit)})


def trend(points: list[tuple[str, float | None]], testid: str = "agreement-trend") -> str:
    """Agreement over time; a None score breaks the line."""
    label = f"Agreement over time, {sum(_defined(s) for _, s in points)} points"
    if not points:
        return _empty(testid, label)
    width, height, left, right, top, bottom = 640, 240, 40, 24, 16, 40
    plot_w, plot_h, n = width - left - right, height - top - bottom, len(points)

    def y_of(score: float) -> float:
        return top + (1 - min(max(score, 0.0), 1.0)) * plot_h

    xs = [left + (plot_w / 2 if n == 1 else i * plot_w / (n - 1)) for i in range(n)]
    out = []
    for tick in TICKS:
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y_of(tick):g}" y2="{y_of(tick):g}" stroke="#ccc"/>'
                   f'<text x="{left - 6}" y="{y_of(tick) + 4:g}" text-anchor="end" fill="currentColor">{tick:g}</text>')
    for i in _x_labels(n):
        text = str(points[i][0])
        out.append(f'<text x="{xs[i]:g}" y="{height - bottom + 16}" text-anchor="middle" fill="currentColor">'
                   f'<title>{_e(text)}</title>{_e(_short(text, 12))}</text>')
    runs: list[list[str]] = [[]]
    marks = []
    for x, (text, score) in zip(xs, points):
        if not _defined(score):
            runs.append([])
            continue
        runs[-1].append(f"{x:g},{y_of(score):g}")
        marks.append(f'<circle cx="{x:g}" cy="{y_of(score):g}" r="4" fill="{color_for(score)}" stroke="#374151">'
                     f'<title>{_e(f"{text}: {_fmt(score)}")}</title></circle>')
    out += [f'<polyline fill="none" stroke="{NEUTRAL}" stroke-width="2" points="{" ".join(run)}"/>'
            for run in runs if len(run) > 1]
    return _svg(testid, width, height, label, out + marks)
