"""<Text>: the task's text, cut into segments at every span edge so highlights need no client-side
layout; offsets are code points of the original text (Python's str indexes)."""

from __future__ import annotations

import base64
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, ObjectTag
from components.variables import resolve

if TYPE_CHECKING:
    from components.render import RenderContext


def decode(value: Any, encoding: str | None) -> str:
    text = "" if value is None else str(value)
    if encoding in ("base64", "base64unicode"):
        try:
            return base64.b64decode(text).decode("utf-8")
        except ValueError:
            return text
    return text


def segments(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, str, list[str]]]:
    """(start, piece, ids of the regions covering it) for consecutive pieces of `text`: one sweep
    over the span edges, so a thousand spans cost no more than sorting them."""
    valid = [(s, e, rid) for s, e, rid in spans if 0 <= s < e <= len(text)]
    opens: dict[int, list[str]] = defaultdict(list)
    closes: dict[int, list[str]] = defaultdict(list)
    for start, end, rid in valid:
        opens[start].append(rid)
        closes[end].append(rid)
    edges = sorted({0, len(text), *opens, *closes})
    active: dict[str, None] = {}  # insertion-ordered: earlier spans first
    out = []
    for start, end in zip(edges, edges[1:]):
        for rid in closes.get(start, ()):
            active.pop(rid, None)
        for rid in opens.get(start, ()):
            active[rid] = None
        out.append((start, text[start:end], list(active)))
    return out


class Text(ObjectTag):
    tag = "Text"
    about = About(
        summary="The task's text. Offsets count Unicode code points of the original text; carriage returns "
                "are kept in the page.",
        attributes={"granularity": "`word`: selections widen to whole words",
                    "valueType": "`text`: the value is the text; `url`: it is an address",
                    "encoding": "`base64` or `base64unicode`: the value is decoded first",
                    "saveTextResult": ACCEPTED, "selectionEnabled": ACCEPTED},
        defaults={"granularity": "symbol", "valueType": "text", "encoding": "none"},
        example='<Text name="text" value="$text"/>')
    template = "text.html"
    checks = {"valueType": ("text", "url"), "granularity": ("symbol", "word", "sentence", "paragraph"),
              "saveTextResult": ("yes", "no"), "encoding": ("none", "base64", "base64unicode"),
              "selectionEnabled": "bool"}

    def text(self, data: dict) -> str:
        return decode(resolve(self.get("value"), data), self.get("encoding"))

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        text = self.text(ctx.data)
        regions = [r for r in ctx.by_to.get(self.name, []) if r.get("type") in ("labels",)]
        spans = [(r["value"].get("start"), r["value"].get("end"), str(r.get("id"))) for r in regions
                 if isinstance(r["value"].get("start"), int) and isinstance(r["value"].get("end"), int)]
        return {"text": text, "segments": segments(text, spans), "regions": regions,
                "by_id": {str(r.get("id")): r for r in regions}, "is_url": self.get("valueType") == "url"}
