"""Export formats: Label Studio's JSON, JSON_MIN, CSV, TSV, JSONL, CoNLL 2003, COCO, YOLO, Pascal VOC,
ASR manifest, audio segments and time series ranges as CSV, brush masks as PNG or NumPy files.
Each writer takes a function that opens the task records (in id order, a batch at a time) and
yields text or bytes: nothing holds the whole project."""

from __future__ import annotations

import csv
import io
import math
import orjson
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from xml.sax.saxutils import escape

from app.data_export.masks import (MASK_TYPES, SKIPPED_FILE, RLEError, brush_files, coco_mask, label_layers, npy_bytes,
                                   png_bytes, read_mask)
from app.data_export.tokens import tokens_and_tags
from components import LabelConfig

Records = Callable[[], AsyncIterator[dict[str, Any]]]
IMAGE_TYPES = ("rectanglelabels", "polygonlabels", "keypointlabels")
COCO_TYPES = (*IMAGE_TYPES, "brushlabels")


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def clean(record: dict) -> dict:
    return {k: v for k, v in record.items() if not k.startswith("_")}


async def write_json(records: Records, config: LabelConfig) -> AsyncIterator[str]:
    yield "["
    first = True
    async for record in records():
        yield ("\n" if first else ",\n") + dumps(clean(record))
        first = False
    yield "\n]\n"


async def write_jsonl(records: Records, config: LabelConfig) -> AsyncIterator[str]:
    async for record in records():
        yield dumps(clean(record)) + "\n"


