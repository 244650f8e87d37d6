"""Brush masks (Label Studio RLE) in exports: BRUSH_TO_PNG and BRUSH_TO_NUMPY zips named as Label
Studio's converter names them, and the COCO RLE that the COCO export writes for a mask.
A mask that cannot be read at its image's size is left out and listed, never a failed download."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
from PIL import Image

from components.rle import RLEError, decode

log = logging.getLogger("labelwell.export")

MASK_TYPES = ("brushlabels", "brush")
SKIPPED_FILE = "skipped.txt"


def is_mask(item: Any) -> bool:
    return isinstance(item, dict) and item.get("type") in MASK_TYPES and isinstance(item.get("value"), dict)


def mask_labels(item: dict) -> list[str]:
    # an unlabelled <Brush> has no labels; Label Studio's converter calls that layer "no_label"
    labels = item["value"].get("brushlabels")
    return [str(x) for x in labels] if isinstance(labels, list) and labels else ["no_label"]


def read_mask(item: dict, size: tuple[int, int] | None = None) -> np.ndarray:
    """The item's mask as a bool (height, width) array; RLEError when it is not a mask of its image."""
    width, height = item.get("original_width"), item.get("original_height")
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        raise RLEError("original_width and original_height must be positive whole numbers")
    if size and tuple(size) != (width, height):
        raise RLEError(f"the mask is {width}x{height} but the image is {size[0]}x{size[1]}")
    return decode(item["value"].get("rle") or [], width, height)


def skip_note(record: dict, annotation_id: Any, item: dict, error: Exception) -> str:
    log.warning("export: mask %s of task %s left out: %s", item.get("id"), record["id"], error)
    return f"task {record['id']} annotation {annotation_id} mask {item.get('id')!r}: {error}"


def layers(record: dict, annotation: dict, skipped: list[str]) -> list[tuple[str, np.ndarray]]:
    """(file stem, 0/255 uint8 mask) per mask of a finished annotation, as Label Studio's
    `save_brush_images_from_annotation` names them: one file per mask result, numbered per layer."""
    by = "".join(x for x in str(annotation["completed_by"]) if x.isalnum() or x in "@.")
    counters: dict[str, int] = {}
    out = []
    for item in annotation["result"] or []:
        if not is_mask(item):
            continue
        try:
            mask = read_mask(item, record.get("_size"))
        except RLEError as error:
            skipped.append(skip_note(record, annotation["id"], item, error))
            continue
        layer = (f"{item.get('from_name')}-" + "-".join(mask_labels(item))).replace("/", "-").replace("\\", "-")
        n = counters[layer] = counters.get(layer, -1) + 1
        stem = f"task-{record['id']}-annotation-{annotation['id']}-by-{by}-{layer}-{n}"
        out.append((stem, np.where(mask, 255, 0).astype(np.uint8)))
    return out


def label_layers(record: dict, items: list[dict], skipped: list[str]) -> list[tuple[str, np.ndarray]]:
    """(label, 0/255 uint8 mask) per label of one annotation's masks, each label's masks merged."""
    merged: dict[str, np.ndarray] = {}
    for item in items:
        try:
            mask = read_mask(item, record.get("_size"))
        except RLEError as error:
            skipped.append(skip_note(record, "", item, error))
            continue
        for label in mask_labels(item):
            if label in merged and merged[label].shape != mask.shape:
                skipped.append(skip_note(record, "", item, RLEError("its size differs from the label's other masks")))
                continue
            merged[label] = merged[label] | mask if label in merged else mask
    return [(label.replace("/", "-").replace("\\", "-"), np.where(mask, 255, 0).astype(np.uint8))
            for label, mask in merged.items()]


def png_bytes(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, format="PNG")  # 2-D uint8: 8-bit grayscale ("L")
    return buffer.getvalue()


def npy_bytes(mask: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, mask)
    return buffer.getvalue()


async def brush_files(records: Callable[[], AsyncIterator[dict]], extension: str,
                      to_bytes: Callable[[np.ndarray], bytes]) -> AsyncIterator[tuple[str, bytes | str]]:
    """Every finished annotation's masks as zip members, then SKIPPED_FILE if any mask was left out."""
    skipped: list[str] = []
    async for record in records():
        for annotation in record["annotations"]:
            if not annotation["was_cancelled"]:
                for stem, mask in layers(record, annotation, skipped):
                    yield f"{stem}.{extension}", to_bytes(mask)
    if skipped:
        yield SKIPPED_FILE, "Masks left out (not a mask of the image's size):\n" + "\n".join(skipped) + "\n"


def coco_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO's uncompressed RLE: run lengths over the column-major pixels, starting with a run of 0s."""
    flat = mask.astype(bool).ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"counts": counts, "size": [int(mask.shape[0]), int(mask.shape[1])]}


def coco_mask(mask: np.ndarray) -> dict[str, Any]:
    """segmentation, area and tight bbox of a mask, as a COCO annotation holds them."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    bbox = ([int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]
            if rows.size else [0, 0, 0, 0])
    return {"segmentation": coco_rle(mask), "area": int(mask.sum()), "bbox": bbox, "iscrowd": 1}
