"""<DateTime>: a date, a time, a month, a year, or a date and time (`only`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from components.base import About, Problem
from components.classification import Classification

if TYPE_CHECKING:
    from components.render import RenderContext

# only= -> (HTML input type, the shape of the value)
KINDS = {
    "date": ("date", r"\d{4}-\d{2}-\d{2}"),
    "time": ("time", r"\d{2}:\d{2}(:\d{2})?"),
    "month": ("month", r"\d{4}-\d{2}"),
    "year": ("number", r"\d{4}"),
    "": ("datetime-local", r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"),
}


class DateTime(Classification):
    tag = "DateTime"
    about = About(
        summary="A date, a time, a month, a year, or a date and time.",
        attributes={"only": "`date`, `time`, `month`, `year`, or `date,time`",
                    "min": "the earliest allowed, in the value's format", "max": "the latest allowed"},
        defaults={"only": "date,time"},
        example='<Text name="text" value="$text"/>\n<DateTime name="when" toName="text" only="date"/>',
        result={"datetime": "2024-05-03"})
    template = "datetime.html"
    result_type = "datetime"

    checks = {**Classification.common_checks}

    def kind(self) -> str:
        only = [w.strip() for w in (self.get("only") or "").split(",") if w.strip()]
        if only in (["date", "time"], ["time", "date"]) or not only:
            return ""
        return only[0] if only[0] in KINDS else ""

    def validate(self, config: Any) -> Any:
        yield from super().validate(config)
        for word in (self.get("only") or "").split(","):
            if word.strip() and word.strip() not in ("date", "time", "month", "year"):
                yield self.error(f"'{word.strip()}' is not a valid only: use date, time, month or year.", "only")

    @property
    def input_type(self) -> str:
        return KINDS[self.kind()][0]

    def parse(self, raw: list[str], ctx: RenderContext) -> str | None:
        text = next((r.strip() for r in raw if r.strip()), "")
        if not text:
            return None
        if not re.fullmatch(KINDS[self.kind()][1], text):
            raise Problem(f"{self.name}: {text!r} is not a {self.kind() or 'date and time'}")
        if (self.get("min") and text < self.get("min")) or (self.get("max") and text > self.get("max")):
            raise Problem(f"{self.name} must be between {self.get('min', '…')} and {self.get('max', '…')}")
        return text

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if not isinstance(value, str):
            raise Problem(f"value.datetime must be a string, not {value!r}")
        return []
