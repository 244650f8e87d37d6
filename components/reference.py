"""The tag reference, from one source: the component classes (what the validator checks: required
attributes, `checks`, `child_tags`, `labels_objects`, `result_type`) plus each class's `about` text.
docs/tags.md and the config editor's panel are both made from `entries()`, so neither can disagree
with the validator.

    python -m components.reference > docs/tags.md      # regenerate the docs after changing a tag
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from lxml import etree

from components.base import Component, Control, ObjectTag, Option
from components.classification import Classification
from components.labels import LabelSet
from components.registry import REGISTRY
from components.relations import Relations

REGENERATE = "python -m components.reference > docs/tags.md"


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str  # from the class's `checks`: "true or false", "a whole number", "one of …", or "text"
    default: str | None
    required: bool
    description: str


@dataclass(frozen=True)
class Entry:
    tag: str
    kind: str  # object | control | option (<Label>, <Choice>, <Relation>) | layout
    section: str  # the key of the SECTIONS entry it is listed under
    summary: str
    pairs_label: str  # how `pairs` reads: "Labels", "Labelled by", "Inside", "Links regions of"
    pairs: tuple[str, ...]
    children: tuple[str, ...] | None  # tags allowed inside (None: any)
    attributes: tuple[Attribute, ...]
    result: dict[str, Any] | None  # one result item it writes, Label Studio's envelope
    example: str  # a snippet that validates inside <View>…</View>

    @property
    def anchor(self) -> str:
        return f"tag-{self.tag.lower()}"


# (key, heading, intro): listed in this order, each section's tags in registry order (see section_of)
SECTIONS: list[tuple[str, str, str]] = [
    ("layout", "Layout tags", "Tags that arrange the form and write nothing."),
    ("object", "Object tags (the data)",
     "What the annotator is shown. Each needs `name` and `value` (`<Image>` takes `valueList` instead); "
     "controls name it in `toName`."),
    ("region", "Region controls",
     "Controls whose results are regions: spans of text, boxes, polygons, points. Each needs `name` and "
     "`toName`; its options are `<Label value>` children (or a dynamic `value=\"$options\"`, a list of "
     "`{\"value\", \"alias\", \"background\"}` from the task)."),
    ("classification", "Classification controls",
     "Controls that answer about the whole task or, with `perRegion`, about each region (the answer carries "
     "the region's `id` and geometry; `whenTagName` / `whenLabelValue` limit it to some regions). Each needs "
     "`name` and `toName`. `visibleWhen` with `whenTagName` / `whenChoiceValue` hides a control until it "
     "applies; a hidden control is neither required nor submitted. `perRegion` with `perItem` is an error."),
    ("relations", "Relations", "Links between two regions, and the labels a link may carry."),
]
SECTION_KIND = {"layout": "layout", "object": "object", "region": "control", "classification": "control",
                "relations": "control"}


def section_of(cls: type[Component]) -> str:
    if issubclass(cls, ObjectTag):
        return "object"
    if issubclass(cls, Relations) or cls.tag == "Relation":
        return "relations"
    parents = parents_of(cls)
    if issubclass(cls, LabelSet) or (issubclass(cls, Option) and any(issubclass(REGISTRY[p], LabelSet) for p in parents)):
        return "region"
    if issubclass(cls, Classification) or issubclass(cls, Option):
        return "classification"
    return "layout"


def parents_of(cls: type[Component]) -> tuple[str, ...]:
    """The tags whose `child_tags` let this one inside."""
    return tuple(tag for tag, other in REGISTRY.items() if other.child_tags and cls.tag in other.child_tags)


def labelled_by(obj: type[Component]) -> tuple[str, ...]:
    """The controls whose `labels_objects` name this object tag: the validator's own rule, turned round."""
    return tuple(tag for tag, cls in REGISTRY.items()
                 if issubclass(cls, Control) and obj.tag in cls.labels_objects)


