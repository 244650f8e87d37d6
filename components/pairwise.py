"""<Pairwise>: pick the better of two objects; the result says "left" or "right"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components.base import About, Problem
from components.classification import Classification

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext

SIDES = ("left", "right")


class Pairwise(Classification):
    tag = "Pairwise"
    about = About(
        summary="Compares two objects: `toName=\"a,b\"` names both, and the item's `to_name` is `\"a,b\"`.",
        attributes={"toName": "the two objects compared, `a,b`", "leftClass": "the left side's class name",
                    "rightClass": "the right side's class name"},
        example='<Text name="left" value="$left"/>\n<Text name="right" value="$right"/>\n'
                '<Pairwise name="better" toName="left,right"/>',
        result={"selected": "left"})
    template = "pairwise.html"
    result_type = "pairwise"
    can_be_per_region = False
    child_tags = ()

    @property
    def value_key(self) -> str:
        return "selected"

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        if len(self.to_names) != 2:
            yield self.error(f'<Pairwise> compares two objects: toName="a,b", not "{self.to_name}".', "toName")

    def result_to_name(self) -> str:
        return self.to_name  # both names, as written in the config

    def parse(self, raw: list[str], ctx: RenderContext) -> str | None:
        picked = next((r for r in raw if r), None)
        if picked is not None and picked not in SIDES:
            raise Problem(f"{self.name} takes left or right, not {picked!r}")
        return picked

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if value not in SIDES:
            raise Problem(f"value.selected must be 'left' or 'right', not {value!r}")
        return []
