"""<Labels>/<Label> on Text, <HyperTextLabels> and <ParagraphLabels>: span regions with labels.
LabelSet is the shared part of every control whose children are <Label>s (image ones too)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from components import audio, shapes
from components.base import ACCEPTED, REGION_ID, About, Control, Option, Problem, _fits
from components.errors import ConfigError
from components.variables import resolve

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.render import RenderContext

REGION_KEYS = ("original_width", "original_height", "image_rotation", "item_index", "original_length")  # item level, kept
PALETTE = ("#FFA39E", "#FFC069", "#95DE64", "#87E8DE", "#91CAFF", "#D3ADF7", "#FF85C0", "#FFD666", "#B7EB8F",
           "#ADC6FF")
WORD = re.compile(r"\w+", re.UNICODE)


class Label(Option):
    tag = "Label"
    about = About(
        summary="A label inside a region control: `value` (or the tag's text). Labels and choices without a "
                "`hotkey` get the number keys in order, as in Label Studio.\n\n"
                "Label Studio lets a control lay its options out: `<View>` (with `style`) and `<Header>` may sit "
                "inside `<Labels>`, `<Choices>` and the image controls, and the `<Label>`s or `<Choice>`s inside "
                "them count as the control's own. A `<Choices>` renders them in that layout.",
        attributes={"alias": "the value written in the result instead of `value`",
                    "background": "the label's colour", "hotkey": "the key that picks it",
                    "maxUsages": "how many regions may carry this label", "selected": "picked at the start",
                    "selectedColor": ACCEPTED},
        example='<Labels name="entity" toName="text">\n  <Label value="Person" background="#FFA39E" hotkey="p"/>\n'
                '</Labels>\n<Text name="text" value="$text"/>')
    checks = {"background": "color", "selectedColor": "color", "maxUsages": "int", "selected": "bool"}


def integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Problem(f"value.{field} must be a whole number, not {value!r}")
    return value


def region_target(control: Control, item: dict[str, Any]) -> tuple[str, str]:
    """A region's id and object from the form, checked: an id like Label Studio's, an object the control labels."""
    region_id, to_name = str(item.get("id", "")), str(item.get("to_name") or control.to_names[0])
    if not REGION_ID.match(region_id):
        raise Problem(f"region id {region_id!r} must be 1-64 letters, digits, '_' or '-'")
    if to_name not in control.to_names:
        raise Problem(f"{control.name} cannot label {to_name!r}")
    return region_id, to_name


def check_item_index(item: dict[str, Any], ctx: RenderContext) -> None:
    """A region on one page of a multi-page object (<Image valueList>) names the page in item_index."""
    if "item_index" not in item:
        return
    index, target = item["item_index"], ctx.config.by_name.get(str(item.get("to_name")))
    pages = target.page_count(ctx.data) if hasattr(target, "page_count") else 1
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < pages:
        raise Problem(f"item_index must be a page number from 0 to {pages - 1}, not {index!r}")


class LabelSet(Control):
    """A control offering labels (static <Label> children or a dynamic `value="$options"`)."""
    about = About(attributes={
        "choice": "`multiple`: a region may carry several labels", "maxUsages": "how many regions this control may make",
        "showInline": "the labels in a row", "value": "dynamic labels: `$key` holding a list of "
        "`{\"value\", \"alias\", \"background\"}` from the task",
        "opacity": ACCEPTED, "strokeWidth": ACCEPTED}, defaults={"choice": "single"})

    child_tags = ("Label", "View", "Header")  # Views and Headers lay the labels out
    checks = {"choice": ("single", "multiple"), "maxUsages": "int", "showInline": "bool", "opacity": "number",
              "strokeWidth": "number"}
    geometry_keys: ClassVar[tuple[str, ...]] = ()
    labels_optional: ClassVar[bool] = False  # Rectangle, Polygon, KeyPoint: geometry only

    @property
    def value_key(self) -> str:
        return self.result_type

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        if not self.labels_optional and not self.label_values() and not self.get("value"):
            yield self.error(f"<{self.tag}> has no <Label> inside and no dynamic value=\"$…\": "
                             "annotators would have nothing to choose.")
        seen = Counter(child.value for child in self.nested(Label))
        for value, count in seen.items():
            if count > 1:
                yield self.error(f'the label "{value}" is listed {count} times.')

    def label_values(self) -> list[str]:
        return [c.value for c in self.nested(Label)]

    def labels(self, data: dict) -> list[dict[str, Any]]:
        """Each label: value, alias, background, hotkey, maxUsages (dynamic ones from task data)."""
        out = [{"value": c.value, "alias": c.get("alias"), "background": c.get("background"),
                "hotkey": c.hotkey, "max": c.get("maxUsages")} for c in self.nested(Label)]
        if self.get("value"):
            dynamic = resolve(self.get("value"), data)
            for entry in dynamic if isinstance(dynamic, list) else []:
                entry = entry if isinstance(entry, dict) else {"value": str(entry)}
                out.append({"value": str(entry.get("value", "")), "alias": entry.get("alias"),
                            "background": entry.get("background"), "hotkey": None, "max": None})
        for index, label in enumerate(out):
            # a colour from task data ends up in a style attribute: only a real colour gets there
            if not (isinstance(label["background"], str) and _fits(label["background"], "color")):
                label["background"] = PALETTE[index % len(PALETTE)]
        return out

    # -- regions -------------------------------------------------------------------------------

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        """The region's position, checked against the object; raise Problem if it cannot be right."""
        raise NotImplementedError

    def warnings(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> list[str]:
        return []

    def region_from_form(self, item: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        region_id, to_name = region_target(self, item)
        value = item.get("value") if isinstance(item.get("value"), dict) else {}
        clean = self.geometry(value, ctx, to_name)
        check_item_index(item, ctx)
        chosen = value.get(self.value_key, [])
        if not isinstance(chosen, list) or not all(isinstance(x, str) for x in chosen):
            raise Problem(f"value.{self.value_key} must be a list of label names")
        self.check_chosen(chosen, ctx)
        if chosen or not self.labels_optional:
            clean[self.value_key] = chosen
        out = {"id": region_id, "from_name": self.name, "to_name": to_name, "type": self.result_type,
               "origin": item.get("origin") if item.get("origin") in ("manual", "prediction", "prediction-changed")
               else "manual", "value": clean}
        for extra in ("original_width", "original_height", "image_rotation", "item_index", "original_length", "score"):
            if extra in item:
                out[extra] = item[extra]
        return out

    def check_chosen(self, chosen: list[str], ctx: RenderContext) -> None:
        """A region's labels from the form: known ones, and one unless choice="multiple"."""
        known = {label["value"] for label in ctx.labels(self)}
        unknown = [x for x in chosen if x not in known]
        if unknown:
            raise Problem(f"{self.name} has no label {', '.join(map(repr, unknown))}")
        if self.get("choice", "single") == "single" and len(chosen) > 1:
            raise Problem(f"{self.name} allows one label per region, got {len(chosen)}")

    def collect(self, form: dict, ctx: RenderContext, regions: dict[str, dict]) -> list[dict]:
        """Regions were read already; here only the usage limits across regions are enforced."""
        mine = [r for r in regions.values() if r["from_name"] == self.name]
        used = Counter(label for r in mine for label in r["value"].get(self.value_key, []))
        limit = self.get("maxUsages")
        if limit and len(mine) > int(limit):
            raise Problem(f"{self.name} allows at most {limit} region(s), got {len(mine)}")
        for label in ctx.labels(self):
            if label["max"] and used[label["value"]] > int(label["max"]):
                raise Problem(f'"{label["value"]}" may be used at most {label["max"]} time(s), got {used[label["value"]]}')
        return []

    def check(self, item: dict[str, Any], ctx: RenderContext) -> list[str]:
        value = item["value"]
        to_name = str(item.get("to_name"))
        self.geometry(value, ctx, to_name)
        warnings = self.warnings(value, ctx, to_name)
        chosen = value.get(self.value_key, [])
        if not isinstance(chosen, list) or not all(isinstance(x, str) for x in chosen):
            raise Problem(f"value.{self.value_key} must be a list of label names")
        for key in ("original_width", "original_height"):
            if key in item and (isinstance(item[key], bool) or not isinstance(item[key], int) or item[key] <= 0):
                raise Problem(f"{key} must be a positive whole number of pixels")
        check_item_index(item, ctx)
        known = {label["value"] for label in ctx.labels(self)}
        unknown = [str(x) for x in chosen if x not in known]
        if unknown:
            warnings.append(f"label(s) {', '.join(map(repr, unknown))} are not in the config")
        return warnings


class Labels(LabelSet):
    """Spans on a text; on an <Image> (Label Studio's OCR template), the labels of the regions the
    image's other controls draw: each region shows them, and a labelled region gets a `labels`
    result with its id and shape."""

    tag = "Labels"
    about = About(
        summary="Spans on `<Text>`: `start`/`end` are code-point offsets and the server writes `text` from "
                "them.\n\n"
                "On an `<Image>` (Label Studio's OCR template), `<Labels>` labels the regions the image's other "
                "controls draw (`<Rectangle>`, `<Polygon>`): each region in the region list shows the labels, and a "
                "labelled region gets a second item with the same `id`, `type: \"labels\"`, the region's shape and "
                "`labels` (`value: {\"x\", \"y\", \"width\", \"height\", \"rotation\", \"labels\": […]}`), as "
                "Label Studio writes it. Draw with the image's tool first, then pick the label in the region's "
                "row. A `labels` item on an image must carry a shape.\n\n"
                "On an `<Audio>`, `<Labels>` makes time segments: `value: {\"start\", \"end\", \"channel\", "
                "\"labels\"}` in seconds, with the file's length in `original_length` beside `value` (see `<Audio>`).\n\n"
                "On a `<Chat>`, spans inside one message: `value: {\"message\", \"start\", \"end\", \"text\", "
                "\"labels\"}` (see `<Chat>`).",
        example='<Labels name="entity" toName="text">\n  <Label value="Person" background="#FFA39E"/>\n'
                '  <Label value="Organisation" background="#FFC069"/>\n</Labels>\n<Text name="text" value="$text"/>',
        result={"start": 13, "end": 24, "text": "Alice Smith", "labels": ["Person"]})
    template = "labels.html"
    result_type = "labels"
    labels_objects = ("Text", "Image", "Audio", "Video", "Chat")
    geometry_keys = ("start", "end", "channel")  # channel: audio segments
    on_image = False

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from super().validate(config)
        self.on_image = any(getattr(config.by_name.get(n), "tag", None) == "Image" for n in self.to_names)

    @property
    def per_region(self) -> bool:
        return self.on_image

    def applies_to(self, region: dict[str, Any]) -> bool:
        return region.get("from_name") != self.name

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        if ctx.config.by_name[to_name].tag == "Image":
            return shapes.any_shape(value)
        if ctx.config.by_name[to_name].tag == "Audio":
            return audio.segment(value)  # its length is checked with the whole item (original_length)
        if ctx.config.by_name[to_name].tag == "Chat":
            return ctx.config.by_name[to_name].span(value, ctx)  # inside one message: see <Chat>
        if ctx.config.by_name[to_name].tag == "Video":
            raise Problem("labels on a <Video> go inside the videorectangle item (value.labels), not in an item "
                          "of their own")
        text = ctx.text(to_name)
        start, end = integer(value.get("start"), "start"), integer(value.get("end"), "end")
        if not 0 <= start < end <= len(text):
            raise Problem(f"span {start}-{end} is outside the text (0-{len(text)}) or empty")
        return {"start": start, "end": end, "text": text[start:end]}

    def field(self, region: dict[str, Any]) -> str:
        return f"{self.name}@{region['id']}"

    def collect(self, form: dict, ctx: RenderContext, regions: dict[str, dict]) -> list[dict]:
        if not self.on_image:
            return super().collect(form, ctx, regions)
        items = [item for region in regions.values() if region["to_name"] in self.to_names
                 and self.applies_to(region) for item in self._for_region(form, ctx, region)]
        super().collect(form, ctx, {**regions, **{f"+{i['id']}": i for i in items}})  # the usage limits
        return items

    def _for_region(self, form: dict, ctx: RenderContext, region: dict[str, Any]) -> list[dict[str, Any]]:
        picked = [v for v in form.get(self.field(region), []) if v]
        if not picked:
            return []
        self.check_chosen(picked, ctx)
        control = ctx.config.by_name[region["from_name"]]
        shape = {k: region["value"][k] for k in getattr(control, "geometry_keys", ()) if k in region["value"]}
        item = self.item({**shape, self.value_key: picked}, region["id"], region["to_name"])
        item.update({k: region[k] for k in REGION_KEYS if k in region})
        return [item]

    def region_from_form(self, item: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        to_name = str(item.get("to_name") or self.to_names[0])
        obj = ctx.config.by_name.get(to_name) if to_name in self.to_names else None
        value = item.get("value")
        if obj is not None and obj.get("granularity") == "word" and isinstance(value, dict):
            item = {**item, "value": {**value, **snap_to_words(obj.text(ctx.data), value.get("start"), value.get("end"))}}
        out = super().region_from_form(item, ctx)
        if obj is not None and obj.tag == "Audio":
            audio.check_segment(out, ctx)
        return out

    def check(self, item: dict[str, Any], ctx: RenderContext) -> list[str]:
        warnings = super().check(item, ctx)
        if getattr(ctx.config.by_name.get(str(item.get("to_name"))), "tag", None) == "Audio":
            audio.check_segment(item, ctx)
        return warnings

    def warnings(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> list[str]:
        if ctx.config.by_name[to_name].tag in ("Image", "Audio", "Video"):
            return []
        if ctx.config.by_name[to_name].tag == "Chat":
            return ctx.config.by_name[to_name].span_warnings(value, ctx)
        text = ctx.text(to_name)
        if "text" in value and value["text"] != text[value["start"]:value["end"]]:
            return [f"value.text {value['text']!r} differs from the text at {value['start']}-{value['end']} "
                    f"({text[value['start']:value['end']]!r})"]
        return []


def snap_to_words(text: str, start: Any, end: Any) -> dict[str, Any]:
    """granularity="word": widen a selection to whole words (an edge inside a word moves out)."""
    if not isinstance(start, int) or not isinstance(end, int):
        return {}
    for match in WORD.finditer(text):
        if match.start() < start < match.end():
            start = match.start()
        if match.start() < end < match.end():
            end = match.end()
    return {"start": start, "end": end}


class HyperTextLabels(LabelSet):
    tag = "HyperTextLabels"
    about = About(
        summary="Spans on `<HyperText>`: `start` and `end` are XPaths of the nodes the selection starts and ends "
                "in, with offsets inside them and in the page's whole text.",
        example='<HyperTextLabels name="spans" toName="page">\n  <Label value="Price"/>\n</HyperTextLabels>\n'
                '<HyperText name="page" value="$html"/>',
        result={"start": "/p[1]/b[1]", "end": "/p[1]/b[1]", "startOffset": 0, "endOffset": 4,
                "globalOffsets": {"start": 7, "end": 11}, "text": "HTML", "hypertextlabels": ["Price"]})
    template = "labels.html"
    result_type = "hypertextlabels"
    labels_objects = ("HyperText",)
    geometry_keys = ("start", "end", "startOffset", "endOffset", "globalOffsets")

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        for key in ("start", "end"):
            if not isinstance(value.get(key), str):
                raise Problem(f"value.{key} must be an XPath string")
        out = {"start": value["start"], "end": value["end"],
               "startOffset": integer(value.get("startOffset"), "startOffset"),
               "endOffset": integer(value.get("endOffset"), "endOffset")}
        if out["startOffset"] < 0 or out["endOffset"] < 0:
            raise Problem("offsets cannot be negative")
        offsets = value.get("globalOffsets")
        if offsets is not None:
            if not isinstance(offsets, dict):
                raise Problem("value.globalOffsets must be {start, end}")
            first, last = integer(offsets.get("start"), "globalOffsets.start"), integer(offsets.get("end"), "globalOffsets.end")
            if not 0 <= first <= last:
                raise Problem(f"globalOffsets {first}-{last} run backwards")
            out["globalOffsets"] = {"start": first, "end": last}
        if isinstance(value.get("text"), str):
            out["text"] = value["text"]
        return out


class ParagraphLabels(LabelSet):
    tag = "ParagraphLabels"
    about = About(
        summary="Spans on `<Paragraphs>`: `start` and `end` are paragraph indexes (as strings), with offsets "
                "inside those paragraphs.",
        example='<ParagraphLabels name="intent" toName="dialogue">\n  <Label value="Complaint"/>\n'
                '</ParagraphLabels>\n<Paragraphs name="dialogue" value="$dialogue" layout="dialogue"/>',
        result={"start": "0", "end": "0", "startOffset": 0, "endOffset": 5, "text": "Hello",
                "paragraphlabels": ["Complaint"]})
    template = "labels.html"
    result_type = "paragraphlabels"
    labels_objects = ("Paragraphs",)
    geometry_keys = ("start", "end", "startOffset", "endOffset")

    def geometry(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> dict[str, Any]:
        paragraphs = [text for _, text in ctx.config.by_name[to_name].paragraphs(ctx.data)]
        try:
            first, last = int(value.get("start")), int(value.get("end"))
        except (TypeError, ValueError):
            raise Problem("value.start and value.end must be paragraph indexes") from None
        start_offset, end_offset = integer(value.get("startOffset"), "startOffset"), integer(value.get("endOffset"), "endOffset")
        if not 0 <= first <= last < len(paragraphs):
            raise Problem(f"paragraphs {first}-{last} are outside the {len(paragraphs)} paragraph(s)")
        if not 0 <= start_offset <= len(paragraphs[first]) or not 0 <= end_offset <= len(paragraphs[last]):
            raise Problem("an offset is outside its paragraph")
        if first == last and start_offset >= end_offset:
            raise Problem(f"span {start_offset}-{end_offset} is empty or runs backwards")
        pieces = [paragraphs[i][start_offset if i == first else 0: end_offset if i == last else None]
                  for i in range(first, last + 1)]
        # Label Studio writes paragraph indexes as strings
        return {"start": str(first), "end": str(last), "startOffset": start_offset, "endOffset": end_offset,
                "text": "\n".join(pieces)}

    def warnings(self, value: dict[str, Any], ctx: RenderContext, to_name: str) -> list[str]:
        expected = self.geometry(value, ctx, to_name)["text"]
        if "text" in value and value["text"] != expected:
            return [f"value.text {value['text']!r} differs from the paragraphs' text {expected!r}"]
        return []
