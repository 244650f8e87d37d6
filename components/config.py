"""A labelling config as a tree of components: parse, validate, list data keys, render a task with
its results, collect results from a form, check results from outside, guard config changes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cached_property
from typing import Any

from lxml import etree
from markupsafe import Markup

from components.base import Component, Control, ObjectTag, Problem
from components.errors import ConfigError, ConfigInvalid
from components.registry import REGISTRY, UNSUPPORTED
from components.relations import check_relation, collect_relations
from components.render import RenderContext
from components.variables import top_key, variables_in
from components.xml import parse_xml

HOTKEY_TAGS = ("Label", "Choice")
AUTO_HOTKEYS = "1234567890"
MAX_DEPTH = 64  # rendering recurses once per level


class LabelConfig:
    def __init__(self, xml: str) -> None:
        self.xml = xml
        self.by_name: dict[str, Component] = {}
        self.nodes: list[Component] = []
        self.comment_task: dict[str, Any] | None = None
        self.errors: list[ConfigError] = []
        element = parse_xml(xml)
        # comments around the root (where Label Studio users put the sample task) are siblings of it
        for sibling in [*element.itersiblings(preceding=True), *element.itersiblings()]:
            self._read_comment(sibling)
        self.root = self._build(element, None)
        self._index()
        for node in self.nodes:
            self.errors.extend(node.validate(self))
        self._assign_hotkeys()

    # -- building ------------------------------------------------------------------------------

    def _build(self, element: etree._Element, parent: Component | None, depth: int = 0) -> Component | None:
        if not isinstance(element.tag, str):  # a comment or processing instruction
            self._read_comment(element)
            return None
        if depth > MAX_DEPTH:
            self.errors.append(ConfigError(f"Tags are nested more than {MAX_DEPTH} deep.", line=element.sourceline,
                                           tag=str(element.tag)))
            return None
        cls = REGISTRY.get(element.tag)
        if cls is None:
            self.errors.append(_unknown(element))
            return None
        node = cls(element, parent, uid=f"lw{len(self.nodes)}")
        self.nodes.append(node)
        for child in element:
            built = self._build(child, node, depth + 1)
            if built is not None:
                node.children.append(built)
        return node

    def _read_comment(self, element: etree._Element) -> None:
        if not isinstance(element, etree._Comment):
            return
        text = (element.text or "").strip()
        if self.comment_task is None and text.startswith("{"):
            try:
                found = json.loads(text)
            except ValueError:
                return  # an ordinary comment that happens to start with a brace
            if isinstance(found, dict) and isinstance(found.get("data"), dict):
                self.comment_task = found

    def _index(self) -> None:
        for node in self.nodes:
            if node.name is None or node.kind == "child":
                continue
            if node.name in self.by_name:
                first = self.by_name[node.name]
                self.errors.append(node.error(f'The name "{node.name}" is already used by <{first.tag}> on line '
                                              f"{first.line}: names must be unique.", "name"))
            else:
                self.by_name[node.name] = node

    def _assign_hotkeys(self) -> None:
        """Label Studio gives labels and choices without a hotkey the number keys, in order."""
        taken = {n.get("hotkey") for n in self.nodes if n.get("hotkey")}
        free = iter(k for k in AUTO_HOTKEYS if k not in taken)
        for node in self.nodes:
            if node.tag in HOTKEY_TAGS and not node.get("hotkey"):
                node.hotkey = next(free, None)
            else:
                node.hotkey = node.get("hotkey")

    # -- reading -------------------------------------------------------------------------------

    @cached_property
    def controls(self) -> list[Control]:
        return [n for n in self.nodes if isinstance(n, Control)]

    @cached_property
    def per_region(self) -> list[Control]:
        return [c for c in self.controls if c.per_region]

    @cached_property
    def objects(self) -> list[ObjectTag]:
        return [n for n in self.nodes if isinstance(n, ObjectTag)]

    def image_values(self) -> list[str]:
        """The `value` of every <Image> (`$image`, `$item.url`): the task's pictures."""
        return [o.get("value") for o in self.objects if o.tag == "Image" and o.get("value")]

    def data_keys(self) -> list[str]:
        """The task-data keys this config reads, in order (objects, then dynamic labels/choices)."""
        keys: list[str] = []
        for node in [*self.objects, *[c for c in self.controls if c.get("value")]]:
            for path in variables_in(node.get("value")) + variables_in(node.get("valueList")):
                if top_key(path) not in keys:
                    keys.append(top_key(path))
        return keys

    def required_keys(self) -> list[str]:
        """The data keys every task must have: those the object tags show."""
        keys: list[str] = []
        for node in self.objects:
            for path in variables_in(node.get("value")) + variables_in(node.get("valueList")):
                if top_key(path) not in keys:
                    keys.append(top_key(path))
        return keys

    def sample_task(self) -> dict[str, Any]:
        """The comment's sample task, or data made up for each key the config reads."""
        if self.comment_task is not None:
            return self.comment_task
        data: dict[str, Any] = {}
        for node in self.objects:
            for path in variables_in(node.get("value")) + variables_in(node.get("valueList")):
                data.setdefault(top_key(path), node.sample_value())
        return {"data": data}

    # -- rendering and results -----------------------------------------------------------------

    def context(self, data: dict[str, Any], results: Iterable[dict] = (), readonly: bool = False) -> RenderContext:
        return RenderContext(self, data, list(results), readonly)

    def render(self, data: dict[str, Any], results: Iterable[dict] = (), readonly: bool = False,
               workspace: bool = False, media: dict[str, dict[str, Any]] | None = None) -> Markup:
        """The annotation form for a task, showing `results` (an annotation, prediction or draft);
        `workspace` adds the tools only the labelling page's scripts drive (image toolbar, delete);
        `media` is what the server knows of the task's media files (see RenderContext.media)."""
        ctx = self.context(data, results, readonly)
        ctx.workspace = workspace and not readonly
        ctx.media = media or {}
        return ctx.render(FormRoot(self))

    # helpers the partials call

    def labels_of(self, item: dict[str, Any]) -> list[str]:
        return [x for key, v in item.get("value", {}).items() if key.endswith("labels") and isinstance(v, list)
                for x in v]

    def per_region_controls(self, object_name: str, region: dict[str, Any]) -> list[Control]:
        return [c for c in self.per_region if object_name in c.to_names and c.applies_to(region)]

    def describe_region(self, ctx: RenderContext, region_id: Any) -> str:
        items = ctx.regions.get(str(region_id), [])
        if not items:
            return str(region_id)
        first = items[0]
        text = first.get("value", {}).get("text")
        label = ", ".join(self.labels_of(first)) or first.get("type", "")
        return f"{label} “{text}”" if isinstance(text, str) else f"{label} ({region_id})"

    @cached_property
    def has_relations_tag(self) -> bool:
        return any(n.tag == "Relations" for n in self.nodes)

    def collect(self, data: dict[str, Any], form: dict[str, list[str]], check_required: bool = True) -> list[dict[str, Any]]:
        """Result items from a submitted form; raise Problem naming what is wrong. Drafts pass
        check_required=False: half-done work is saved as it is."""
        ctx = self.context(data)
        ctx.check_required = check_required
        regions: dict[str, dict] = {}
        results: list[dict] = []
        for node in self.objects:  # regions no form field carries (a <Chat>'s imported messages)
            if hasattr(node, "implied_regions"):
                regions.update(node.implied_regions(ctx))
        for raw in form.get("region", []):
            item = self._region_from_form(raw, ctx)
            regions[item["id"]] = item
            results.append(item)
        for control in self.controls:
            results.extend(control.collect(form, ctx, regions))
        results.extend(collect_relations(form.get("relation", []), regions, self))
        return results

    def _region_from_form(self, raw: str, ctx: RenderContext) -> dict[str, Any]:
        try:
            item = json.loads(raw)
        except ValueError:
            raise Problem(f"a region is not valid JSON: {raw[:80]!r}") from None
        name = item.get("from_name") if isinstance(item, dict) else None
        control = self.by_name.get(name) if isinstance(name, str) else None
        if not isinstance(control, Control) or not hasattr(control, "region_from_form"):
            raise Problem(f"a region names no region control: {raw[:80]!r}")
        return control.region_from_form(item, ctx)

    def check_results(self, results: Any, data: dict[str, Any],
                      media: dict[str, dict[str, Any]] | None = None) -> tuple[list[str], list[str]]:
        """Errors (the result cannot be stored) and warnings (stored, but flagged), each naming the item;
        `media` (see RenderContext.media) lets results be checked against the files (a PDF's page count)."""
        if not isinstance(results, list):
            return ["the result must be a list of items"], []
        errors: list[str] = []
        warnings: list[str] = []
        ctx = self.context(data, [r for r in results if isinstance(r, dict)])
        ctx.media = media or {}
        ids = {str(r.get("id")) for r in results if isinstance(r, dict) and r.get("type") != "relation"}
        for index, item in enumerate(results):
            try:
                if not isinstance(item, dict):
                    raise Problem("is not an object")
                if item.get("type") == "relation":
                    check_relation(item, ids)
                    continue
                warnings.extend(f"item {index} ({item.get('from_name')}): {w}" for w in self._check_item(item, ctx))
            except Problem as exc:
                name = item.get("from_name") if isinstance(item, dict) else None
                errors.append(f"item {index}{f' ({name})' if name else ''}: {exc}")
        return errors, warnings

    def _check_item(self, item: dict[str, Any], ctx: RenderContext) -> list[str]:
        for key in ("from_name", "to_name", "type"):
            if not isinstance(item.get(key), str):
                raise Problem(f"{key} must be a string")
        if "id" in item and not isinstance(item["id"], (str, int)):
            raise Problem("id must be a string")
        control = self.by_name.get(item["from_name"])
        if not isinstance(control, Control):
            names = ", ".join(c.name for c in self.controls)
            raise Problem(f"from_name '{item.get('from_name')}' is not a control in the config (controls: {names})")
        to_name = item["to_name"]
        if to_name not in control.to_names and not (control.tag == "Pairwise" and to_name == control.to_name):
            raise Problem(f"to_name '{to_name}' is not what <{control.tag} name=\"{control.name}\"> labels "
                          f"({control.to_name})")
        if item.get("type") not in control.accepted_types():
            raise Problem(f"type '{item.get('type')}' does not fit <{control.tag}>, which writes '{control.result_type}'")
        if not isinstance(item.get("value"), dict):
            raise Problem("value must be an object")
        return control.check(item, ctx)

    # -- guarding changes ----------------------------------------------------------------------

    def orphans(self, usage: dict[tuple[str, str, str], int], labels: dict[tuple[str, str], int]) -> list[str]:
        """What existing annotations this config would orphan (usage counts from the database):
        (from_name, to_name, type) triples that no longer fit, and labels still in use but gone."""
        problems = []
        for (from_name, to_name, kind), count in sorted(usage.items()):
            control = self.by_name.get(from_name)
            if kind == "relation":
                continue
            fits = (isinstance(control, Control) and kind in control.accepted_types()
                    and (to_name in control.to_names or to_name == control.to_name or control.tag == "TextArea"))
            if not fits:
                problems.append(f"{count} result(s) with from_name={from_name}, to_name={to_name}, type={kind} "
                                "would no longer fit")
        for (from_name, label), count in sorted(labels.items()):
            control = self.by_name.get(from_name)
            if isinstance(control, Control) and hasattr(control, "label_values") and not control.get("value"):
                if label not in control.label_values():
                    problems.append(f'label "{label}" of {from_name} is still used in {count} result(s)')
        return problems


class FormRoot:
    """The whole form: the config's tree, plus relations when the config has no <Relations> to show them."""

    template = "form.html"

    def __init__(self, config: LabelConfig) -> None:
        self.config, self.root = config, config.root


def _unknown(element: etree._Element) -> ConfigError:
    supported = ", ".join(sorted(REGISTRY))
    if element.tag in UNSUPPORTED:
        message = f"<{element.tag}> is a Label Studio tag Labelwell does not support yet. Supported tags: {supported}."
    else:
        message = f"<{element.tag}> is not a labelling-config tag. Supported tags: {supported}."
    return ConfigError(message, line=element.sourceline, tag=str(element.tag))


def parse_config(xml: str) -> LabelConfig:
    """A valid config, or ConfigInvalid carrying every error found (each with line, tag, attribute)."""
    config = LabelConfig(xml)
    if config.errors:
        raise ConfigInvalid(config.errors)
    return config
