"""<Image>: the picture with its regions drawn over it in SVG, in the original image's pixel space
(results hold percentages of the original size, as in Label Studio)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from components.base import ObjectTag

if TYPE_CHECKING:
    from components.render import RenderContext

SAFE_SRC = re.compile(r"^(https?://|/|data:image/(png|jpeg|gif|webp|bmp|svg\+xml);)", re.I)
GEOMETRY_TYPES = ("rectanglelabels", "rectangle", "polygonlabels", "polygon", "keypointlabels", "keypoint")
# the drawing tools in toolbar order: button text and title (naming the key static/image-tools.js binds)
TOOLS = {"rectangle": ("Box", "Draw boxes (R)"),
         "polygon": ("Polygon", "Draw polygons: click the points, then Enter or the first point; Escape cancels (P)"),
         "keypoint": ("Point", "Place key points (K)")}
SAMPLE_IMAGE = ("data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='640' height='400'>"
                "<rect width='640' height='400' fill='%23dfe7f2'/><circle cx='200' cy='200' r='90' fill='%2389a7d3'/>"
                "<rect x='340' y='120' width='200' height='160' fill='%23f2b880'/></svg>")


class Image(ObjectTag):
    tag = "Image"
    template = "image.html"
    checks = {"zoom": "bool", "zoomControl": "bool", "rotateControl": "bool", "brightnessControl": "bool",
              "contrastControl": "bool", "grid": "bool", "negativeZoom": "bool"}

    def sample_value(self) -> Any:
        return SAMPLE_IMAGE

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        src = str(self.data_value(ctx) or "")
        regions = [r for r in ctx.by_to.get(self.name, []) if r.get("type") in GEOMETRY_TYPES]
        width = next((r.get("original_width") for r in regions if r.get("original_width")), None) or 100
        height = next((r.get("original_height") for r in regions if r.get("original_height")), None) or 100
        return {"src": src if SAFE_SRC.match(src) else None, "raw_src": src, "regions": regions,
                "width": width, "height": height, "sx": width / 100, "sy": height / 100}

    def tools(self, ctx: RenderContext) -> list[dict[str, Any]]:
        """The drawing tools this image's controls offer, in toolbar order: each with the control that
        draws without a label (<Rectangle>, <Polygon>, <KeyPoint>), if there is one, for static/image-tools.js."""
        found: dict[str, dict[str, Any]] = {}
        for control in ctx.config.controls:
            kind = getattr(control, "result_type", "").removesuffix("labels")
            if kind in TOOLS and self.name in control.to_names:
                text, title = TOOLS[kind]
                tool = found.setdefault(kind, {"tool": kind, "text": text, "title": title, "free": None})
                if getattr(control, "labels_optional", False) and tool["free"] is None:
                    tool["free"] = {"control": control.name, "type": control.result_type}
        return [found[kind] for kind in TOOLS if kind in found]
