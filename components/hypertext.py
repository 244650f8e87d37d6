"""<HyperText>: HTML from the task, shown through a real sanitiser (nh3): formatting stays,
scripts, event handlers, frames and styles that load things go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, ObjectTag
from components.text import decode

if TYPE_CHECKING:
    from components.render import RenderContext


class HyperText(ObjectTag):
    tag = "HyperText"
    about = About(
        summary="HTML from the task, sanitised with nh3 (formatting kept; scripts, event handlers, frames "
                "dropped).",
        attributes={"valueType": "`text`: the value is the HTML; `url`: it is an address",
                    "encoding": "`base64` or `base64unicode`: the value is decoded first",
                    "clickableLinks": ACCEPTED, "inline": ACCEPTED, "saveTextResult": ACCEPTED},
        defaults={"valueType": "text", "encoding": "none"},
        example='<HyperText name="page" value="$html"/>')
    template = "hypertext.html"
    checks = {"valueType": ("text", "url"), "saveTextResult": ("yes", "no"), "clickableLinks": "bool",
              "inline": "bool", "encoding": ("none", "base64", "base64unicode")}

    def sample_value(self) -> Any:
        return "<p>Sample <b>HTML</b> from <a href='https://example.com'>a page</a>.</p>"

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        html = decode(self.data_value(ctx), self.get("encoding"))
        regions = [r for r in ctx.by_to.get(self.name, []) if r.get("type") == "hypertextlabels"]
        return {"html": html, "regions": regions}
