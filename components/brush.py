"""<BrushLabels>/<Brush>: pixel masks on an <Image>, one result item per mask, exactly as Label
Studio writes them: `value: {"format": "rle", "rle": [...], "brushlabels": [...]}` with the image's
natural size on the item. The RLE is Label Studio's own (components/rle.py); the page paints PNGs and
the server turns them into RLE (components/masks.py), so a large mask never runs through the browser's
JavaScript."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from components import masks, rle
from components.base import ACCEPTED, About, Problem
from components.image_regions import ImageRegions

if TYPE_CHECKING:
    from components.render import RenderContext

EXAMPLE_RLE = rle.encode(np.eye(4, dtype=bool))  # a 4 x 4 diagonal, for the reference
SIZE = {"original_width": 4, "original_height": 4, "image_rotation": 0}


def natural_size(item: dict[str, Any]) -> tuple[int, int]:
    width, height = item.get("original_width"), item.get("original_height")
    for key, value in (("original_width", width), ("original_height", height)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise Problem(f"a mask needs {key}: the image's natural size in pixels, which its RLE covers")
    return width, height


class BrushLabels(ImageRegions):
    tag = "BrushLabels"
    about = About(
        summary="Masks painted on `<Image>`, one region per mask: `value.format` is `\"rle\"` and `value.rle` "
                "Label Studio's own run-length encoding (not COCO's) of an RGBA array at the image's natural size, "
                "whose alpha channel is the mask; the item carries `original_width` and `original_height`. "
                "Label Studio's exports, converters and ML backends read these as they are.\n\n"
                "In the workspace: the Brush (`B`) paints with the pressed label, a new mask or, when a mask of that "
                "label is selected, more of it; the Eraser (`E`) takes pixels off the selected mask; `[` and `]` "
                "change the brush size; Fill (`F`) fills a polygon into the mask: click its points, then Enter. "
                "Undo and redo work as for every change. The server turns what was painted into RLE and back, so "
                "a 4,000 x 3,000 mask does not freeze the page.",
        attributes={"smart": ACCEPTED, "smartOnly": ACCEPTED},
        example='<Image name="image" value="$image" zoom="true"/>\n<BrushLabels name="mask" toName="image">\n'
                '  <Label value="Car" background="#FF0000"/>\n</BrushLabels>',
        result={"format": "rle", "rle": EXAMPLE_RLE, "brushlabels": ["Car"]}, extra=SIZE)
    result_type = "brushlabels"
    geometry_keys = ("format", "rle")
    checks = {**ImageRegions.checks, "smart": "bool", "smartOnly": "bool"}

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        if value.get("format") != "rle":
            raise Problem(f'value.format must be "rle" (Label Studio\'s brush masks), not {value.get("format")!r}')
        return {"format": "rle", "rle": masks.check_rle(value.get("rle"), None, None)}

    def region_from_form(self, item: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        """A mask from the page: a PNG the brush painted becomes RLE; a stored one is kept as it is."""
        value = item.get("value") if isinstance(item.get("value"), dict) else {}
        width, height = natural_size(item)
        if value.get("format") == "png":
            mask = masks.from_png(value.get("png"), width, height)
            value = {**{k: v for k, v in value.items() if k != "png"}, "format": "rle", "rle": rle.encode(mask)}
            item = {**item, "value": value}
        masks.check_rle(value.get("rle"), width, height)
        return super().region_from_form(item, ctx)

    def check(self, item: dict[str, Any], ctx: RenderContext) -> list[str]:
        warnings = super().check(item, ctx)
        width, height = natural_size(item)
        masks.check_rle(item["value"].get("rle"), width, height)
        return warnings


class Brush(BrushLabels):
    tag = "Brush"
    about = About(
        summary="Masks without labels (`type: \"brush\"`), painted as for `<BrushLabels>`.",
        example='<Image name="image" value="$image"/>\n<Brush name="mask" toName="image"/>',
        result={"format": "rle", "rle": EXAMPLE_RLE}, extra=SIZE)
    result_type = "brush"
    labels_optional = True
    child_tags = ()
