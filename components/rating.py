"""<Rating>: 1 to maxRating stars (or hearts, fire, smiles)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import Problem
from components.classification import Classification

if TYPE_CHECKING:
    from components.render import RenderContext

ICONS = {"star": "★", "heart": "♥", "fire": "🔥", "smile": "☺"}


class Rating(Classification):
    tag = "Rating"
    template = "rating.html"
    result_type = "rating"
    checks = {**Classification.common_checks, "maxRating": "int", "defaultValue": "int",
              "icon": tuple(ICONS), "size": ("small", "medium", "large")}

    @property
    def max_rating(self) -> int:
        return max(1, int(self.number("maxRating", 5)))

    @property
    def icon(self) -> str:
        return ICONS.get(self.get("icon") or "star", "★")

    def parse(self, raw: list[str], ctx: RenderContext) -> int | None:
        picked = [r for r in raw if r]
        if not picked:
            return None
        if not picked[0].isdigit() or not 1 <= int(picked[0]) <= self.max_rating:
            raise Problem(f"{self.name} takes a rating from 1 to {self.max_rating}, not {picked[0]!r}")
        return int(picked[0])

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Problem(f"value.rating must be a whole number from 0, not {value!r}")
        return [f"rating {value} is above maxRating {self.max_rating}"] if value > self.max_rating else []