def describe_type(allowed: Any) -> str:
    words = {"bool": "true or false", "int": "a whole number", "number": "a number", "color": "a colour"}
    if allowed in words:
        return words[allowed]
    return "one of " + ", ".join(f"`{a}`" for a in allowed)


def merged(cls: type[Component], part: str) -> dict[str, str]:
    """An `about` mapping merged down the bases (a subclass's words win)."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        about = klass.__dict__.get("about")
        if about is not None:
            out.update(getattr(about, part))
    return out


def attributes_of(cls: type[Component]) -> tuple[Attribute, ...]:
    words, defaults = merged(cls, "attributes"), merged(cls, "defaults")
    names = list(dict.fromkeys([*cls.required, *words, *cls.checks]))
    return tuple(Attribute(name, describe_type(cls.checks[name]) if name in cls.checks else "text",
                           defaults.get(name), name in cls.required, words.get(name, ""))
                 for name in names)


def example_control(example: str, tag: str) -> etree._Element | None:
    root = etree.fromstring(f"<View>{example}</View>")
    return next(iter(root.iter(tag)), None)


def result_of(cls: type[Component]) -> dict[str, Any] | None:
    about = cls.__dict__["about"]
    if about.result is None:
        return None
    if not issubclass(cls, Control):
        return dict(about.result)
    element = example_control(about.example, cls.tag)
    name = element.get("name") if element is not None else "name"
    to_name = element.get("toName") if element is not None else "toName"
    if cls.tag != "Pairwise":
        to_name = to_name.split(",")[0]
    return {"id": "aB3dE5fG7h", "from_name": name, "to_name": to_name, "type": cls.result_type,
            "origin": "manual", "value": dict(about.result), **about.extra}


def entry_of(cls: type[Component]) -> Entry:
    about = cls.__dict__.get("about")
    if about is None:
        raise LookupError(f"<{cls.tag}> has no `about` of its own in components/: write one ({REGENERATE})")
    section = section_of(cls)
    if issubclass(cls, ObjectTag):  # before Control: <Chat> is both, and is documented as the data
        label, pairs = "Labelled by", labelled_by(cls)
    elif issubclass(cls, Control):
        label, pairs = "Labels", tuple(cls.labels_objects)
    elif issubclass(cls, Relations):
        label, pairs = "Links regions of", tuple(t for t, c in REGISTRY.items() if issubclass(c, LabelSet))
    elif issubclass(cls, Option):
        label, pairs = "Inside", parents_of(cls)
    else:  # layout: anywhere (also inside a control, to lay its options out)
        label, pairs = "", ()
    kind = "option" if issubclass(cls, Option) else SECTION_KIND[section]
    return Entry(cls.tag, kind, section, about.summary, label, pairs, cls.child_tags,
                 attributes_of(cls), result_of(cls), about.example)


def alias_of(tag: str, cls: type[Component]) -> Entry:
    """A second name for a tag (<AudioPlus> for <Audio>): listed, pointing at the tag it reads as."""
    main = entry_of(cls)
    return Entry(tag, main.kind, main.section, f"Label Studio's older name for `<{cls.tag}>`: read as `<{cls.tag}>`, "
                 "with the same attributes and results.", main.pairs_label, main.pairs, main.children, main.attributes, None,
                 main.example.replace(f"<{cls.tag} ", f"<{tag} "))


@cache
def entries() -> tuple[Entry, ...]:
    found = [entry_of(cls) for cls in dict.fromkeys(REGISTRY.values())]
    found += [alias_of(tag, cls) for tag, cls in REGISTRY.items() if tag != cls.tag]
    order = [key for key, _, _ in SECTIONS]
    return tuple(sorted(found, key=lambda e: order.index(e.section)))


def by_section() -> list[tuple[str, str, str, list[Entry]]]:
    return [(key, title, intro, [e for e in entries() if e.section == key]) for key, title, intro in SECTIONS]


def tags() -> frozenset[str]:
    return frozenset(e.tag for e in entries())


def entry(tag: str | None) -> Entry | None:
    return next((e for e in entries() if e.tag == tag), None)


# -- the panel's prose: Markdown with `code` only --------------------------------------------------

def inline(text: str) -> str:
    """Escaped text with `code` spans (all the Markdown the `about` texts use)."""
    parts = re.split(r"`([^`]+)`", text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def paragraphs(text: str) -> list[str]:
    return [inline(p.strip()) for p in text.split("\n\n") if p.strip()]


def result_json(e: Entry) -> str:
    return json.dumps(e.result, ensure_ascii=False, indent=2) if e.result else ""


# -- docs/tags.md ----------------------------------------------------------------------------------

INTRO = """# Config tags

