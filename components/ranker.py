"""<Ranker>/<Bucket>: order a <List>'s items, or sort them into buckets. The result maps each
bucket's name (the Ranker's own name when it has no buckets) to item ids in order, as Label Studio
writes it; items in no bucket sit under "_" unless a bucket is the default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from components.base import About, Component, Problem
from components.classification import Classification
from components.list import List, item_id

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext

UNPLACED = "_"  # Label Studio's key for items left out of every bucket


class Bucket(Component):
    tag = "Bucket"
    kind = "child"
    required = ("name",)
    about = About(
        summary="A column of a `<Ranker>`: items dragged (or moved by keys) into it are listed under its `name` in "
                "the result.",
        attributes={"name": "the bucket's key in the result", "title": "its heading (the name when absent)",
                    "default": "items placed nowhere start here (then every item is always in a bucket)"},
        example='<List name="answers" value="$answers"/>\n<Ranker name="rank" toName="answers">\n'
                '  <Bucket name="best" title="Best"/>\n</Ranker>')
    checks = {"default": "bool"}

    @property
    def title(self) -> str:
        return self.get("title") or str(self.name)


class Ranker(Classification):
    tag = "Ranker"
    about = About(
        summary="Ranks the cards of a `<List>`: drag a card, or focus it and move it with the arrow keys (up and "
                "down within a column, left and right between columns). Without `<Bucket>`s the result is the "
                "whole order under the Ranker's name; with buckets, each bucket's items in order, and items "
                "placed nowhere under `\"_\"` (unless a bucket is `default`). A result is written on submit even "
                "when nothing was moved, as Label Studio does. Results from elsewhere may also give the bare "
                "list of ids.",
        attributes={"toName": "the `<List>` it ranks"},
        example='<List name="answers" value="$answers"/>\n<Ranker name="rank" toName="answers"/>',
        result={"ranker": {"rank": ["b", "a", "c"]}})
    template = "ranker.html"  # the board, drawn by the <List>: the cards stay where the config puts the list
    result_type = "ranker"
    labels_objects = ("List",)
    can_be_per_region = False
    child_tags = ("Bucket",)
    checks = {"required": "bool"}

    def render(self, ctx: RenderContext, region: dict | None = None) -> Any:
        return ""  # in its own place in the config: its <List> draws the board (ctx.render)

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        names = [b.name for b in self.buckets]
        for bucket in self.buckets:
            if names.count(bucket.name) > 1:
                yield bucket.error(f"Two buckets of <Ranker name=\"{self.name}\"> are named '{bucket.name}'.", "name")
            if bucket.name == UNPLACED:
                yield bucket.error(f"'{UNPLACED}' is the key of items in no bucket: name the bucket otherwise.", "name")
        if sum(b.flag("default") for b in self.buckets) > 1:
            yield self.error(f"Only one bucket of <Ranker name=\"{self.name}\"> can be the default.")

    @property
    def buckets(self) -> list[Bucket]:
        return [c for c in self.children if isinstance(c, Bucket)]

    @property
    def default_bucket(self) -> str | None:
        return next((str(b.name) for b in self.buckets if b.flag("default")), None)

    def keys(self) -> list[str]:
        """The result's keys, in board order: "_" (when nothing is the default), then the buckets; or
        the Ranker's own name when it has no buckets."""
        if not self.buckets:
            return [str(self.name)]
        return ([] if self.default_bucket else [UNPLACED]) + [str(b.name) for b in self.buckets]

    def list_of(self, ctx: RenderContext) -> List | None:
        found = ctx.config.by_name.get(self.to_names[0]) if self.to_names else None
        return found if isinstance(found, List) else None

    def item_ids(self, ctx: RenderContext) -> list[str]:
        target = self.list_of(ctx)
        return [item["id"] for item in target.items(ctx.data)] if target else []

    def placed(self, value: Any) -> dict[str, list[str]]:
        """A result's value as bucket -> ids (a bare list is the order under the Ranker's name)."""
        if isinstance(value, list):
            return {str(self.name) if not self.buckets else (self.default_bucket or UNPLACED): [item_id(v) for v in value]}
        return {str(k): [item_id(v) for v in ids] for k, ids in value.items() if isinstance(ids, list)}

    def columns(self, ctx: RenderContext) -> list[dict[str, Any]]:
        """The board: each key with its items in order. Items the result does not place go where
        they start (the default bucket, the unplaced column, or the end of the order)."""
        target = self.list_of(ctx)
        items = {item["id"]: item for item in (target.items(ctx.data) if target else [])}
        found = [item for item in ctx.by_from.get(str(self.name), []) if item.get("type") == "ranker"]
        value = found[0].get("value", {}).get("ranker") if found else None
        placed = self.placed(value) if isinstance(value, (dict, list)) else {}
        titles = {str(b.name): b.title for b in self.buckets}
        start = self.default_bucket or self.keys()[0]
        columns = {key: [] for key in self.keys()}
        seen: set[str] = set()
        for key, ids in placed.items():
            for i in ids:
                if key in columns and i in items and i not in seen:
                    seen.add(i)
                    columns[key].append(items[i])
        columns[start] += [item for i, item in items.items() if i not in seen]
        return [{"key": key, "title": titles.get(key, "Not placed" if key == UNPLACED else str(self.name)),
                 "items": column} for key, column in columns.items()]

    def field_value(self, key: str, item: dict[str, Any]) -> str:
        return json.dumps([key, item["id"]], ensure_ascii=False)

    def parse(self, raw: list[str], ctx: RenderContext) -> dict[str, list[str]] | None:
        """The board's hidden fields, each ["bucket", "id"] in board order, as the result's value."""
        if not raw:
            return None
        out: dict[str, list[str]] = {key: [] for key in self.keys()}
        for entry in raw:
            try:
                key, ident = json.loads(entry)
            except (ValueError, TypeError):
                raise Problem(f"{self.name}: a card's place is not [bucket, id]: {entry[:80]!r}") from None
            if not isinstance(key, str) or key not in out:
                raise Problem(f"{self.name}: there is no bucket {key!r}")
            out[key].append(item_id(ident))
        self.check_value(out, ctx)
        return {k: v for k, v in out.items() if v or k != UNPLACED}

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        if not isinstance(value, (dict, list)):
            raise Problem(f"value.ranker must map buckets to lists of item ids, not {type(value).__name__}")
        if isinstance(value, dict):
            for key, ids in value.items():
                if key not in self.keys():
                    raise Problem(f"value.ranker has a key {key!r}; <Ranker name=\"{self.name}\"> has "
                                  f"{', '.join(repr(k) for k in self.keys())}")
                if not isinstance(ids, list) or not all(isinstance(i, (str, int)) and not isinstance(i, bool) for i in ids):
                    raise Problem(f"value.ranker.{key} must be a list of item ids")
        known, seen = set(self.item_ids(ctx)), set()
        for key, ids in self.placed(value).items():
            for i in ids:
                if i in seen:
                    raise Problem(f"value.ranker places item {i!r} twice")
                seen.add(i)
                if known and i not in known:
                    raise Problem(f"value.ranker.{key} names item {i!r}, which is not in the list")
        return []
