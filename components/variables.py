"""Task-data variables in config attributes: `$key`, `$a.b`, `$list[0]`, and `$key` inside text."""

from __future__ import annotations

import re
from typing import Any

VARIABLE = re.compile(r"\$([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*|\[\d+\])*)")
_STEP = re.compile(r"\.([A-Za-z_]\w*)|\[(\d+)\]")
MISSING = object()


def variables_in(value: str | None) -> list[str]:
    """Every variable path in an attribute value ('$a.b' -> 'a.b')."""
    return VARIABLE.findall(value or "")


def top_key(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def lookup(data: Any, path: str) -> Any:
    """The value at `path` in task data, or MISSING."""
    head = top_key(path)
    if not isinstance(data, dict) or head not in data:
        return MISSING
    value = data[head]
    for key, index in _STEP.findall(path[len(head):]):
        if key and isinstance(value, dict) and key in value:
            value = value[key]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return MISSING
    return value


def resolve(value: str | None, data: Any) -> Any:
    """A whole-attribute variable gives the data value itself (a string, a list, a dict);
    variables inside literal text are substituted as text. Unknown variables stay as written."""
    if not value:
        return value or ""
    whole = VARIABLE.fullmatch(value)
    if whole:
        found = lookup(data, whole.group(1))
        return value if found is MISSING else found

    def substitute(match: re.Match) -> str:
        found = lookup(data, match.group(1))
        return match.group(0) if found is MISSING else str(found)

    return VARIABLE.sub(substitute, value)
