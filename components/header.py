"""<Header>: a heading; its text is `value` or the tag's body, with $variables filled in."""

from __future__ import annotations

from components.base import Component
from components.variables import resolve

SIZES = ("1", "2", "3", "4", "5", "6")


class Header(Component):
    tag = "Header"
    template = "header.html"
    checks = {"size": SIZES, "underline": "bool"}

    def text(self, data: dict) -> str:
        return str(resolve(self.get("value") or self.body, data))

    @property
    def level(self) -> int:
        return int(self.get("size") or 4)
