"""<OcrLabels>: labelled boxes on the pages of a <Pdf>, with the text under each box. Geometry is in
fractions 0-1 of the page (not percent, unlike image regions) and `pageIndex` is 1-based, exactly as
Label Studio writes it; `ocrtext` is filled from the page's text layer when a box is drawn and may be
edited in the region list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, Problem
from components.labels import LabelSet
from components.shapes import SLACK

if TYPE_CHECKING:
    from components.render import RenderContext

KEYS = ("x", "y", "width", "height", "rotation", "pageIndex", "ocrtext")


def fraction(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1 + SLACK:
        raise Problem(f"value.{field} must be a fraction of the page from 0 to 1, not {value!r}")
    return value


class OcrLabels(LabelSet):
    tag = "OcrLabels"
    about = About(
        summary="Labelled boxes on the pages of a `<Pdf>`, each with the text under it: `x`, `y`, `width`, "
                "`height` are **fractions 0–1 of the page** (not percent), `rotation` in degrees, `pageIndex` the "
                "1-based page, `ocrtext` the text. Press a label, then drag on the page: the box's `ocrtext` is "
                "filled from the PDF's text layer (the words inside the box) and can be edited in the region list. "
                "Imported boxes must lie on the page, on a page the document has, with labels from the config.",
        attributes={"canRotate": ACCEPTED, "fillOpacity": ACCEPTED},
        example='<Pdf name="pdf" value="$pdf"/>\n<OcrLabels name="ocr" toName="pdf">\n'
                '  <Label value="Typo"/>\n</OcrLabels>',
        result={"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.05, "rotation": 0, "pageIndex": 2,
                "ocrtext": "Invoice 42", "ocrlabels": ["Typo"]})
    template = "labels.html"
    result_type = "ocrlabels"
    labels_objects = ("Pdf",)
    geometry_keys = KEYS
    checks = {**LabelSet.checks, "canRotate": "bool", "fillOpacity": "number"}

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        x, y = fraction(value.get("x"), "x"), fraction(value.get("y"), "y")
        width, height = fraction(value.get("width"), "width"), fraction(value.get("height"), "height")
        rotation = value.get("rotation", 0)
        if isinstance(rotation, bool) or not isinstance(rotation, (int, float)) or not -360 <= rotation <= 360:
            raise Problem(f"value.rotation must be degrees from -360 to 360, not {rotation!r}")
        if width <= 0 or height <= 0:
            raise Problem("a box needs a width and a height above 0")
        if not rotation and (x + width > 1 + SLACK or y + height > 1 + SLACK):
            raise Problem(f"the box ({x:g}, {y:g}, {width:g} x {height:g}) reaches outside the page")
        page = value.get("pageIndex", 1)
        target = ctx.config.by_name.get(to_name)
        if hasattr(target, "check_page"):
            target.check_page(page, ctx, "value.pageIndex", 1)
        text = value.get("ocrtext", "")
        if not isinstance(text, str):
            raise Problem(f"value.ocrtext must be text, not {text!r}")
        return {"x": x, "y": y, "width": width, "height": height, "rotation": rotation, "pageIndex": page,
                "ocrtext": text}
