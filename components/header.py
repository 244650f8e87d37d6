"""<Header>: a heading; its text is `value` or the tag's body, with $variables filled in."""

from __future__ import annotations

from components.base import Component
from components.variables import resolve



class Header(Component):
    tag = "Header"
    template = "header.html"
    checks = {"underline": "bool"}  # any size, as Label Studio takes: rendered as h1..h6

    def text(self, data: dict) -> str:
        return str(resolve(self.get("value") or self.body, data))

    @property
    def level(self) -> int:
        size = (self.get("size") or "4").strip()
        return min(6, max(1, int(size))) if size.lstrip("-").isdigit() else 4
