"""What Choices, Taxonomy, TextArea, Rating, Number, DateTime and Pairwise share: one answer for the
task, or one per region (perRegion), shown only when their visibleWhen condition holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from components.base import ACCEPTED, About, Control, Problem

if TYPE_CHECKING:
    from components.render import RenderContext

OBJECT_TAGS = ("Text", "HyperText", "Image", "Paragraphs", "Table", "Audio", "Video", "Chat", "TimeSeries", "Pdf")
VISIBLE_WHEN = ("region-selected", "choice-selected", "no-region-selected", "choice-unselected")
IMAGE_KEYS = ("original_width", "original_height", "image_rotation", "item_index", "original_length")  # item level


def words(value: str | None) -> list[str]:
    return [w.strip() for w in (value or "").split(",") if w.strip()]


class Classification(Control):
    about = About(attributes={
        "required": "the task cannot be submitted without an answer",
        "requiredMessage": "what to say when it is missing",
        "perRegion": "one answer per region, carrying the region's `id` and geometry",
        "perItem": "on a `<Pdf>`, one answer per page, with the page's 0-based `item_index` (else " + ACCEPTED
                   + "; cannot be used with `perRegion`)",
        "visibleWhen": "show it only when a region or a choice is (not) selected; a hidden control is neither "
                       "required nor submitted",
        "whenTagName": "the control `visibleWhen` (or `perRegion`) watches",
        "whenChoiceValue": "the choice(s) that show it", "whenLabelValue": "the label(s) of the regions it applies to"})
    labels_objects = OBJECT_TAGS
    can_be_per_region = True
    common_checks: ClassVar[dict[str, Any]] = {"required": "bool", "perRegion": "bool", "perItem": "bool",
                                               "visibleWhen": VISIBLE_WHEN}

    @property
    def value_key(self) -> str:
        return self.result_type

    def field(self, region: dict | None = None) -> str:
        return f"{self.name}@{region['id']}" if region else str(self.name)

    def required_message(self) -> str:
        return self.get("requiredMessage") or f"{self.name} is required."

    def parse(self, raw: list[str], ctx: RenderContext) -> Any:
        """The result value from the form's strings, or None when nothing was given."""
        raise NotImplementedError

    def check_value(self, value: Any, ctx: RenderContext) -> list[str]:
        """Raise Problem for a malformed value; return warnings."""
        return []

    # -- visibility ----------------------------------------------------------------------------

    def shown(self, chosen: dict[str, list[Any]]) -> bool:
        """Whether the condition on other choices holds (`chosen`: control name -> chosen values)."""
        when = self.get("visibleWhen")
        if when not in ("choice-selected", "choice-unselected"):
            return True
        tags = words(self.get("whenTagName")) or list(chosen)
        wanted = set(words(self.get("whenChoiceValue")))
        picked = {v for tag in tags for v in chosen.get(tag, [])}
        hit = bool(picked & wanted) if wanted else bool(picked)
        return hit if when == "choice-selected" else not hit

    def applies_to(self, region: dict) -> bool:
        """A per-region control may be limited to regions of one control or some labels."""
        tags, labels = words(self.get("whenTagName")), set(words(self.get("whenLabelValue")))
        if tags and region.get("from_name") not in tags:
            return False
        roles = self.when_roles()
        if roles and region.get("type") == "chatmessage":
            return region.get("value", {}).get("chatmessage", {}).get("role") in roles
        if labels:
            values = region.get("value", {})
            return bool(labels & {x for key, v in values.items() if key.endswith("labels") and isinstance(v, list) for x in v})
        return True

    def when_roles(self) -> set[str]:
        """A <Chat> message's roles it applies to: `whenRole` on it or on the nearest View around it."""
        node = self
        while node is not None and not node.get("whenRole"):
            node = node.parent
        return set(words(node.get("whenRole"))) if node is not None else set()

    def initially_shown(self, ctx: RenderContext) -> bool:
        chosen = {item.get("from_name"): item.get("value", {}).get("choices", [])
                  for item in ctx.results if item.get("type") == "choices"}
        return self.shown(chosen)

    # -- results -------------------------------------------------------------------------------

    def paged_target(self, ctx: RenderContext) -> Any:
        """The paged object (<Pdf>) a `perItem` control answers per page of, if it is one."""
        target = ctx.config.by_name.get(self.to_names[0]) if self.to_names else None
        return target if self.flag("perItem") and hasattr(target, "render_per_item") else None

    def render(self, ctx: RenderContext, region: dict | None = None) -> Any:
        target = self.paged_target(ctx) if region is None else None
        return target.render_per_item(self, ctx) if target is not None else super().render(ctx, region)

    def collect(self, form: dict, ctx: RenderContext, regions: dict[str, dict]) -> list[dict]:
        if (paged := self.paged_target(ctx)) is not None:
            return paged.collect_per_item(self, form, ctx)
        if self.per_region:
            return [item for region in regions.values() if region["to_name"] in self.to_names
                    and self.applies_to(region) for item in self._for_region(form, ctx, region)]
        chosen = {name: form.get(name, []) for name in form}
        if not self.shown(chosen):
            return []  # hidden by its condition: not submitted, as in Label Studio
        value = self.parse(form.get(self.field(), []), ctx)
        if value is None:
            if ctx.check_required and self.flag("required"):
                raise Problem(self.required_message())
            return []
        return [self.item({self.value_key: value}, self.result_id(form), self.result_to_name())]

    def _for_region(self, form: dict, ctx: RenderContext, region: dict) -> list[dict]:
        value = self.parse(form.get(self.field(region), []), ctx)
        if value is None:
            if ctx.check_required and self.flag("required"):
                raise Problem(f"{self.required_message()} (region {region['id']})")
            return []
        control = ctx.config.by_name[region["from_name"]]
        geometry = {k: region["value"][k] for k in getattr(control, "geometry_keys", ()) if k in region["value"]}
        item = self.item({**geometry, self.value_key: value}, region["id"], region["to_name"])
        item.update({k: region[k] for k in IMAGE_KEYS if k in region})
        return [item]

    def result_to_name(self) -> str:
        return self.to_names[0]

    def check(self, item: dict[str, Any], ctx: RenderContext) -> list[str]:
        if self.value_key not in item["value"]:
            raise Problem(f"value has no '{self.value_key}'")
        target = ctx.config.by_name.get(str(item.get("to_name")))
        if "item_index" in item and hasattr(target, "check_page"):  # one page's answer
            target.check_page(item["item_index"], ctx, "item_index", 0)
        if self.per_region and hasattr(target, "message_ids"):  # an answer about one message of a <Chat>
            target.check_message_id(item.get("id"), ctx)
        return self.check_value(item["value"][self.value_key], ctx)
