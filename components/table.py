"""<Table>: a task's object (or list of objects) shown as a key/value table."""

from __future__ import annotations

from typing import Any

from components.base import About, ObjectTag
from components.variables import resolve


class Table(ObjectTag):
    tag = "Table"
    about = About(
        summary="An object (or a list) from the task shown as a key/value table.",
        example='<Table name="order" value="$order"/>')
    template = "table.html"

    def sample_value(self) -> Any:
        return {"order": "A-1042", "status": "delayed", "amount": "59.90"}

    def rows(self, data: dict) -> list[tuple[str, Any]]:
        value = resolve(self.get("value"), data)
        if isinstance(value, dict):
            return [(str(k), v) for k, v in value.items()]
        if isinstance(value, list):
            return [(str(i), v) for i, v in enumerate(value)]
        return [("", value)]
