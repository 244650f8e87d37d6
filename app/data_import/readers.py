"""Reading import files one item at a time: JSON, JSONL, CSV (comma or semicolon), TSV, TXT.
Each item comes with where it stands (line or item index) so an error can name it."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

TABLE_FORMATS = {"csv": None, "tsv": "\t"}
csv.field_size_limit(64 * 1024 * 1024)  # a long text in one cell is a task, not an error
TEXT_FORMATS = ("json", "jsonl", "csv", "tsv", "txt")
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
               "gif": "image/gif", "bmp": "image/bmp"}
AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "m4a": "audio/mp4"}
VIDEO_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "mov": "video/quicktime"}


# a run of 20 digits (19 after a minus) may be an integer beyond 64 bits: orjson reads one as a
# float (1e25 for 25 nines) or refuses it, and Python's int() refuses more than 4,300 digits outright
LONG_DIGITS = re.compile(rb"-[0-9]{19}|[0-9]{20}")
LONG_DIGITS_TEXT = re.compile(r"-[0-9]{19}|[0-9]{20}")


class TooLarge(ValueError):
    """A number in the file that no JSON column stores: an integer beyond 64 bits, or a float
    beyond a double's range."""

    def __init__(self, literal: str) -> None:
        self.literal = literal
        super().__init__(too_large(literal))


def too_large(literal: str) -> str:
    digits = sum(c.isdigit() for c in literal)
    return (f"holds a number too large to store ({digits:,} digits: whole numbers must fit in 64 bits, "
            "others in a double)")


def _exact_int(literal: str) -> int:
    if len(literal) <= 20:  # never int() on thousands of digits
        value = int(literal)
        if -2**63 <= value < 2**64:
            return value
    raise TooLarge(literal)


def _exact_float(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):
        raise TooLarge(literal)
    return value


def exact_loads(text: str | bytes) -> Any:
    """JSON with every number as it is written, or TooLarge for the first one no column can hold."""
    return json.loads(text, parse_int=_exact_int, parse_float=_exact_float)


def line_of(text: str, literal: str) -> int:
    found = text.find(literal)
    return text.count("\n", 0, found) + 1 if found >= 0 else 1


@dataclass
class Bad:
    """A piece of the file that is not an item at all (a malformed line)."""

    message: str


def format_of(name: str) -> str | None:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in TEXT_FORMATS:
        return ext
    if ext == "ndjson":
        return "jsonl"
    if ext in AUDIO_TYPES:
        return "audio"
    if ext in VIDEO_TYPES:
        return "video"
    if ext == "pdf":
        return "pdf"
    return "image" if ext in IMAGE_TYPES else None


def items(path: Path, fmt: str, text_key: str | None = None) -> Iterator[tuple[str, Any]]:
    """(where, item or Bad) for each item of the file; streams all but JSON, which is one document."""
    if fmt == "json":
        yield from _json(path)
    elif fmt == "jsonl":
        yield from _jsonl(path)
    elif fmt in TABLE_FORMATS:
        yield from _text_errors(_table(path, TABLE_FORMATS[fmt]))
    elif fmt == "txt":
        yield from _text_errors(_lines(path, text_key))


def _lines(path: Path, text_key: str | None) -> Iterator[tuple[str, Any]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for number, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if line.strip():
                yield f"line {number}", {text_key or "text": line}


def _text_errors(found: Iterator[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """A text file that stops being readable ends with one error saying where, not a crash."""
    where = "line 1"
    try:
        for where, item in found:
            yield where, item
    except UnicodeDecodeError:
        yield f"after {where}", Bad("not UTF-8 text from here on (save the file as UTF-8)")
    except csv.Error as exc:
        yield f"after {where}", Bad(f"unreadable CSV: {exc}")


def _json(path: Path) -> Iterator[tuple[str, Any]]:
    text = ""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
        root = exact_loads(text) if LONG_DIGITS_TEXT.search(text) else json.loads(text)
    except TooLarge as exc:
        yield f"line {line_of(text, exc.literal)}", Bad(str(exc))
        return
    except json.JSONDecodeError as exc:
        yield f"line {exc.lineno}", Bad(f"not valid JSON: {exc.msg} (column {exc.colno})")
        return
    except UnicodeDecodeError:
        yield "line 1", Bad("not UTF-8 text")
        return
    except RecursionError:
        yield "line 1", Bad("nested too deeply")
        return
    except ValueError as exc:  # anything else the parser refuses is the file's fault, not ours
        yield "line 1", Bad(f"not valid JSON: {exc}")
        return
    for index, item in enumerate(root if isinstance(root, list) else [root]):
        yield f"item {index}", item


def _jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark from some editors
            if not raw.strip():
                continue
            try:
                item = orjson.loads(raw)
                if LONG_DIGITS.search(raw):  # orjson turns a long integer into a float: read it exactly
                    item = exact_loads(raw)
            except TooLarge as exc:
                yield f"line {number}", Bad(str(exc))
            except orjson.JSONDecodeError:
                yield f"line {number}", Bad(_why_not_json(raw))
            else:
                yield f"line {number}", item


def _why_not_json(raw: bytes) -> str:
    """The standard parser says what is wrong in words a person can use."""
    try:
        exact_loads(raw)
        return "not valid JSON"
    except TooLarge as exc:  # orjson refuses what is beyond a double: the number is the problem
        return str(exc)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return f"not valid JSON: {getattr(exc, 'msg', exc)}"
    except RecursionError:
        return "nested too deeply"
    except ValueError as exc:
        return f"not valid JSON: {exc}"


def _table(path: Path, delimiter: str | None) -> Iterator[tuple[str, Any]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        if delimiter is None:  # Label Studio's rule: semicolons if the header has more of them
            header = fh.readline()
            delimiter = ";" if header.count(";") > header.count(",") else ","
            fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            columns = next(reader)
        except StopIteration:
            return
        for row in reader:
            where = f"line {reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                yield where, Bad(f"has {len(row)} fields, the header has {len(columns)}")
            else:
                yield where, dict(zip(columns, row))


def body_items(body: Any) -> Iterator[tuple[str, Any]]:
    for index, item in enumerate(body if isinstance(body, list) else [body]):
        yield f"item {index}", item


def sniff_text(data: bytes) -> str:
    """The first line, for messages about files that are not what their name says."""
    return io.BytesIO(data).readline()[:80].decode("utf-8", "replace")
