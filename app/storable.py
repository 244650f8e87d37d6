"""What a client's JSON must be for the databases to store it.

Piccolo writes JSON columns with orjson, which refuses integers beyond 64 bits and nesting deeper
than 254 levels; PostgreSQL's jsonb refuses NUL characters in text. Any of them reaching a write
was a 500: they are checked where the value comes in, and refused with the field's name."""

from __future__ import annotations

from typing import Any

import orjson

from app.errors import InputError


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def problem(value: Any) -> str | None:
    """Why `value` cannot be stored, or None."""
    try:
        dumped = orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError):
        return "holds a number too large to store (beyond 64 bits) or is nested too deeply"
    if b"\\u0000" in dumped and has_nul(value):  # the cheap look first, the exact one if it hits
        return "contains a NUL character (\\u0000), which databases cannot store in text"
    return None


def check(value: Any, name: str) -> None:
    """Refuse `value` (400, naming the field `name`) if it cannot be stored."""
    found = problem(value)
    if found:
        raise InputError({name: [found[0].upper() + found[1:] + "."]})


def number(value: Any) -> float | None:
    """A JSON number as a float, or None when it is no number or too large for one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
