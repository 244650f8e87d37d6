"""<View>: the layout container; `style` is inline CSS (cleaned), visibleWhen hides it until its condition holds."""

from __future__ import annotations

from components.base import Component
from components.style import clean_declarations

VISIBLE_WHEN = ("region-selected", "choice-selected", "no-region-selected", "choice-unselected")


class View(Component):
    tag = "View"
    template = "view.html"
    checks = {"visibleWhen": VISIBLE_WHEN}

    @property
    def style(self) -> str:
        return clean_declarations(self.get("style") or "")
