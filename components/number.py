"""<Number>: a number within min/max."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from components.base import About, Problem
from components.classification import Classification

if TYPE_CHECKING:
    from components.render import RenderContext


class Number(Classification):
    tag = "Number"
    about = About(
        summary="A number, optionally within `min` and `max`.",
        attributes={"min": "the smallest allowed", "max": "the largest allowed", "step": "the input's step",
                    "defaultValue": "the number at the start", "slider": "a slider instead of a box"},
        example='<Text name="text" value="$text"/>\n<Number name="people" toName="text" min="0" max="100"/>',
        result={"number": 3})
    template = "number.html"
    result_type = "number"
    checks = {**Classification.common_checks, "min": "number", "max": "number", "step": "number",
              "defaultValue": "number", "slider": "bool"}

    def bounds(self) -> tuple[float, float]:
        return self.number("min", -math.inf), self.number("max", math.inf)

    def parse(self, raw: list[str], ctx: RenderContext) -> float | int | None:
        text = next((r.strip() for r in raw if r.strip()), "")
        if not text:
            return None
        try:
            value: float | int = int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:
            raise Problem(f"{self.name} takes a number, not {text!r}") from None
        if not math.isfinite(value):
            raise Problem(f"{self.name} takes a finite number")
        low, high = self.bounds()
        if not low <= value <= high:
            raise Problem(f"{self.name} must be between {self.get('min', '-∞')} and {self.get('max', '∞')}, not {text}")
        return value

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Problem(f"value.number must be a number, not {value!r}")
        low, high = self.bounds()
        return [] if low <= value <= high else [f"number {value} is outside {low:g}..{high:g}"]
