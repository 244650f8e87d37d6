"""<Image>: the picture with its regions drawn over it in SVG, in the original image's pixel space
(results hold percentages of the original size, as in Label Studio)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components import masks
from components.base import ACCEPTED, About, ObjectTag
from components.variables import resolve

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext

SAFE_SRC = re.compile(r"^(https?://|/|data:image/(png|jpeg|gif|webp|bmp|svg\+xml);)", re.I)
GEOMETRY_TYPES = ("rectanglelabels", "rectangle", "polygonlabels", "polygon", "keypointlabels", "keypoint")
MASK_TYPES = ("brushlabels", "brush")  # pixel masks: shown as PNGs under the shapes, listed with them
# the drawing tools in toolbar order: button text and title (naming the key static/image-tools.js binds)
TOOLS = {"rectangle": ("Box", "Draw boxes (R)"),
         "polygon": ("Polygon", "Draw polygons: click the points, then Enter or the first point; Escape cancels (P)"),
         "keypoint": ("Point", "Place key points (K)"),
         "brush": ("Brush", "Paint a mask (B); [ and ] change the brush size")}
# a brush control also gets these (static/brush-tools.js)
MASK_TOOLS = [{"tool": "eraser", "text": "Eraser", "title": "Erase from the selected mask (E)", "free": None},
              {"tool": "fill", "text": "Fill", "title": "Fill a polygon into the mask: click its points, then Enter (F)",
               "free": None}]
SAMPLE_IMAGE = ("data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='640' height='400'>"
                "<rect width='640' height='400' fill='%23dfe7f2'/><circle cx='200' cy='200' r='90' fill='%2389a7d3'/>"
                "<rect x='340' y='120' width='200' height='160' fill='%23f2b880'/></svg>")


class Image(ObjectTag):
    tag = "Image"
    about = About(
        summary="A picture (`value`: an http(s) URL, a `/data/…` path or a `data:image/…` URI; anything else "
                "is not loaded). Regions are drawn over it in the original image's pixel space.\n\n"
                "`valueList=\"$pages\"` (instead of `value`) shows a list of images, a multi-page document, one "
                "under the other, each with its own tools and region list (\"Page 2 of 5\"). A region on a page "
                "carries that page's 0-based `item_index` on the item, as Label Studio writes it; an `item_index` "
                "outside the list is refused. When both are given, `valueList` wins, as in Label Studio.",
        attributes={"value": "the image: `$key` holding a URL, a `/data/…` path or a `data:image/…` URI",
                    "valueList": "a list of images, one page each (instead of `value`)",
                    "zoom": "zoom buttons on the labelling page", "negativeZoom": "allow zooming out below 100%",
                    "maxWidth": "the widest the picture is shown (CSS width)",
                    "zoomControl": ACCEPTED, "rotateControl": ACCEPTED, "brightnessControl": ACCEPTED,
                    "contrastControl": ACCEPTED, "grid": ACCEPTED},
        example='<Image name="image" value="$image" zoom="true"/>')
    template = "image.html"
    checks = {"zoom": "bool", "zoomControl": "bool", "rotateControl": "bool", "brightnessControl": "bool",
              "contrastControl": "bool", "grid": "bool", "negativeZoom": "bool"}

    def sample_value(self) -> Any:
        return [SAMPLE_IMAGE, SAMPLE_IMAGE] if self.multi else SAMPLE_IMAGE

    required = ("name",)  # and value (one image) or valueList (a multi-page document): see validate

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        if not self.get("value") and not self.get("valueList"):
            yield self.error("<Image> needs a value (one image) or a valueList (several).", "value")

    @property
    def multi(self) -> bool:
        return bool(self.get("valueList"))  # as in Label Studio, valueList wins over value

    def sources(self, data: dict[str, Any]) -> list[str]:
        """The image addresses: one, or a valueList's pages in order."""
        if not self.multi:
            return [str(resolve(self.get("value"), data) or "")]
        found = resolve(self.get("valueList"), data)
        return [str(x) for x in found] if isinstance(found, list) else []

    def view(self, ctx: RenderContext) -> list[dict[str, Any]]:
        """One entry per image shown (a valueList's pages each get one): its address and its regions
        (on a page, those whose item_index is that page's)."""
        shaped = {str(r.get("id")) for r in ctx.by_to.get(self.name, []) if r.get("type") in GEOMETRY_TYPES + MASK_TYPES}
        # a `labels` result (<Labels> on an image) is drawn only when no shape result shares its id
        regions = [r for r in ctx.by_to.get(self.name, []) if r.get("type") in GEOMETRY_TYPES + MASK_TYPES
                   or (r.get("type") == "labels" and str(r.get("id")) not in shaped)]
        items = []
        for index, src in enumerate(self.sources(ctx.data)):
            mine = [r for r in regions if r.get("item_index", 0) == index] if self.multi else regions
            width = next((r.get("original_width") for r in mine if r.get("original_width")), None) or 100
            height = next((r.get("original_height") for r in mine if r.get("original_height")), None) or 100
            items.append({"index": index if self.multi else None, "key": f"{self.name}:{index}" if self.multi else self.name,
                          "src": src if SAFE_SRC.match(src) else None, "raw_src": src, "regions": mine,
                          "width": width, "height": height, "sx": width / 100, "sy": height / 100,
                          "masks": [self._mask(r, ctx) for r in mine if r.get("type") in MASK_TYPES]})
        return items

    @staticmethod
    def _mask(region: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        """A mask as the page shows it: a PNG in its label's colour, made from the RLE on the server."""
        width, height = region.get("original_width"), region.get("original_height")
        if not (isinstance(width, int) and isinstance(height, int)):
            return {"id": region.get("id"), "src": None, "pixels": 0, "error": "no original_width/original_height"}
        return {"id": region.get("id"), **masks.shown(region.get("value") or {}, width, height, ctx.color_of(region))}

    def page_count(self, data: dict[str, Any]) -> int:
        return len(self.sources(data))

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
        return [found[kind] for kind in TOOLS if kind in found] + (MASK_TOOLS if "brush" in found else [])
