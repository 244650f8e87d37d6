"""What every config tag is: a Component built from an XML element, checked, rendered by its
partial; controls also turn form input into result items and check result items from outside."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from components.errors import ConfigError
from components.variables import resolve

if TYPE_CHECKING:
    from lxml import etree

    from components.config import LabelConfig
    from components.render import RenderContext

Form = dict[str, list[str]]
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")
REGION_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def new_id() -> str:
    """A region id shaped like Label Studio's (10 characters of [A-Za-z0-9_-])."""
    return secrets.token_urlsafe(8)[:10]


class Problem(ValueError):
    """A result item that does not fit the config or the task."""


def boolean(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in TRUE


ACCEPTED = "accepted as in Label Studio (checked, no effect here)"  # an attribute only validated


@dataclass(frozen=True)
class About:
    """A tag's own words for the reference (components/reference.py builds docs/tags.md and the
    editor's panel from them and from the class's rules). Prose is Markdown with `code` only.
    Attribute descriptions and defaults are merged down the class's bases."""

    summary: str = ""
    attributes: dict[str, str] = field(default_factory=dict)  # attribute -> what it does
    defaults: dict[str, str] = field(default_factory=dict)  # attribute -> its default
    example: str = ""  # a minimal snippet that validates inside <View>…</View>
    result: dict[str, Any] | None = None  # a control's `value`; for <Relations>, the whole item
    extra: dict[str, Any] = field(default_factory=dict)  # item keys beside `value` (original_width, …)


class Component:
    tag: ClassVar[str]
    about: ClassVar[About] = About()
    kind: ClassVar[str] = "visual"  # object | control | visual | child
    template: ClassVar[str | None] = None
    required: ClassVar[tuple[str, ...]] = ()
    # attribute -> allowed values: a tuple of words, "bool", "int", "number" or "color"
    checks: ClassVar[dict[str, Any]] = {}
    child_tags: ClassVar[tuple[str, ...] | None] = None  # None: any tag may be inside

    def __init__(self, element: etree._Element, parent: Component | None, uid: str) -> None:
        self.attrs: dict[str, str] = {str(k): str(v) for k, v in element.attrib.items()}
        self.line: int = element.sourceline or 0
        self.body: str = (element.text or "").strip()
        self.parent, self.uid = parent, uid
        self.children: list[Component] = []

    def __repr__(self) -> str:
        return f"<{self.tag} {self.name or ''} line {self.line}>"

    def get(self, attr: str, default: str | None = None) -> str | None:
        return self.attrs.get(attr, default)

    def flag(self, attr: str, default: bool = False) -> bool:
        return boolean(self.attrs.get(attr), default)

    def number(self, attr: str, default: float) -> float:
        try:
            return float(self.attrs[attr])
        except (KeyError, ValueError):
            return default

    @property
    def name(self) -> str | None:
        return self.attrs.get("name")

    def error(self, message: str, attribute: str | None = None) -> ConfigError:
        return ConfigError(message, line=self.line, tag=self.tag, attribute=attribute)

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        for attr in self.required:
            if not self.attrs.get(attr):
                yield self.error(f"<{self.tag}> needs a {attr}.", attr)
        for attr, allowed in self.checks.items():
            value = self.attrs.get(attr)
            if value is not None and not _fits(value, allowed):
                yield self.error(f"'{value}' is not a valid {attr}: use {_describe(allowed)}.", attr)
        if self.child_tags is not None:
            for child in self.children:
                if child.tag not in self.child_tags:
                    yield child.error(f"<{child.tag}> cannot be inside <{self.tag}>; "
                                      f"it takes {', '.join(f'<{t}>' for t in self.child_tags)}.")

    def render(self, ctx: RenderContext, region: dict | None = None) -> Any:
        return ctx.render(self, region) if self.template else ""

    def nested(self, cls: type) -> Iterator[Any]:
        """Children of a type, also those inside layout <View>s (Label Studio lets a control lay
        out its options in Views, with Headers between them)."""
        for child in self.children:
            if isinstance(child, cls):
                yield child
            elif child.tag == "View":
                yield from child.nested(cls)


def _fits(value: str, allowed: Any) -> bool:
    if allowed == "bool":
        return value.strip().lower() in TRUE + FALSE
    if allowed == "int":
        return bool(re.fullmatch(r"-?\d+", value.strip()))
    if allowed == "number":
        return bool(re.fullmatch(r"-?\d+(\.\d+)?", value.strip()))
    if allowed == "color":
        return bool(re.fullmatch(r"#[0-9A-Fa-f]{3,8}|[a-zA-Z]{3,30}|rgba?\([\d\s.,%]+\)", value.strip()))
    return value in allowed


def _describe(allowed: Any) -> str:
    words = {"bool": "true or false", "int": "a whole number", "number": "a number",
             "color": "a colour such as #36B37E or green"}
    return words.get(allowed) or " or ".join(f"'{a}'" for a in allowed)


class Option(Component):
    """A child naming one option of its parent (<Label>, <Choice>, <Relation>): its value is the
    `value` attribute or, as Label Studio allows, the tag's text."""

    kind = "child"
    about = About(attributes={"value": "the option's value (or the tag's text)"})

    @property
    def value(self) -> str:
        return self.get("value") or self.body

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        if not self.value:
            yield self.error(f"<{self.tag}> needs a value (value=\"…\" or text inside the tag).", "value")


class ObjectTag(Component):
    """Data shown to the annotator (Text, Image, …); controls label it by its name."""

    kind = "object"
    required = ("name", "value")
    about = About(attributes={"name": "what controls name in `toName`",
                              "value": "the task data shown: `$key` (a path into the task's data)"})

    def sample_value(self) -> Any:
        """Made-up data for the preview when the config carries no sample task."""
        return "Sample text: Alice Smith joined Example Corp in Paris on 3 May."

    def data_value(self, ctx: RenderContext) -> Any:
        return resolve(self.get("value"), ctx.data)


class Control(Component):
    """A tag that makes results: `type` in the result is `result_type`, the value key `value_key`."""

    kind = "control"
    required = ("name", "toName")
    about = About(attributes={"name": "the result's `from_name`",
                              "toName": "the object tag it labels (its `name`), the result's `to_name`"})
    result_type: ClassVar[str]
    value_key: ClassVar[str]
    labels_objects: ClassVar[tuple[str, ...]]  # object tags it can label
    can_be_per_region: ClassVar[bool] = False

    @property
    def to_names(self) -> list[str]:
        return [n.strip() for n in (self.get("toName") or "").split(",") if n.strip()]

    @property
    def per_region(self) -> bool:
        return self.can_be_per_region and self.flag("perRegion")

    @property
    def to_name(self) -> str:
        return self.get("toName") or ""

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        for target in self.to_names:
            obj = config.by_name.get(target)
            if obj is None:
                yield self.error(f'toName="{target}" points at nothing: no tag is named "{target}" '
                                 f"(names: {', '.join(sorted(config.by_name)) or 'none'}).", "toName")
            elif obj.kind != "object":
                yield self.error(f'toName="{target}" names a <{obj.tag}>, which holds no data to label.', "toName")
            elif obj.tag not in self.labels_objects:
                yield self.error(f"<{self.tag}> cannot label <{obj.tag}> \"{target}\": it labels "
                                 f"{', '.join(f'<{t}>' for t in self.labels_objects)}.", "toName")
        if self.flag("perRegion") and self.flag("perItem"):
            yield self.error("perRegion and perItem cannot be used together.", "perItem")

    # -- results -------------------------------------------------------------------------------

    def render(self, ctx: RenderContext, region: dict | None = None) -> Any:
        if self.per_region and region is None:
            return ""  # shown inside each region it applies to, not on its own
        return super().render(ctx, region)

    def accepted_types(self) -> tuple[str, ...]:
        return (self.result_type,)

    def result_id(self, form: Form) -> str:
        """Keep the id an existing result had (the form carries it), so a round trip changes nothing."""
        kept = (form.get(f"id:{self.name}") or [""])[0]
        return kept if REGION_ID.match(kept) else new_id()

    def item(self, value: dict[str, Any], region_id: str, to_name: str | None = None) -> dict[str, Any]:
        return {"id": region_id, "from_name": self.name, "to_name": to_name or self.to_names[0],
                "type": self.result_type, "origin": "manual", "value": value}

    def collect(self, form: Form, ctx: RenderContext, regions: dict[str, dict]) -> list[dict[str, Any]]:
        """Result items from a submitted form (regions: the annotated regions by id)."""
        return []

    def check(self, item: dict[str, Any], ctx: RenderContext) -> list[str]:
        """Raise Problem when the item's value cannot be right; return warnings worth flagging."""
        return []
