"""<Paragraphs>: a list of {author, text} shown as a dialogue (or plain paragraphs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, ObjectTag
from components.text import segments
from components.variables import resolve

if TYPE_CHECKING:
    from components.render import RenderContext


class Paragraphs(ObjectTag):
    tag = "Paragraphs"
    about = About(
        summary="A list of objects shown as paragraphs; `layout=\"dialogue\"` shows them as a conversation.",
        attributes={"layout": "`dialogue`: a conversation, one bubble per speaker",
                    "nameKey": "the key of each paragraph's speaker", "textKey": "the key of each paragraph's text",
                    "valueType": "`json`: the value is the list; `url`: it is an address",
                    "showPlayer": ACCEPTED, "saveTextResult": ACCEPTED},
        defaults={"layout": "none", "nameKey": "author", "textKey": "text", "valueType": "json"},
        example='<Paragraphs name="dialogue" value="$dialogue" layout="dialogue"/>')
    template = "paragraphs.html"
    checks = {"layout": ("none", "dialogue"), "valueType": ("json", "url"), "showPlayer": "bool",
              "saveTextResult": ("yes", "no")}

    def sample_value(self) -> Any:
        name, text = self.get("nameKey") or "author", self.get("textKey") or "text"
        return [{name: "Customer", text: "Hello, my order never arrived."},
                {name: "Agent", text: "Sorry to hear that! Let me check."}]

    def paragraphs(self, data: dict) -> list[tuple[str, str]]:
        value = resolve(self.get("value"), data)
        name, text = self.get("nameKey") or "author", self.get("textKey") or "text"
        if not isinstance(value, list):
            return []
        return [(str(p.get(name, "")), str(p.get(text, ""))) if isinstance(p, dict) else ("", str(p)) for p in value]

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        paragraphs = self.paragraphs(ctx.data)
        regions = [r for r in ctx.by_to.get(self.name, []) if r.get("type") == "paragraphlabels"]
        spans: dict[int, list[tuple[int, int, str]]] = {}
        for r in regions:
            val = r["value"]
            try:
                first, last = int(val["start"]), int(val["end"])
            except (KeyError, TypeError, ValueError):
                continue
            for index in range(first, min(last, len(paragraphs) - 1) + 1):
                start = val.get("startOffset", 0) if index == first else 0
                end = val.get("endOffset", 0) if index == last else len(paragraphs[index][1])
                spans.setdefault(index, []).append((start, end, str(r.get("id"))))
        rows = [(i, author, segments(text, spans.get(i, [])), len(text)) for i, (author, text) in enumerate(paragraphs)]
        return {"rows": rows, "regions": regions, "by_id": {str(r.get("id")): r for r in regions},
                "dialogue": self.get("layout") == "dialogue"}
