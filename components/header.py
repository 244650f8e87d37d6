"""<Header>: a heading; its text is `value` or the tag's body, with $variables filled in."""

from __future__ import annotations

from components.base import ACCEPTED, About, Component
from components.variables import resolve



class Header(Component):
    tag = "Header"
    about = About(
        summary="A heading: `value` (or the tag's text) with `$variables` filled in and escaped; `size` any "
                "whole number, as Label Studio takes it, shown as `h1`–`h6` (below 1 is `h1`, above 6 is `h6`).",
        attributes={"value": "the heading's text (or the tag's text); `$key` fills in task data",
                    "size": "any whole number, shown as `h1`–`h6`", "underline": ACCEPTED},
        defaults={"size": "4"},
        example='<Header value="Read the review, then answer"/>')
    template = "header.html"
    checks = {"underline": "bool"}  # any size, as Label Studio takes: rendered as h1..h6

    def text(self, data: dict) -> str:
        return str(resolve(self.get("value") or self.body, data))

    @property
    def level(self) -> int:
        size = (self.get("size") or "4").strip()
        return min(6, max(1, int(size))) if size.lstrip("-").isdigit() else 4