def min_rows(record: dict, config: LabelConfig, data_prefix: str = "") -> list[dict[str, Any]]:
    """Label Studio's JSON_MIN: one flat row per finished annotation (a bare row for a task without).
    A data key named like a control is written as `<data_prefix><key>` when a prefix is given."""
    controls = {c.name for c in config.controls}
    data = {(f"{data_prefix}{k}" if data_prefix and k in controls else k): v for k, v in record["data"].items()}
    done = [a for a in record["annotations"] if not a["was_cancelled"]]
    if not done:
        return [{**data, "id": record["id"]}]
    rows = []
    for a in sorted(done, key=lambda a: a["id"], reverse=True):
        row: dict[str, Any] = {**data, "id": record["id"]}
        values: dict[str, list] = {}
        for item in a["result"]:
            if item.get("type") == "relation" or "from_name" not in item:
                continue
            value = dict(item.get("value", {}))
            for extra in ("original_width", "original_height"):
                if extra in item:
                    value[extra] = item[extra]
            values.setdefault(item["from_name"], []).append(value)
        for name, found in values.items():
            control = config.by_name.get(name)
            key = getattr(control, "value_key", None)
            single = found[0].get(key) if len(found) == 1 and key in ("choices", "text") else None
            row[name] = single[0] if isinstance(single, list) and len(single) == 1 else (
                found[0] if key in ("choices", "text") and len(found) == 1 else found)
        row.update(annotator=a["completed_by"], annotation_id=a["id"], created_at=a["created_at"],
                   updated_at=a["updated_at"], lead_time=a["lead_time"])
        rows.append(row)
    return rows


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """OWASP's rule against CSV injection, for any spreadsheet-bound cell: text that starts with
    = + - @, a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it instead
    of running it. Numbers and other text are returned as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """A CSV cell: numbers stay numbers, structures become JSON, text is made formula-safe."""
    if isinstance(value, bool) or value is None or not isinstance(value, (str, int, float)):
        value = "" if value is None else dumps(value)
    return formula_safe(value)


async def write_json_min(records: Records, config: LabelConfig) -> AsyncIterator[str]:
    yield "["
    first = True
    async for record in records():
        for row in min_rows(record, config):
            yield ("\n" if first else ",\n") + dumps(row)
            first = False
    yield "\n]\n"


def table_writer(delimiter: str) -> Callable[[Records, LabelConfig], AsyncIterator[str]]:
    async def write(records: Records, config: LabelConfig, data_keys: list[str] | None = None) -> AsyncIterator[str]:
        controls = [c.name for c in config.controls]
        fixed = ["id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time"]
        keys = set(config.data_keys()) | set(data_keys or [])
        columns = sorted({*(f"_data_{k}" if k in controls else k for k in keys), *controls, *fixed})
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_NONNUMERIC)
        # the header too: its names come from task data and the config, so they may be formulas
        writer.writerow([formula_safe(column) for column in columns])
        async for record in records():
            for row in min_rows(record, config, data_prefix="_data_"):
                writer.writerow([cell(row.get(column)) for column in columns])
            if buffer.tell() > 1 << 16:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return write


async def write_conll(records: Records, config: LabelConfig) -> AsyncIterator[str]:
    """As Label Studio's converter writes it: a document per finished annotation, newest first (a
    task without annotations gives one of all O), tokens as app/data_export/tokens.py splits them,
    each document followed by a blank line."""
    labels = next(c for c in config.controls if c.result_type == "labels")
    text_key = config.by_name[labels.to_names[0]].get("value", "$text").lstrip("$")
    span_controls = {c.name for c in config.controls if c.tag == "Labels"}
    controls = {c.name for c in config.controls}
    # the converter writes no blank line after -DOCSTART-; CoNLL 2003 has one, and spaCy's reader needs it
    yield "-DOCSTART- -X- O\n\n"
    async for record in records():
        text = str(record["data"].get(text_key, ""))
        done = [a for a in record["annotations"] if not a["was_cancelled"]]
        if not record["annotations"]:
            documents: list[list[dict]] = [[]]
        else:
            documents = []
            for a in sorted(done, key=lambda a: a["created_at"] or "", reverse=True):
                by_control: dict[str, list[dict]] = {}
                for item in a["result"] or []:
                    if item.get("from_name") in controls and isinstance(item.get("value"), dict):
                        by_control.setdefault(item["from_name"], []).append(item["value"])
                documents.append(next((v for name, v in by_control.items() if name in span_controls), []))
        for spans in documents:
            yield "".join(f"{token} -X- _ {tag}\n" for token, tag in tokens_and_tags(text, spans)) + "\n"


def image_labels(config: LabelConfig) -> list[str]:
    names: list[str] = []
    for control in config.controls:
        if control.result_type in COCO_TYPES:
            names += [v for v in control.label_values() if v not in names]
    return names


def image_of(record: dict, config: LabelConfig) -> tuple[str, int, int, list[dict]]:
    """(file name, width, height, shapes) of a task's image and its first finished annotation."""
    image = next(o for o in config.objects if o.tag == "Image")
    url = str(record["data"].get(image.get("value", "$image").lstrip("$"), ""))
    done = [a for a in record["annotations"] if not a["was_cancelled"]]
    shapes = [i for i in (done[0]["result"] if done else []) if i.get("type") in (*IMAGE_TYPES, *MASK_TYPES)]
    width = next((i["original_width"] for i in shapes if i.get("original_width")), None)
    height = next((i["original_height"] for i in shapes if i.get("original_height")), None)
    if (not width or not height) and record.get("_size"):
        width, height = record["_size"]
    name = PurePosixPath(url.split("?")[0]).name or "image"
    return name, width or 0, height or 0, shapes


def unique_stem(name: str, record: dict) -> str:
    """One file per task in YOLO/VOC archives, even when two images share a file name."""
    return f"{PurePosixPath(name).stem}-{record['id']}"


def box_pixels(shape: dict, width: int, height: int) -> tuple[float, float, float, float]:
    v = shape["value"]
    if shape["type"] == "polygonlabels":
        xs, ys = [p[0] for p in v["points"]], [p[1] for p in v["points"]]
        return min(xs) * width / 100, min(ys) * height / 100, (max(xs) - min(xs)) * width / 100, (max(ys) - min(ys)) * height / 100
    if shape["type"] == "keypointlabels":
        return v["x"] * width / 100, v["y"] * height / 100, 0.0, 0.0
    x, y, w, h = v["x"] * width / 100, v["y"] * height / 100, v["width"] * width / 100, v["height"] * height / 100
    if v.get("rotation"):  # the box turns about its top-left corner: export the box around it
        turn = math.radians(v["rotation"])
        corners = [(x + cx * math.cos(turn) - cy * math.sin(turn), y + cx * math.sin(turn) + cy * math.cos(turn))
                   for cx, cy in ((0, 0), (w, 0), (w, h), (0, h))]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
    return x, y, w, h


