"""<Choices>/<Choice>: classification by one or several choices (static or from task data)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components.base import Option, Problem
from components.classification import Classification
from components.variables import resolve

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext


class Choice(Option):
    tag = "Choice"
    checks = {"selected": "bool", "background": "color"}


class Choices(Classification):
    tag = "Choices"
    template = "choices.html"
    result_type = "choices"
    child_tags = ("Choice",)

    checks = {**Classification.common_checks, "choice": ("single", "single-radio", "multiple"),
              "showInline": "bool", "allowNested": "bool"}

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        if not self.children and not self.get("value"):
            yield self.error("<Choices> has no <Choice> inside and no dynamic value=\"$…\": "
                             "annotators would have nothing to choose.")

    @property
    def multiple(self) -> bool:
        return self.get("choice") == "multiple"

    def options(self, data: dict) -> list[dict[str, Any]]:
        out = [{"value": c.value, "alias": c.get("alias"), "hotkey": c.hotkey, "hint": c.get("hint"),
                "selected": c.flag("selected")} for c in self.children if isinstance(c, Choice)]
        if self.get("value"):
            dynamic = resolve(self.get("value"), data)
            for entry in dynamic if isinstance(dynamic, list) else []:
                entry = entry if isinstance(entry, dict) else {"value": str(entry)}
                out.append({"value": str(entry.get("value", "")), "alias": entry.get("alias"), "hotkey": None,
                            "hint": entry.get("hint"), "selected": False})
        return out

    def label_values(self) -> list[str]:
        return [c.value for c in self.children if isinstance(c, Choice)]

    def parse(self, raw: list[str], ctx: RenderContext) -> list[str] | None:
        picked = [v for v in raw if v != ""]
        if not picked:
            return None
        known = {o["value"] for o in self.options(ctx.data)}
        unknown = [v for v in picked if v not in known]
        if unknown:
            raise Problem(f"{self.name} has no choice {', '.join(map(repr, unknown))}")
        if not self.multiple and len(picked) > 1:
            raise Problem(f"{self.name} takes one choice, got {len(picked)}")
        return picked

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if not isinstance(value, list):
            raise Problem("value.choices must be a list")
        flat = [x for v in value for x in (v if isinstance(v, list) else [v])]
        if not all(isinstance(x, str) for x in flat):
            raise Problem("value.choices must hold strings")
        known = {o["value"] for o in self.options(ctx.data)}
        warnings = []
        unknown = [x for x in flat if x not in known]
        if unknown:
            warnings.append(f"choice(s) {', '.join(map(repr, unknown))} are not in the config")
        if not self.multiple and len(value) > 1:
            warnings.append(f"{len(value)} choices for a single-choice control")
        return warnings
