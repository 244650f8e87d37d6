"""Where a task's annotations differ: regions matched by the agreement metric's full match, the
regions every annotator has, and those only one has. Pure: results in, regions out."""

from __future__ import annotations

from app.agreement import metrics


def comparable(result: list[dict]) -> list[dict]:
    return [r for r in result if isinstance(r, dict) and r.get("type") != "relation"]


def has_match(region: dict, other: list[dict]) -> bool:
    """Whether another annotation's result holds this region (the agreement metric's full match)."""
    kind = metrics.kind_of([region])
    return any(metrics.pair_score(kind, [region], [o]) == 1.0 for o in other
               if isinstance(o, dict) and o.get("from_name") == region.get("from_name"))


def agreed_regions(results: list[list[dict]]) -> list[dict]:
    """The regions every annotator has (the first annotation's copy of each): where adjudication
    starts when nobody's work is taken whole."""
    if not results:
        return []
    return [r for r in comparable(results[0]) if all(has_match(r, other) for other in results[1:])]


def unique_regions(mine: list[dict], others: list[list[dict]]) -> list[dict]:
    """The regions of one annotation that no other annotation of the task has (the differences)."""
    return [r for r in comparable(mine) if not any(has_match(r, other) for other in others)]


def describe(region: dict, data: dict) -> str:
    """A region in words, for the list of differences."""
    value = region.get("value") or {}
    labels = [v for key, v in value.items() if key.endswith("labels") or key in ("choices", "taxonomy")]
    shown = ", ".join(" / ".join(map(str, x)) if isinstance(x, list) else str(x) for group in labels for x in group)
    if "start" in value and isinstance(value.get("text"), str):
        return f"{shown}: “{value['text']}” ({value['start']}–{value['end']})"
    if "x" in value:
        return f"{shown}: box at {value.get('x', 0):.0f}%, {value.get('y', 0):.0f}%"
    if "text" in value:
        return f"{region.get('from_name')}: “{' '.join(map(str, value['text']))}”"
    return f"{region.get('from_name')}: {shown or value}"