def label_of(shape: dict) -> str | None:
    found = shape["value"].get(shape["type"]) or []
    return found[0] if found else None


async def write_coco(records: Records, config: LabelConfig) -> AsyncIterator[str]:
    names = image_labels(config)
    categories = [{"id": i, "name": n} for i, n in enumerate(names)]
    yield '{"info": {"description": "Labelwell export", "version": "1.0"}, "licenses": [],\n'
    yield '"categories": ' + dumps(categories) + ',\n"images": ['
    first = True
    async for record in records():
        name, width, height, _ = image_of(record, config)
        yield ("\n" if first else ",\n") + dumps({"id": record["id"], "file_name": name, "width": width, "height": height})
        first = False
    yield '\n],\n"annotations": ['
    first, next_id, skipped = True, 1, []
    async for record in records():
        _, width, height, shapes = image_of(record, config)
        for shape in shapes:
            label = label_of(shape)
            if label not in names:
                continue
            if shape["type"] in MASK_TYPES:
                try:  # a mask of another size than its image's is left out, and listed at the end
                    mask = coco_mask(read_mask(shape, record.get("_size")))
                except RLEError as error:
                    skipped.append(f"task {record['id']} mask {shape.get('id')!r}: {error}")
                    continue
                item = {"id": next_id, "image_id": record["id"], "category_id": names.index(label), **mask, "ignore": 0}
                yield ("\n" if first else ",\n") + dumps(item)
                first, next_id = False, next_id + 1
                continue
            x, y, w, h = box_pixels(shape, width, height)
            segmentation = ([[c for p in shape["value"]["points"] for c in (p[0] * width / 100, p[1] * height / 100)]]
                            if shape["type"] == "polygonlabels" else [])
            item = {"id": next_id, "image_id": record["id"], "category_id": names.index(label), "bbox": [x, y, w, h],
                    "area": w * h, "iscrowd": 0, "ignore": 0, "segmentation": segmentation}
            yield ("\n" if first else ",\n") + dumps(item)
            first, next_id = False, next_id + 1
    yield "\n]" + (',\n"skipped_masks": ' + dumps(skipped) if skipped else "") + "}\n"


async def zipped(files: AsyncIterator[tuple[str, str]]) -> AsyncIterator[bytes]:
    """A zip built in a temporary file (rolled to disk past 16 MB), then sent in chunks."""
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
            async for name, text in files:
                archive.writestr(name, text)
        spool.seek(0)
        while chunk := spool.read(1 << 20):
            yield chunk


async def write_brush_png(records: Records, config: LabelConfig) -> AsyncIterator[bytes]:
    async for chunk in zipped(brush_files(records, "png", png_bytes)):
        yield chunk


async def write_masks_png(records: Records, config: LabelConfig) -> AsyncIterator[bytes]:
    """For training: each image's masks merged per label, one PNG per image and label."""
    async def files() -> AsyncIterator[tuple[str, bytes | str]]:
        skipped: list[str] = []
        async for record in records():
            name, _, _, shapes = image_of(record, config)
            for label, mask in label_layers(record, [s for s in shapes if s["type"] in MASK_TYPES], skipped):
                yield f"{unique_stem(name, record)}/{label}.png", png_bytes(mask)
        if skipped:
            yield SKIPPED_FILE, "Masks left out (not a mask of the image's size):\n" + "\n".join(skipped) + "\n"

    async for chunk in zipped(files()):
        yield chunk


async def write_brush_numpy(records: Records, config: LabelConfig) -> AsyncIterator[bytes]:
    async for chunk in zipped(brush_files(records, "npy", npy_bytes)):
        yield chunk


