"""<Taxonomy>: choices nested in choices; the result lists each picked item as its path from the root."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components.base import ACCEPTED, About, Problem
from components.choices import Choice
from components.classification import Classification

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext


def tree(node: Any, prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"value": c.value, "alias": c.get("alias"), "path": [*prefix, c.value],
             "children": tree(c, (*prefix, c.value))} for c in node.children if isinstance(c, Choice)]


def all_paths(nodes: list[dict]) -> dict[tuple[str, ...], bool]:
    """path -> is it a leaf"""
    out: dict[tuple[str, ...], bool] = {}
    for n in nodes:
        out[tuple(n["path"])] = not n["children"]
        out.update(all_paths(n["children"]))
    return out


class Taxonomy(Classification):
    tag = "Taxonomy"
    about = About(
        summary="A tree of nested `<Choice>` tags; each answer is a path from the root.",
        attributes={"leafsOnly": "only leaves may be picked", "maxUsages": "how many paths may be picked",
                    "pathSeparator": "shown between the parts of a path", "placeholder": "the search box's hint",
                    "showFullPath": ACCEPTED, "legacy": ACCEPTED},
        defaults={"pathSeparator": " / "},
        example='<Text name="text" value="$text"/>\n<Taxonomy name="place" toName="text">\n'
                '  <Choice value="Europe">\n    <Choice value="Portugal"/>\n    <Choice value="France"/>\n'
                '  </Choice>\n</Taxonomy>',
        result={"taxonomy": [["Europe", "Portugal"]]})
    template = "taxonomy.html"
    result_type = "taxonomy"
    checks = {**Classification.common_checks, "leafsOnly": "bool", "showFullPath": "bool", "maxUsages": "int",
              "legacy": "bool"}

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        if not self.children and not self.get("apiUrl"):
            yield self.error("<Taxonomy> has no <Choice> inside: annotators would have nothing to choose.")
        for node in self._descendants(self):
            if not isinstance(node, Choice):
                yield node.error(f"<{node.tag}> cannot be inside <Taxonomy>; it takes nested <Choice> tags.")

    def _descendants(self, node: Any) -> Iterator[Any]:
        for child in node.children:
            yield child
            yield from self._descendants(child)

    def tree(self) -> list[dict[str, Any]]:
        return tree(self)

    def label_values(self) -> list[str]:
        return [path[-1] for path in all_paths(self.tree())]

    def parse(self, raw: list[str], ctx: RenderContext) -> list[list[str]] | None:
        known = all_paths(self.tree())
        paths = []
        for entry in (r for r in raw if r):
            try:
                path = json.loads(entry)
            except ValueError:
                path = None
            if not isinstance(path, list) or not all(isinstance(x, str) for x in path):
                raise Problem(f"{self.name}: {entry[:60]!r} is not a path (a list of names)")
            if tuple(path) not in known:
                raise Problem(f"{self.name} has no item {' / '.join(map(str, path))}")
            if self.flag("leafsOnly") and not known[tuple(path)]:
                raise Problem(f"{self.name} takes only the last level: {' / '.join(path)} has items below it")
            paths.append(path)
        limit = self.get("maxUsages")
        if limit and len(paths) > int(limit):
            raise Problem(f"{self.name} takes at most {limit} item(s), got {len(paths)}")
        return paths or None

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(p, list) and all(isinstance(x, str) for x in p) for p in value):
            raise Problem("value.taxonomy must be a list of paths (lists of strings)")
        known = all_paths(self.tree())
        unknown = [" / ".join(p) for p in value if tuple(p) not in known]
        return [f"path(s) {', '.join(map(repr, unknown))} are not in the config"] if unknown else []
