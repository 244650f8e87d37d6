"""Label Studio's brush-mask RLE (thi-ng `rle-pack`, not COCO's), read and written with numpy.

What is encoded is the flat RGBA array of a canvas at the image's natural size (height x width x 4);
the mask is the alpha channel. The bit stream, most significant bit first: 32 bits the value count,
5 bits word size - 1, four 4-bit run-field widths - 1, then records until every value is there:
1 bit kind (1: one word repeated, 0: a literal sequence), 2 bits which width, that many bits count - 1,
then one word (a run) or `count` words (a literal).

`encode` writes exactly the bytes Label Studio's SDK writes (`mask2rle`: each pixel's 0/255 in all four
channels, widths 3/4/8/16, runs over 65,536 split, a whole zero byte of padding when the bits end on a
byte), so masks made here read the same everywhere; but it packs the records in numpy, where the SDK
builds a string of '0' and '1' characters and takes minutes on a large mask. `decode` reads any widths
and literal sequences, as Label Studio's editor writes them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

WIDTHS = (3, 4, 8, 16)  # the SDK's run-field widths
HEADER_BITS = 32 + 5 + 4 * 4
LONGEST = 1 << 16  # the most values one record holds with a 16-bit count


class RLEError(ValueError):
    """An RLE that cannot be a mask of the size it claims."""


def encode(mask: np.ndarray) -> list[int]:
    """A 2-D mask (anything > 0 is set) as Label Studio RLE bytes, the SDK's exact output."""
    if mask.ndim != 2:
        raise ValueError("a mask is a 2-D array (height x width)")
    lengths, words = _runs(np.where(mask > 0, 255, 0).astype(np.uint8).ravel())
    return _encode_runs(lengths * 4, words, mask.size * 4)  # a pixel's run is 4 times as long in RGBA


def encode_values(values: np.ndarray) -> list[int]:
    """Flat uint8 values (an RGBA array) as RLE bytes."""
    return _encode_runs(*_runs(values), int(values.size))


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not values.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ends = np.append(np.flatnonzero(values[1:] != values[:-1]), values.size - 1)
    return np.diff(np.append(-1, ends)).astype(np.int64), values[ends].astype(np.int64)


def _encode_runs(lengths: np.ndarray, words: np.ndarray, n: int) -> list[int]:
    # a run longer than 65,536 becomes 65,536-long pieces and the rest, each with a 16-bit count
    pieces = np.where(lengths > 256, (lengths - 1) // LONGEST + 1, 1)
    words, long_run = np.repeat(words, pieces), np.repeat(lengths > 256, pieces)
    counts = np.repeat(lengths, pieces)
    first = np.cumsum(pieces) - pieces  # each run's first piece
    index_in_run = np.arange(int(pieces.sum())) - np.repeat(first, pieces)
    last_piece = index_in_run == np.repeat(pieces, pieces) - 1
    counts = np.where(long_run & ~last_piece, LONGEST, counts - index_in_run * LONGEST)
    width_index = np.select([counts <= 8, counts <= 16, counts <= 256], [0, 1, 2], 3)
    width_index = np.where(long_run, 3, width_index)
    kind = (counts > 1).astype(np.int64)  # a single value is a literal sequence of one
    widths = np.asarray(WIDTHS, np.int64)[width_index]
    code = (kind << (2 + widths + 8)) | (width_index << (widths + 8)) | ((counts - 1) << 8) | words
    length = 11 + widths
    header = (n << 21) | (7 << 16) | sum((w - 1) << (12 - 4 * i) for i, w in enumerate(WIDTHS))
    return _pack(np.append(np.int64(header), code), np.append(np.int64(HEADER_BITS), length))


def _pack(code: np.ndarray, length: np.ndarray) -> list[int]:
    """Fields of `length` bits each (at most 53), one after another, as bytes: one pass per bit
    position, not per bit."""
    total = int(length.sum())
    bits = np.zeros(total + 8 - total % 8, np.uint8)  # the SDK always pads, a whole byte when even
    offsets = np.cumsum(length) - length
    for b in range(int(length.max()) if length.size else 0):
        has = length > b
        shift = (length[has] - 1 - b).astype(np.uint64)
        bits[offsets[has] + b] = (code[has].astype(np.uint64) >> shift) & np.uint64(1)
    return np.packbits(bits).tolist()


def _windows(data: bytes) -> list[int]:
    """For each byte of the stream, the 40 bits starting there (numpy, once): any field of up to
    32 bits at any bit position is then one list lookup and a shift, not a slice of bytes."""
    padded = np.frombuffer(data + b"\0" * 5, np.uint8).astype(np.uint64)
    n = len(data)
    out = np.zeros(n, np.uint64)
    for k in range(5):
        out |= padded[k:k + n] << np.uint64(8 * (4 - k))
    return out.tolist()


def _records(rle: Sequence[int] | bytes, expected: int | None) -> tuple[np.ndarray, np.ndarray, int]:
    """The runs an RLE holds (lengths, values) and its value count. `expected` (width x height x 4)
    is checked against the header first, so a hostile count cannot ask for gigabytes."""
    try:
        data = bytes(rle)
    except (TypeError, ValueError):
        raise RLEError("rle must be a list of byte values 0-255") from None
    windows, end = _windows(data), len(data) * 8

    def read(pos: int, n: int) -> int:
        if pos + n > end:
            raise RLEError("the RLE ends in the middle of a record")
        return (windows[pos >> 3] >> (40 - (pos & 7) - n)) & ((1 << n) - 1)

    n = read(0, 32)
    if expected is not None and n != expected:
        raise RLEError(f"the RLE holds {n} values, but an RGBA mask of this image has {expected}")
    word = read(32, 5) + 1
    widths = [read(37 + 4 * k, 4) + 1 for k in range(4)]
    if word != 8:
        raise RLEError(f"the RLE's word size is {word} bits; masks use 8")
    lengths: list[int] = []
    values: list[int] = []
    i, pos = 0, HEADER_BITS
    while i < n:
        head = read(pos, 3)  # kind, then which count width
        width = widths[head & 3]
        count = 1 + read(pos + 3, width)
        pos += 3 + width
        if i + count > n:
            raise RLEError(f"the RLE holds more values than its header's {n}")
        if head >> 2:
            lengths.append(count)
            values.append(read(pos, 8))
            pos += 8
        else:
            lengths.extend([1] * count)
            values.extend(read(pos + 8 * k, 8) for k in range(count))
            pos += 8 * count
        i += count
    return np.asarray(lengths, np.int64), np.asarray(values, np.uint8), n


def decode_values(rle: Sequence[int] | bytes, expected: int | None = None) -> np.ndarray:
    """The flat values an RLE holds."""
    lengths, values, _ = _records(rle, expected)
    return np.repeat(values, lengths)


def decode(rle: Sequence[int] | bytes, width: int, height: int) -> np.ndarray:
    """The mask an RLE holds for an image of width x height: a bool array (height x width) of the
    alpha channel, set where > 0, as Label Studio's converters read it."""
    lengths, values, _ = _records(rle, width * height * 4)
    if not (lengths % 4).any():  # runs of whole pixels (the SDK's and our masks): no RGBA array needed
        return np.repeat(values > 0, lengths // 4).reshape(height, width)
    return np.repeat(values, lengths).reshape(height, width, 4)[:, :, 3] > 0
