"""<List>: a task's items ({id, title, body} or {id, html}) shown as cards; a <Ranker> on it makes
the cards sortable and sorts them into its buckets. Without a Ranker it is shown read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.base import About, ObjectTag
from components.variables import resolve

if TYPE_CHECKING:
    from components.render import RenderContext

SAMPLE_ITEMS = [{"id": "a", "title": "First answer", "body": "Paris is the capital of France."},
                {"id": "b", "title": "Second answer", "body": "France's capital is Lyon."},
                {"id": "c", "title": "Third answer", "body": "I cannot answer that."}]


def item_id(raw: Any) -> str:
    """An item's id as Label Studio keeps it: a string (a number in the data becomes its digits)."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return str(raw)


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else str(value)


class List(ObjectTag):
    tag = "List"
    about = About(
        summary="A task's items shown as cards: `value` is a list of `{id, title, body}` objects (`html` "
                "instead of `body` for markup such as an `<img>`, sanitised as `<HyperText>` is; `title` and "
                "`body` are plain text). Item ids are kept as strings. `<Ranker toName>` on the list makes the "
                "cards sortable; without one the list is only shown.",
        attributes={"value": "`$key` holding the list of items", "title": "a heading over the items"},
        example='<List name="answers" value="$answers" title="Answers"/>')
    template = "list.html"

    def sample_value(self) -> Any:
        return SAMPLE_ITEMS

    def items(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The task's items, each with a string id; entries that are no object, or repeat an id, are
        dropped (the import check reports them)."""
        value = resolve(self.get("value"), data)
        out, seen = [], set()
        for entry in value if isinstance(value, list) else []:
            if isinstance(entry, dict) and entry.get("id") is not None and item_id(entry["id"]) not in seen:
                seen.add(item_id(entry["id"]))
                out.append({"id": item_id(entry["id"]), **{key: _text(entry.get(key)) for key in ("title", "body", "html")}})
        return out

    def ranker(self, ctx: RenderContext) -> Any:
        return next((c for c in ctx.config.controls if c.tag == "Ranker" and self.name in c.to_names), None)
