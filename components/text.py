"""<Text>: the task's text, cut into segments at every span edge so highlights need no client-side
layout; offsets are code points of the original text (Python's str indexes)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from components.base import ObjectTag

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
    """(start, piece, region ids covering it) for consecutive pieces of `text`."""
    edges = sorted({0, len(text), *(p for s, e, _ in spans for p in (s, e) if 0 <= p <= len(text))})
    out = []
    for start, end in zip(edges, edges[1:]):
        covering = [rid for s, e, rid in spans if s <= start and end <= e]
        out.append((start, text[start:end], covering))
    return out


class Text(ObjectTag):
    tag = "Text"
    template = "text.html"
    checks = {"valueType": ("text", "url"), "granularity": ("symbol", "word", "sentence", "paragraph"),
              "saveTextResult": ("yes", "no"), "encoding": ("none", "base64", "base64unicode"),
              "selectionEnabled": "bool"}

    def text(self, data: dict) -> str:
        from components.variables import resolve

        return decode(resolve(self.get("value"), data), self.get("encoding"))

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        text = self.text(ctx.data)
        regions = [r for r in ctx.by_to.get(self.name, []) if r.get("type") in ("labels",)]
        spans = [(r["value"].get("start"), r["value"].get("end"), str(r.get("id"))) for r in regions
                 if isinstance(r["value"].get("start"), int) and isinstance(r["value"].get("end"), int)]
        return {"text": text, "segments": segments(text, spans), "regions": regions,
                "by_id": {str(r.get("id")): r for r in regions}, "is_url": self.get("valueType") == "url"}
