"""Regions on an <Image>: <RectangleLabels>/<Rectangle>, <PolygonLabels>/<Polygon>,
<KeyPointLabels>/<KeyPoint>. Geometry is in percent of the original image (0-100)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import Problem
from components.labels import LabelSet, number

if TYPE_CHECKING:
    from components.render import RenderContext

SLACK = 1e-6  # float noise from the browser's arithmetic


class ImageRegions(LabelSet):
    """Label Studio also writes the unlabelled type (`rectangle` for RectangleLabels): both are read."""
    labels_objects = ("Image",)
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
    result_type = "rectanglelabels"
    geometry_keys = ("x", "y", "width", "height", "rotation")

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        x, y = number(value.get("x"), "x"), number(value.get("y"), "y")
        width, height = number(value.get("width"), "width"), number(value.get("height"), "height")
        rotation = number(value.get("rotation", 0), "rotation", -360, 360)
        if width <= 0 or height <= 0:
            raise Problem("a box needs a width and a height above 0")
        if not rotation and (x + width > 100 + SLACK or y + height > 100 + SLACK):
            raise Problem(f"the box ({x:g}, {y:g}, {width:g} x {height:g}) reaches outside the image")
        return {"x": x, "y": y, "width": width, "height": height, "rotation": rotation}


class Rectangle(RectangleLabels):
    tag = "Rectangle"
    result_type = "rectangle"
    labels_optional = True
    child_tags = ()


class PolygonLabels(ImageRegions):
    tag = "PolygonLabels"
    result_type = "polygonlabels"
    geometry_keys = ("points", "closed")

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        points = value.get("points")
        if not isinstance(points, list) or len(points) < 3:
            raise Problem("a polygon needs a list of at least 3 points")
        clean = []
        for i, point in enumerate(points):
            if not isinstance(point, list) or len(point) != 2:
                raise Problem(f"point {i} must be [x, y]")
            clean.append([number(point[0], f"points[{i}][0]"), number(point[1], f"points[{i}][1]")])
        out: dict[str, Any] = {"points": clean}
        if "closed" in value:
            out["closed"] = bool(value["closed"])
        return out


class Polygon(PolygonLabels):
    tag = "Polygon"
    result_type = "polygon"
    labels_optional = True
    child_tags = ()


class KeyPointLabels(ImageRegions):
    tag = "KeyPointLabels"
    result_type = "keypointlabels"
    geometry_keys = ("x", "y", "width")

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        out = {"x": number(value.get("x"), "x"), "y": number(value.get("y"), "y")}
        if "width" in value:
            out["width"] = number(value["width"], "width")
        return out


class KeyPoint(KeyPointLabels):
    tag = "KeyPoint"
    result_type = "keypoint"
    labels_optional = True
    child_tags = ()