Labelwell reads Label Studio's labelling-config XML. Each tag below is one unit in `components/`
(a `.py` file and its `.html` partial). Every result item has Label Studio's envelope:
`{"id", "from_name", "to_name", "type", "origin", "value": {…}}`; items about one region share
its `id`. Variables: `value="$key"`, `$a.b`, `$list[0]`, and `$key` inside literal text.
A config may carry a sample task in a comment, `<!-- {"data": {…}} -->`, used for the preview.

Label Studio tags not listed here (TimeSeries, Chat, Ellipse, Brush, Pdf, …) are
refused with a message that names the tag and lists the supported ones.

Attribute values are checked: a wrong value (`choice="maybe"`, `maxRating="five"`) is an error
naming the line, tag and attribute. Unknown attributes are ignored, as in Label Studio.

This page is generated from the tag classes (`components/reference.py`; run
`{regenerate}` after changing one); the config editor shows the same
reference beside the config, with an Insert button for each example, and starts from a template
gallery (the starters in `components/starters/`, grouped by data type).
"""

OUTRO = """## How a form submits
The rendered form (`LabelConfig.render`) is plain HTML fields, so it posts like any form:
- a region is a hidden `region` field holding its result item as JSON (the browser's script
  fills it when a span is selected or a box drawn); the server re-checks it and rewrites derived
  fields such as a span's `text`;
- a classification control posts its values under its name; per region under `name@<region id>`;
- `id:<name>` keeps an existing result's id, so re-saving changes nothing;
- a relation is a hidden `relation` field holding `{"from_id", "to_id", "direction", "labels"}`.

## Changing a config
A new config is refused when it would orphan existing annotations or drafts: a
`from_name`/`to_name`/`type` in use that no longer fits, or a label (or choice) still in use
that is removed. The message counts what would be orphaned. `POST /api/projects/validate` and
`POST /api/projects/{id}/validate` answer whether a config is valid and why.
"""


def tag_list(tags: tuple[str, ...] | None) -> str:
    return ", ".join(f"`<{t}>`" for t in tags) if tags else "nothing"


def entry_markdown(e: Entry) -> str:
    lines = [f"### `<{e.tag}>`", e.summary.strip(), ""]
    if e.pairs_label:
        lines.append(f"{e.pairs_label}: {tag_list(e.pairs)}.")
    if e.children:
        lines.append(f"Takes inside: {tag_list(e.children)}.")
    if lines[-1]:
        lines.append("")
    if e.attributes:
        lines += ["| Attribute | Type | Default | What it does |", "|---|---|---|---|"]
        for a in e.attributes:
            name = f"`{a.name}`" + (" (required)" if a.required else "")
            default = f"`{a.default}`" if a.default is not None else ""
            lines.append(f"| {name} | {a.type} | {default} | {a.description} |")
        lines.append("")
    if e.result:
        lines += ["Writes:", "```json", json.dumps(e.result, ensure_ascii=False), "```", ""]
    lines += ["Example:", "```xml", e.example, "```", ""]
    return "\n".join(lines)


def markdown() -> str:
    out = [INTRO.replace("{regenerate}", REGENERATE)]
    for _key, title, intro, found in by_section():
        out.append(f"## {title}\n{intro}\n")
        out += [entry_markdown(e) for e in found]
    out.append(OUTRO)
    return "\n".join(out)


if __name__ == "__main__":
    print(markdown(), end="")
