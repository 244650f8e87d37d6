"""Brush masks between Label Studio's RLE and PNG, on the server, so the browser never runs the RLE:
the page shows each mask as a two-colour PNG, and the brush sends back the PNG it painted, which
becomes RLE here (components/rle.py). Label Studio's editor decodes and encodes RLE in JavaScript,
which is what freezes its pages on large masks."""

from __future__ import annotations

import base64
import binascii
import io
import struct
import zlib
from functools import lru_cache

import numpy as np
from PIL import Image, UnidentifiedImageError

from components import rle
from components.base import Problem

MAX_PIXELS = 100_000_000  # the largest mask read from a browser's PNG (a 10,000 x 10,000 image)
PNG_PREFIX = "data:image/png;base64,"


def _rgb(color: str) -> tuple[int, int, int]:
    text = color.lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    except (ValueError, IndexError):
        return 255, 64, 64  # a named colour: one fixed red rather than a guess


@lru_cache(maxsize=256)
def _shown(data: bytes, width: int, height: int, color: str) -> tuple[str, int]:
    mask = rle.decode(data, width, height)
    return PNG_PREFIX + base64.b64encode(two_colour_png(mask, _rgb(color))).decode("ascii"), int(mask.sum())


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def two_colour_png(mask: np.ndarray, rgb: tuple[int, int, int]) -> bytes:
    """A 1-bit palette PNG of a mask: transparent where unset, `rgb` where set. Written here in
    numpy (rows packed 8 pixels a byte, zlib's fastest level): 12 MP in about 20 ms, where
    Pillow's palette encoder takes over ten times as long."""
    height, width = mask.shape
    rows = np.packbits(mask, axis=1)
    raw = np.zeros((height, rows.shape[1] + 1), np.uint8)  # each row starts with filter type 0
    raw[:, 1:] = rows
    header = struct.pack(">IIBBBBB", width, height, 1, 3, 0, 0, 0)  # bit depth 1, palette
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"PLTE", bytes((0, 0, 0, *rgb)))
            + _chunk(b"tRNS", b"\x00") + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 1)) + _chunk(b"IEND", b""))


def shown(value: dict, width: int, height: int, color: str) -> dict:
    """A stored mask for the page: a PNG data URI in the label's colour (transparent elsewhere) and
    its pixel count, or the reason it cannot be shown. Cached: a re-render after every change
    decodes only the mask that changed."""
    try:
        src, pixels = _shown(bytes(value.get("rle") or []), width, height, color)
    except (rle.RLEError, TypeError, ValueError) as exc:
        return {"src": None, "pixels": 0, "error": str(exc)}
    return {"src": src, "pixels": pixels, "error": None}


def from_png(url: object, width: int, height: int) -> np.ndarray:
    """The mask a browser painted: a PNG data URL of the image's natural size, set where its alpha
    (or, without alpha, its grey) is above 0."""
    if not isinstance(url, str) or not url.startswith(PNG_PREFIX):
        raise Problem("value.png must be a data:image/png;base64 URL of the painted mask")
    if width * height > MAX_PIXELS:
        raise Problem(f"a mask may have at most {MAX_PIXELS:,} pixels; this image has {width * height:,}")
    try:
        with Image.open(io.BytesIO(base64.b64decode(url[len(PNG_PREFIX):], validate=True))) as image:
            if image.format != "PNG" or image.size != (width, height):
                raise Problem(f"the painted mask is {image.size[0]} x {image.size[1]} px, but the image is "
                              f"{width} x {height} (original_width x original_height)")
            bands = image.getbands()
            layer = image.getchannel("A") if "A" in bands else image.convert("L")
            return np.asarray(layer) > 0
    except (binascii.Error, UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise Problem("value.png is not a readable PNG image") from None


def check_rle(value: object, width: int | None, height: int | None) -> list[int]:
    """An imported mask's `rle`, checked without decoding it: byte values, and a header that holds
    exactly an RGBA array of the image's size (a full decode waits until the mask is shown)."""
    if not isinstance(value, list) or not value or not all(
            isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 255 for x in value):
        raise Problem("value.rle must be a non-empty list of byte values 0-255 (Label Studio's brush RLE)")
    if len(value) < 7:
        raise Problem("value.rle is too short to hold Label Studio's RLE header")
    if width and height:
        count = int.from_bytes(bytes(value[:4]), "big")
        if count != width * height * 4:
            raise Problem(f"value.rle holds {count} values, but a mask of this {width} x {height} image has "
                          f"{width * height * 4} (width x height x 4, RGBA)")
    return value
