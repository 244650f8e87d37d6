"""Rendering a config tree with its own Jinja environment: components/ stays free of the web app."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nh3
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from components.base import new_id

if TYPE_CHECKING:
    from components.config import LabelConfig

HERE = Path(__file__).resolve().parent


def sanitize(html: Any) -> Markup:
    """HTML from task data or a config: formatting kept; scripts, handlers and frames dropped."""
    return Markup(nh3.clean(str(html or "")))


def cr_safe(text: str) -> Markup:
    """Escape text, keeping carriage returns: HTML parsing turns a raw CR LF into LF, a character
    reference survives, so the page's text has the same code points as the task's."""
    return Markup(str(Markup.escape(text)).replace("\r", "&#13;"))


def _showable(item: Any) -> bool:
    if not isinstance(item, dict):
        return False
    if item.get("type") == "relation":
        return item.get("direction", "right") in ("right", "left", "bi")
    return isinstance(item.get("value"), dict) and isinstance(item.get("from_name"), str) and isinstance(
        item.get("to_name"), str)


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(sanitize=sanitize, cr_safe=cr_safe, tojson_attr=lambda v: json.dumps(v, ensure_ascii=False))
    return env


@dataclass
class RenderContext:
    """What a render needs: the config, the task data, and the results to show (an annotation,
    a prediction or a draft), indexed for the partials."""

    config: LabelConfig
    data: dict[str, Any]
    results: list[dict[str, Any]] = field(default_factory=list)
    readonly: bool = False
    workspace: bool = False  # the labelling page, whose scripts drive the tools (not a preview)
    check_required: bool = True  # off for drafts: half-done work is saved as it is
    memo: dict[Any, Any] = field(default_factory=dict)  # per-render cache: labels, colours
    # what the server read of the media files the task names (ffprobe's duration, frame count…), by
    # the address as the data writes it: players trust the file, not the browser's estimate
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_from: dict[str, list[dict]] = field(init=False)
    by_to: dict[str, list[dict]] = field(init=False)
    regions: dict[str, list[dict]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_from, self.by_to, self.regions = {}, {}, {}
        # only well-formed items are shown; one without an id (a model's) gets one, on a copy
        self.results = [item if isinstance(item.get("id"), str) and item.get("id") else {**item, "id": str(item.get("id") or new_id())}
                        for item in self.results if _showable(item)]
        for item in self.results:
            if item.get("type") == "relation":
                continue
            self.by_from.setdefault(item.get("from_name", ""), []).append(item)
            for name in str(item.get("to_name", "")).split(","):
                self.by_to.setdefault(name, []).append(item)
            if "id" in item:
                self.regions.setdefault(str(item["id"]), []).append(item)

    def text(self, name: str) -> str:
        """An object's text for this task, resolved and decoded once (every span checks against it)."""
        key = ("text", name)
        if key not in self.memo:
            self.memo[key] = self.config.by_name[name].text(self.data)
        return self.memo[key]

    def labels(self, control: Any) -> list[dict[str, Any]]:
        """A control's labels for this task, built once per render (a config may have hundreds)."""
        key = ("labels", control.uid)
        if key not in self.memo:
            self.memo[key] = control.labels(self.data)
        return self.memo[key]

    def color_of(self, item: dict[str, Any]) -> str:
        """The colour of a region's first label: its own, or one another result of the same region
        gives it (a box drawn by <Rectangle>, labelled by <Labels>)."""
        for each in [item, *self.regions.get(str(item.get("id")), [])]:
            control = self.config.by_name.get(each.get("from_name"))
            if hasattr(control, "labels"):
                key = ("colors", control.uid)
                if key not in self.memo:
                    self.memo[key] = {label["value"]: label["background"] for label in self.labels(control)}
                for value in each.get("value", {}).get(control.value_key) or []:
                    if value in self.memo[key]:
                        return self.memo[key][value]
        return "#91CAFF"

    def region_labels(self, item: dict[str, Any]) -> list[str]:
        """The labels of a region, from every result that shares its id."""
        found = self.config.labels_of(item)
        for each in self.regions.get(str(item.get("id")), []):
            found += [x for x in self.config.labels_of(each) if x not in found]
        return found

    @property
    def relations(self) -> list[dict]:
        return [item for item in self.results if item.get("type") == "relation"]

    def values(self, control: str, key: str, region: str | None = None) -> list[Any]:
        """The chosen values of a classification control (for the whole task, or one region)."""
        out: list[Any] = []
        for item in self.by_from.get(control, []):
            if region is None or str(item.get("id")) == region:
                value = item.get("value", {}).get(key)
                out.extend(value if isinstance(value, list) else [value])
        return out

    def render(self, node: Any, region: dict | None = None) -> Markup:
        """A component's partial; `region` is set when a per-region control renders for one region."""
        return Markup(environment().get_template(node.template).render(node=node, ctx=self, region=region))
