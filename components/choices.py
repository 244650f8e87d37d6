"""<Choices>/<Choice>: classification by one or several choices (static or from task data)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, Option, Problem
from components.classification import Classification
from components.variables import resolve

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext


class Choice(Option):
    tag = "Choice"
    about = About(
        summary="An option: `value` (or the tag's text). Nested inside `<Taxonomy>` it makes the tree.",
        attributes={"alias": "the value written in the result instead of `value`", "hotkey": "the key that picks it",
                    "hint": "a tooltip", "selected": "picked at the start", "background": ACCEPTED},
        example='<Choices name="topic" toName="text">\n  <Choice value="Sports" hotkey="s"/>\n</Choices>\n'
                '<Text name="text" value="$text"/>')
    checks = {"selected": "bool", "background": "color"}


class Choices(Classification):
    tag = "Choices"
    about = About(
        summary="One or several choices for the task (or, with `perRegion`, for each region). `<Choice value>` "
                "children, or a dynamic `value=\"$options\"` from the task.",
        attributes={"choice": "`single` (a select), `single-radio` (radio buttons) or `multiple` (check boxes)",
                    "showInline": "the choices in a row",
                    "value": "dynamic choices: `$key` holding a list of values or `{\"value\", \"alias\"}`",
                    "allowNested": ACCEPTED},
        defaults={"choice": "single"},
        example='<Text name="text" value="$text"/>\n<Choices name="sentiment" toName="text" choice="single-radio">\n'
                '  <Choice value="Positive"/>\n  <Choice value="Negative"/>\n</Choices>',
        result={"choices": ["Positive"]})
    template = "choices.html"
    result_type = "choices"
    child_tags = ("Choice", "View", "Header")  # Views and Headers lay the choices out

    checks = {**Classification.common_checks, "choice": ("single", "single-radio", "multiple"),
              "showInline": "bool", "allowNested": "bool"}

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        if not any(self.nested(Choice)) and not self.get("value"):
            yield self.error("<Choices> has no <Choice> inside and no dynamic value=\"$…\": "
                             "annotators would have nothing to choose.")

    @property
    def multiple(self) -> bool:
        return self.get("choice") == "multiple"

    @staticmethod
    def option(c: Choice) -> dict[str, Any]:
        return {"value": c.value, "alias": c.get("alias"), "hotkey": c.hotkey, "hint": c.get("hint"),
                "selected": c.flag("selected")}

    def dynamic_options(self, data: dict) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.get("value"):
            dynamic = resolve(self.get("value"), data)
            for entry in dynamic if isinstance(dynamic, list) else []:
                entry = entry if isinstance(entry, dict) else {"value": str(entry)}
                out.append({"value": str(entry.get("value", "")), "alias": entry.get("alias"), "hotkey": None,
                            "hint": entry.get("hint"), "selected": False})
        return out

    def options(self, data: dict) -> list[dict[str, Any]]:
        return [self.option(c) for c in self.nested(Choice)] + self.dynamic_options(data)

    def label_values(self) -> list[str]:
        return [c.value for c in self.nested(Choice)]

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
