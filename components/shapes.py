"""Shapes on an image, in percent of the original size (0-100) as Label Studio writes them: a box,
a polygon, a key point. The image controls check their regions with these, and so does <Labels>
when it labels an image region another control drew (Label Studio's OCR template)."""

from __future__ import annotations

from typing import Any

from components.base import Problem

SLACK = 1e-6  # float noise from the browser's arithmetic
KEYS = {"box": ("x", "y", "width", "height", "rotation"), "polygon": ("points", "closed"),
        "point": ("x", "y", "width")}


def number(value: Any, field: str, low: float = 0, high: float = 100) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise Problem(f"value.{field} must be a number from {low:g} to {high:g}, not {value!r}")
    return value


def box(value: dict[str, Any]) -> dict[str, Any]:
    x, y = number(value.get("x"), "x"), number(value.get("y"), "y")
    width, height = number(value.get("width"), "width"), number(value.get("height"), "height")
    rotation = number(value.get("rotation", 0), "rotation", -360, 360)
    if width <= 0 or height <= 0:
        raise Problem("a box needs a width and a height above 0")
    if not rotation and (x + width > 100 + SLACK or y + height > 100 + SLACK):
        raise Problem(f"the box ({x:g}, {y:g}, {width:g} x {height:g}) reaches outside the image")
    return {"x": x, "y": y, "width": width, "height": height, "rotation": rotation}


def polygon(value: dict[str, Any]) -> dict[str, Any]:
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


def point(value: dict[str, Any]) -> dict[str, Any]:
    out = {"x": number(value.get("x"), "x"), "y": number(value.get("y"), "y")}
    if "width" in value:
        out["width"] = number(value["width"], "width")
    return out


def any_shape(value: dict[str, Any]) -> dict[str, Any]:
    """Whichever shape the value holds: points make a polygon, a height a box, else a point."""
    if "points" in value:
        return polygon(value)
    if "height" in value:
        return box(value)
    if "x" in value or "y" in value:
        return point(value)
    raise Problem("an image region needs a shape: x, y, width and height (a box), points (a polygon) or x and y")