async def write_yolo(records: Records, config: LabelConfig) -> AsyncIterator[bytes]:
    names = image_labels(config)

    async def files() -> AsyncIterator[tuple[str, str]]:
        yield "classes.txt", "\n".join(names) + "\n"
        yield "notes.json", dumps({"categories": [{"id": i, "name": n} for i, n in enumerate(names)],
                                   "info": {"year": 2026, "version": "1.0", "contributor": "Labelwell"}})
        async for record in records():
            name, width, height, shapes = image_of(record, config)
            lines = []
            for shape in shapes:
                label = label_of(shape)
                if label in names and shape["type"] == "rectanglelabels":
                    v = shape["value"]
                    lines.append(f"{names.index(label)} {(v['x'] + v['width'] / 2) / 100:.6f} "
                                 f"{(v['y'] + v['height'] / 2) / 100:.6f} {v['width'] / 100:.6f} {v['height'] / 100:.6f}")
            yield f"labels/{unique_stem(name, record)}.txt", "\n".join(lines) + ("\n" if lines else "")

    async for chunk in zipped(files()):
        yield chunk


async def write_voc(records: Records, config: LabelConfig) -> AsyncIterator[bytes]:
    async def files() -> AsyncIterator[tuple[str, str]]:
        async for record in records():
            name, width, height, shapes = image_of(record, config)
            objects = []
            for shape in shapes:
                if shape["type"] != "rectanglelabels" or not label_of(shape):
                    continue
                x, y, w, h = box_pixels(shape, width, height)
                objects.append(f"  <object><name>{escape(label_of(shape))}</name><pose>Unspecified</pose>"
                               f"<truncated>0</truncated><difficult>0</difficult><bndbox><xmin>{round(x)}</xmin>"
                               f"<ymin>{round(y)}</ymin><xmax>{round(x + w)}</xmax><ymax>{round(y + h)}</ymax>"
                               "</bndbox></object>")
            body = "\n".join(objects)
            yield (f"Annotations/{unique_stem(name, record)}.xml",
                   f"<annotation>\n  <folder>images</folder><filename>{escape(name)}</filename>\n"
                   f"  <size><width>{width}</width><height>{height}</height><depth>3</depth></size>\n"
                   f"  <segmented>0</segmented>\n{body}\n</annotation>\n")

    async for chunk in zipped(files()):
        yield chunk


AUDIO_TAGS = ("Audio", "AudioPlus")


def transcript_of(annotation: dict, transcripts: set[str]) -> str | None:
    """The first text of the annotation's first transcript result (as Label Studio's converter picks it)."""
    for item in annotation["result"] or []:
        value = item.get("value") if isinstance(item, dict) else None
        if item.get("from_name") in transcripts and isinstance(value, dict) and isinstance(value.get("text"), list) \
                and value["text"] and isinstance(value["text"][0], str):
            return value["text"][0]
    return None


async def write_asr_manifest(records: Records, config: LabelConfig) -> AsyncIterator[str]:
    """Label Studio's ASR_MANIFEST, the manifest NeMo and similar trainers read: a JSON line per
    finished annotation with a transcript, `{"audio_filepath", "duration", "text", "annotator"}`. The
    duration is the file's, read with ffprobe when it was uploaded, else the results' `original_length`;
    Label Studio downloads every file to measure it, which this never needs to."""
    audio = next(o for o in config.objects if o.tag in AUDIO_TAGS)
    key = (audio.get("value") or "$audio").lstrip("$")
    transcripts = {c.name for c in config.controls if c.tag == "TextArea"}
    async for record in records():
        for annotation in sorted(record["annotations"], key=lambda a: a["id"]):
            text = None if annotation["was_cancelled"] else transcript_of(annotation, transcripts)
            if text is None:
                continue
            lengths = [i["original_length"] for i in annotation["result"] or [] if isinstance(i, dict)
                       and isinstance(i.get("original_length"), (int, float)) and not isinstance(i["original_length"], bool)]
            yield dumps({"audio_filepath": record["data"].get(key), "duration": record.get("_duration") or
                         (lengths[0] if lengths else None), "text": text, "annotator": str(annotation["completed_by"])}) + "\n"


