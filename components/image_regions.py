"""Regions on an <Image>: <RectangleLabels>/<Rectangle>, <PolygonLabels>/<Polygon>,
<KeyPointLabels>/<KeyPoint>. Geometry is in percent of the original image (0-100)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components import shapes
from components.base import ACCEPTED, About, Problem
from components.labels import LabelSet

if TYPE_CHECKING:
    from components.render import RenderContext

BOX = {"x": 10.0, "y": 20.0, "width": 30.0, "height": 25.0, "rotation": 0}  # reference examples
SIZE = {"original_width": 640, "original_height": 400}


class ImageRegions(LabelSet):
    """Label Studio also writes the unlabelled type (`rectangle` for RectangleLabels): both are read."""
    labels_objects = ("Image",)
    about = About(attributes={"canRotate": "boxes may be rotated", "fillOpacity": ACCEPTED})
    template = "labels.html"
    checks = {**LabelSet.checks, "canRotate": "bool", "fillOpacity": "number"}

    def accepted_types(self) -> tuple[str, ...]:
        return (self.result_type, self.result_type.removesuffix("labels"))

    def region_from_form(self, item: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        out = super().region_from_form(item, ctx)
        for key in ("original_width", "original_height"):
            if key in out and (isinstance(out[key], bool) or not isinstance(out[key], int) or out[key] <= 0):
                raise Problem(f"{key} must be a positive whole number of pixels")
        return out


class RectangleLabels(ImageRegions):
    tag = "RectangleLabels"
    about = About(
        summary="Boxes on `<Image>`: `x`, `y`, `width`, `height` are percent of the original image (0–100), "
                "`rotation` in degrees; the item carries `original_width` and `original_height`.",
        example='<Image name="image" value="$image"/>\n<RectangleLabels name="box" toName="image">\n'
                '  <Label value="Car"/>\n</RectangleLabels>',
        result={**BOX, "rectanglelabels": ["Car"]}, extra=SIZE)
    result_type = "rectanglelabels"
    geometry_keys = shapes.KEYS["box"]

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        return shapes.box(value)


class Rectangle(RectangleLabels):
    tag = "Rectangle"
    about = About(
        summary="Boxes without labels, the same geometry (with a `<Labels toName>` on the same image, the OCR "
                "template, each box gets its labels in a second item).",
        example='<Image name="image" value="$image"/>\n<Rectangle name="area" toName="image"/>',
        result=BOX, extra=SIZE)
    result_type = "rectangle"
    labels_optional = True
    child_tags = ()


class PolygonLabels(ImageRegions):
    tag = "PolygonLabels"
    about = About(
        summary="Polygons on `<Image>`: `points` in percent of the original image, at least 3.",
        example='<Image name="image" value="$image"/>\n<PolygonLabels name="outline" toName="image">\n'
                '  <Label value="Building"/>\n</PolygonLabels>',
        result={"points": [[10.0, 10.0], [40.0, 12.0], [25.0, 40.0]], "closed": True, "polygonlabels": ["Building"]},
        extra=SIZE)
    result_type = "polygonlabels"
    geometry_keys = shapes.KEYS["polygon"]

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        return shapes.polygon(value)


class Polygon(PolygonLabels):
    tag = "Polygon"
    about = About(
        summary="Polygons without labels.",
        example='<Image name="image" value="$image"/>\n<Polygon name="outline" toName="image"/>',
        result={"points": [[10.0, 10.0], [40.0, 12.0], [25.0, 40.0]], "closed": True}, extra=SIZE)
    result_type = "polygon"
    labels_optional = True
    child_tags = ()


class KeyPointLabels(ImageRegions):
    tag = "KeyPointLabels"
    about = About(
        summary="Points on `<Image>`: `x`, `y` in percent of the original image, `width` the point's size.",
        example='<Image name="image" value="$image"/>\n<KeyPointLabels name="joint" toName="image">\n'
                '  <Label value="Knee"/>\n</KeyPointLabels>',
        result={"x": 50.0, "y": 60.0, "width": 1.0, "keypointlabels": ["Knee"]}, extra=SIZE)
    result_type = "keypointlabels"
    geometry_keys = shapes.KEYS["point"]

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        return shapes.point(value)


class KeyPoint(KeyPointLabels):
    tag = "KeyPoint"
    about = About(
        summary="Points without labels.",
        example='<Image name="image" value="$image"/>\n<KeyPoint name="point" toName="image"/>',
        result={"x": 50.0, "y": 60.0, "width": 1.0}, extra=SIZE)
    result_type = "keypoint"
    labels_optional = True
    child_tags = ()
