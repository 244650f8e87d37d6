"""Reading import files one item at a time: JSON, JSONL, CSV (comma or semicolon), TSV, TXT.
Each item comes with where it stands (line or item index) so an error can name it."""

from __future__ import annotations

import csv
import io
import json
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
    try:
        with open(path, encoding="utf-8-sig") as fh:
            root = json.load(fh)
    except json.JSONDecodeError as exc:
        yield f"line {exc.lineno}", Bad(f"not valid JSON: {exc.msg} (column {exc.colno})")
        return
    except UnicodeDecodeError:
        yield "line 1", Bad("not UTF-8 text")
        return
    except RecursionError:
        yield "line 1", Bad("nested too deeply")
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
                yield f"line {number}", orjson.loads(raw)
            except orjson.JSONDecodeError:
                try:  # the standard parser says what is wrong in words a person can use
                    json.loads(raw)
                    message = "not valid JSON"
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    message = f"not valid JSON: {getattr(exc, 'msg', exc)}"
                except RecursionError:
                    message = "nested too deeply"
                yield f"line {number}", Bad(message)


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
