"""<Relations>/<Relation>: links between two regions, with optional relation labels."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from components.base import About, Component, Option, Problem

if TYPE_CHECKING:
    from components.config import LabelConfig

DIRECTIONS = ("right", "left", "bi")


class Relation(Option):
    tag = "Relation"
    about = About(
        summary="A relation label.",
        attributes={"background": "the label's colour"},
        example='<Relations>\n  <Relation value="works_for"/>\n</Relations>')
    checks = {"background": "color"}


class Relations(Component):
    tag = "Relations"
    about = About(
        summary="Labels for links between regions: `<Relation value>` children. A relation is its own item, "
                "not tied to one control: annotators link two regions of the task and pick its labels; `direction` "
                "is `right`, `left` or `bi`.",
        attributes={"choice": "`multiple`: a link may carry several labels"},
        defaults={"choice": "single"},
        example='<Relations>\n  <Relation value="works_for"/>\n  <Relation value="located_in"/>\n</Relations>',
        result={"from_id": "aB3dE5fG7h", "to_id": "Zy9Xw8Vu7T", "type": "relation", "direction": "right",
                "labels": ["works_for"]})
    template = "relations.html"
    child_tags = ("Relation",)
    checks = {"choice": ("single", "multiple")}

    def values(self) -> list[str]:
        return [c.value for c in self.children if isinstance(c, Relation)]


def relation_labels(config: LabelConfig | None) -> set[str] | None:
    """Every relation label the config lists (None: no <Relations>, so any label is unknown)."""
    if config is None:
        return None
    found = [n for n in config.nodes if isinstance(n, Relations)]
    return {v for n in found for v in n.values()} if found else set()


def collect_relations(raw: list[str], regions: dict[str, dict], config: LabelConfig | None = None) -> list[dict]:
    out = []
    for entry in raw:
        try:
            item = json.loads(entry)
        except ValueError:
            raise Problem(f"a relation is not valid JSON: {entry[:80]!r}") from None
        if not isinstance(item, dict):
            raise Problem("a relation must be an object")
        relation = {"from_id": item.get("from_id"), "to_id": item.get("to_id"), "type": "relation",
                    "direction": item.get("direction", "right")}
        check_relation(relation, set(regions))
        labels = item.get("labels") or []
        allowed = relation_labels(config)
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels) or (
                allowed is not None and any(label not in allowed for label in labels)):
            raise Problem(f"relation labels {labels!r} are not in the config")
        if labels:
            relation["labels"] = labels
        out.append(relation)
    return out


def check_relation(item: dict[str, Any], region_ids: set[str]) -> None:
    for end in ("from_id", "to_id"):
        if str(item.get(end)) not in region_ids:
            raise Problem(f"relation {end} {item.get(end)!r} is not a region of this result")
    if item.get("direction", "right") not in DIRECTIONS:
        raise Problem(f"relation direction must be right, left or bi, not {item.get('direction')!r}")
    if "labels" in item and (not isinstance(item["labels"], list) or not all(isinstance(x, str) for x in item["labels"])):
        raise Problem("relation labels must be a list of names")