SEGMENT_COLUMNS = ["task_id", "annotation_id", "annotator", "audio", "start", "end", "channel", "labels", "transcript"]


def segment_rows(record: dict, audio_keys: dict[str, str], transcripts: set[str]) -> list[list[Any]]:
    """One row per time segment of the record's finished annotations: the segment's `labels` item,
    and the text of a per-region TextArea item with the same region id."""
    rows = []
    for annotation in sorted(record["annotations"], key=lambda a: a["id"]):
        items = [i for i in annotation["result"] or [] if isinstance(i, dict) and isinstance(i.get("value"), dict)]
        texts = {i.get("id"): "\n".join(t for t in i["value"].get("text") or [] if isinstance(t, str))
                 for i in items if i.get("from_name") in transcripts and isinstance(i["value"].get("text"), list)}
        for item in items if not annotation["was_cancelled"] else []:
            value = item["value"]
            if item.get("to_name") not in audio_keys or item.get("type") != "labels" or "start" not in value:
                continue
            rows.append([record["id"], annotation["id"], annotation["completed_by"],
                         record["data"].get(audio_keys[item["to_name"]]), value.get("start"), value.get("end"),
                         value.get("channel", 0), value.get("labels") or [], texts.get(item.get("id"), "")])
    return rows


async def csv_rows(records: Records, columns: list[str],
                   rows_of: Callable[[dict], list[list[Any]]]) -> AsyncIterator[str]:
    """A CSV of `columns`, a row per item `rows_of(record)` finds, written a buffer at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    async for record in records():
        for row in rows_of(record):
            writer.writerow([cell(v) for v in row])
        if buffer.tell() > 1 << 16:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_audio_segments(records: Records, config: LabelConfig) -> AsyncIterator[str]:
    """Every audio segment as a CSV row (SEGMENT_COLUMNS): times in seconds, labels as a JSON list,
    the segment's transcript when a `<TextArea perRegion>` gave one; tasks in id order, then
    annotations, each annotation's segments in the order it holds them."""
    audio_keys = {o.name: (o.get("value") or "$audio").lstrip("$") for o in config.objects if o.tag in AUDIO_TAGS}
    transcripts = {c.name for c in config.controls if c.tag == "TextArea"}
    return csv_rows(records, SEGMENT_COLUMNS, lambda record: segment_rows(record, audio_keys, transcripts))


RANGE_COLUMNS = ["task_id", "annotation_id", "annotator", "series", "start", "end", "instant", "labels", "choices",
                 "text"]


def range_rows(record: dict) -> list[list[Any]]:
    """One row per `timeserieslabels` region of the record's finished annotations, with the choices and
    the text that per-region controls gave the same region id."""
    rows = []
    for annotation in sorted(record["annotations"], key=lambda a: a["id"]):
        if annotation["was_cancelled"]:
            continue
        items = [i for i in annotation["result"] or [] if isinstance(i, dict) and isinstance(i.get("value"), dict)]
        choices: dict[Any, list] = {}
        texts: dict[Any, list] = {}
        for item in items:
            value = item["value"]
            if item.get("type") == "choices" and isinstance(value.get("choices"), list):
                choices.setdefault(item.get("id"), []).extend(value["choices"])
            elif item.get("type") == "textarea" and isinstance(value.get("text"), list):
                texts.setdefault(item.get("id"), []).extend(t for t in value["text"] if isinstance(t, str))
        for item in items:
            value = item["value"]
            if item.get("type") != "timeserieslabels" or "start" not in value:
                continue
            rid = item.get("id")
            rows.append([record["id"], annotation["id"], annotation["completed_by"], item.get("to_name"),
                         value.get("start"), value.get("end"), bool(value.get("instant", False)),
                         value.get("timeserieslabels") or [], choices.get(rid, []), "\n".join(texts.get(rid, []))])
    return rows


