"""What the built-in model can learn of a labelling config, and the words for what it cannot.

It learns a `<Choices>` (one or several choices) on a `<Text>`, `<HyperText>` or `<Paragraphs>`,
and `<Labels>` (named entities) on a `<Text>`: the text of each task is read here, exactly as the
workspace shows it, so predicted offsets land on the annotators' characters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lxml import etree, html

from components.text import decode
from components.variables import resolve

if TYPE_CHECKING:
    from components import LabelConfig
    from components.base import Component

CLASSIFIED = ("Text", "HyperText", "Paragraphs")  # what a <Choices> is learnt on
TAGGED = ("Text",)  # what <Labels> spans are learnt on


@dataclass(frozen=True)
class Target:
    """One control the model learns: `kind` is "choices" or "spans"."""

    kind: str
    control: str
    to_name: str
    object_tag: str
    labels: tuple[str, ...]
    multiple: bool = False

    def describe(self) -> dict[str, Any]:
        return {"control": self.control, "to_name": self.to_name, "kind": self.kind, "object": self.object_tag,
                "multiple": self.multiple, "labels": list(self.labels)}


def targets(config: LabelConfig) -> tuple[list[Target], list[dict[str, str]]]:
    """The controls it learns, and the others with why not (for the Model page)."""
    found: list[Target] = []
    cannot: list[dict[str, str]] = []
    for control in config.controls:
        target, why = _target(control, config)
        if target is not None:
            found.append(target)
        else:
            cannot.append({"control": control.name or control.tag, "tag": control.tag, "why": why})
    return found, cannot


def _target(control: Component, config: LabelConfig) -> tuple[Target | None, str]:
    names = control.to_names
    obj = config.by_name.get(names[0]) if len(names) == 1 else None
    tag = getattr(obj, "tag", "")
    if control.tag not in ("Choices", "Labels"):
        return None, f"the built-in model learns <Choices> and <Labels>, not <{control.tag}>; use an ML backend"
    if obj is None:
        return None, "it labels several objects at once" if len(names) > 1 else "its toName names no object"
    if control.per_region:
        return None, "its choices belong to regions, not to the whole task"
    if control.get("value"):
        return None, "its options come from each task's data, so they differ from task to task"
    if obj.get("valueType") == "url":
        return None, (f"<{tag} name=\"{obj.name}\"> reads its text from an address; the model reads only text "
                      "in the task")
    labels = tuple(control.label_values())
    if len(labels) < 2 and not (control.tag == "Labels" and labels):
        return None, "it offers fewer than two choices"
    if control.tag == "Choices":
        if tag not in CLASSIFIED:
            return None, f"it classifies a <{tag}>; the built-in model reads <Text>, <HyperText> and <Paragraphs>"
        return Target("choices", control.name, obj.name, tag, labels, control.multiple), ""
    if tag not in TAGGED:
        return None, f"its spans are on a <{tag}>; the built-in model finds spans in <Text> only"
    return Target("spans", control.name, obj.name, tag, labels), ""


def text_of(target: Target, config: LabelConfig, data: dict[str, Any]) -> str:
    """The text the model reads for a task. For <Text> it is the workspace's text itself (offsets
    count its code points); HTML is read for its words; a conversation is its lines, speaker first."""
    obj = config.by_name[target.to_name]
    if target.object_tag == "Paragraphs":
        return "\n".join(f"{name}: {line}" if name else line for name, line in obj.paragraphs(data))
    if target.object_tag == "HyperText":
        markup = decode(resolve(obj.get("value"), data), obj.get("encoding"))
        return _words_of_html(markup)
    return obj.text(data)


def _words_of_html(markup: str) -> str:
    if not markup.strip():
        return ""
    try:
        return html.fragment_fromstring(markup, create_parent="div").text_content()
    except (etree.ParserError, ValueError):
        return re.sub(r"<[^>]*>", " ", markup)
