"""<TextArea>: free text; each submission is one string in the result's `text` list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, Problem
from components.classification import Classification

if TYPE_CHECKING:
    from components.render import RenderContext


class TextArea(Classification):
    tag = "TextArea"
    about = About(
        summary="Free text: one or several answers (with `perRegion`, a transcription per region).",
        attributes={"rows": "the box's height in lines", "placeholder": "the box's hint",
                    "maxSubmissions": "how many texts it takes", "editable": "texts may be edited after adding",
                    "value": "initial text", "transcription": ACCEPTED, "showSubmitButton": ACCEPTED},
        example='<Text name="text" value="$text"/>\n<TextArea name="summary" toName="text" rows="3"/>',
        result={"text": ["A short summary."]})
    template = "textarea.html"
    result_type = "textarea"
    checks = {**Classification.common_checks, "rows": "int", "maxSubmissions": "int", "editable": "bool",
              "transcription": "bool", "showSubmitButton": "bool"}
    child_tags = ()

    @property
    def value_key(self) -> str:
        return "text"

    def max_submissions(self) -> int | None:
        limit = self.get("maxSubmissions")
        return int(limit) if limit else None

    def parse(self, raw: list[str], ctx: RenderContext) -> list[str] | None:
        texts = [t.replace("\r\n", "\n").strip() for t in raw]
        texts = [t for t in texts if t]
        limit = self.max_submissions()
        if limit is not None and len(texts) > limit:
            raise Problem(f"{self.name} takes at most {limit} text(s), got {len(texts)}")
        return texts or None

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise Problem("value.text must be a list of strings")
        return []