def write_time_series_ranges(records: Records, config: LabelConfig) -> AsyncIterator[str]:
    """Every time series range (or instant) as a CSV row (RANGE_COLUMNS): bounds as the results hold them
    (numbers, or timeFormat strings), labels and choices as JSON lists, the region's texts one per line."""
    return csv_rows(records, RANGE_COLUMNS, range_rows)


@dataclass(frozen=True)
class Format:
    name: str
    title: str
    media_type: str
    extension: str
    writer: Callable[..., AsyncIterator[Any]]
    needs: Callable[[LabelConfig], bool] = lambda config: True
    wants_data_keys: bool = False  # CSV/TSV: the columns are every data key of the project


def has(config: LabelConfig, object_tag: str, *types: str) -> bool:
    return any(o.tag == object_tag for o in config.objects) and any(c.result_type in types for c in config.controls)


def single_key(config: LabelConfig) -> bool:
    return len(config.required_keys()) <= 1


FORMATS = {f.name: f for f in (
    Format("JSON", "Label Studio JSON: tasks with annotations and predictions", "application/json", "json", write_json),
    Format("JSON_MIN", "JSON, one flat record per annotation", "application/json", "json", write_json_min),
    Format("CSV", "CSV, one row per annotation", "text/csv", "csv", table_writer(","), wants_data_keys=True),
    Format("TSV", "TSV, one row per annotation", "text/tab-separated-values", "tsv", table_writer("\t"),
           wants_data_keys=True),
    Format("JSONL", "JSON Lines: one task record per line", "application/x-ndjson", "jsonl", write_jsonl),
    Format("CONLL2003", "CoNLL 2003 (text spans)", "text/plain", "conll", write_conll,
           lambda c: single_key(c) and has(c, "Text", "labels")),
    Format("COCO", "COCO (boxes, polygons and brush masks as RLE)", "application/json", "json", write_coco,
           lambda c: single_key(c) and has(c, "Image", *COCO_TYPES)),
    Format("YOLO", "YOLO (boxes), zipped", "application/zip", "zip", write_yolo,
           lambda c: single_key(c) and has(c, "Image", "rectanglelabels")),
    Format("VOC", "Pascal VOC (boxes), zipped", "application/zip", "zip", write_voc,
           lambda c: single_key(c) and has(c, "Image", "rectanglelabels")),
    Format("ASR_MANIFEST", "ASR manifest: a JSON line per transcript (NeMo)", "application/x-ndjson", "json",
           write_asr_manifest, lambda c: any(has(c, tag, "textarea") for tag in AUDIO_TAGS)),
    Format("AUDIO_SEGMENTS_CSV", "Audio segments: a CSV row per segment, with its labels and transcript", "text/csv",
           "csv", write_audio_segments, lambda c: any(has(c, tag, "labels") for tag in AUDIO_TAGS)),
    Format("TIMESERIES_RANGES_CSV", "Time series ranges: a CSV row per range or instant, with its labels",
           "text/csv", "csv", write_time_series_ranges, lambda c: has(c, "TimeSeries", "timeserieslabels")),
    Format("BRUSH_TO_PNG", "Brush masks as PNG images (one per mask, 0/255 grayscale), zipped", "application/zip",
           "zip", write_brush_png, lambda c: has(c, "Image", *MASK_TYPES)),
    Format("MASKS_PNG", "Masks per image and label: a folder per image, a PNG per label (its masks merged, 0/255), "
           "from the image's first finished annotation, zipped", "application/zip", "zip", write_masks_png,
           lambda c: has(c, "Image", *MASK_TYPES)),
    Format("BRUSH_TO_NUMPY", "Brush masks as NumPy 2-D arrays (.npy, one per mask), zipped", "application/zip",
           "zip", write_brush_numpy, lambda c: has(c, "Image", *MASK_TYPES)),
)}


def available(config: LabelConfig) -> list[Format]:
    return [f for f in FORMATS.values() if f.needs(config)]
