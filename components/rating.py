"""<Rating>: 1 to maxRating stars (or hearts, fire, smiles)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, Problem
from components.classification import Classification

if TYPE_CHECKING:
    from components.render import RenderContext

MAX_RATING = 100
ICONS = {"star": "★", "heart": "♥", "fire": "🔥", "smile": "☺"}


class Rating(Classification):
    tag = "Rating"
    about = About(
        summary="A rating from 1 to `maxRating`.",
        attributes={"maxRating": "the most it goes to", "icon": "the symbol shown",
                    "defaultValue": "the rating at the start", "size": ACCEPTED},
        defaults={"maxRating": "5", "icon": "star"},
        example='<Text name="review" value="$review"/>\n<Rating name="stars" toName="review" maxRating="5"/>',
        result={"rating": 4})
    template = "rating.html"
    result_type = "rating"
    checks = {**Classification.common_checks, "maxRating": "int", "defaultValue": "int",
              "icon": tuple(ICONS), "size": ("small", "medium", "large")}

    def validate(self, config: Any) -> Any:
        yield from super().validate(config)
        if self.get("maxRating") and not 1 <= self.number("maxRating", 5) <= MAX_RATING:
            yield self.error(f"maxRating goes from 1 to {MAX_RATING}.", "maxRating")

    @property
    def max_rating(self) -> int:
        return min(MAX_RATING, max(1, int(self.number("maxRating", 5))))

    @property
    def icon(self) -> str:
        return ICONS.get(self.get("icon") or "star", "★")

    def parse(self, raw: list[str], ctx: RenderContext) -> int | None:
        picked = [r for r in raw if r]
        if not picked:
            return None
        if not re.fullmatch(r"[0-9]{1,4}", picked[0]) or not 1 <= int(picked[0]) <= self.max_rating:
            raise Problem(f"{self.name} takes a rating from 1 to {self.max_rating}, not {picked[0]!r}")
        return int(picked[0])

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Problem(f"value.rating must be a whole number from 0, not {value!r}")
        return [f"rating {value} is above maxRating {self.max_rating}"] if value > self.max_rating else []
