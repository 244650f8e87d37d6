"""<View>: the layout container; `style` is inline CSS (cleaned), visibleWhen hides it until its condition holds."""

from __future__ import annotations

from components.base import About, Component
from components.style import clean_declarations

VISIBLE_WHEN = ("region-selected", "choice-selected", "no-region-selected", "choice-unselected")


class View(Component):
    tag = "View"
    about = About(
        summary="Layout container: lays out the tags inside it. Writes nothing.",
        attributes={"style": "inline CSS; anything that could load a resource is dropped",
                    "className": "a class name, for the rules of a `<Style>`",
                    "visibleWhen": "show it only when a region or a choice is (not) selected",
                    "whenTagName": "the control `visibleWhen` watches",
                    "whenChoiceValue": "the choice(s) that show it, comma-separated",
                    "whenLabelValue": "the label(s) that show it, comma-separated"},
        example='<View style="display: flex; gap: 1em">\n  <Header value="Left"/>\n  <Header value="Right"/>\n</View>')
    template = "view.html"
    checks = {"visibleWhen": VISIBLE_WHEN}

    @property
    def style(self) -> str:
        return clean_declarations(self.get("style") or "")
