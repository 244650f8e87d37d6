"""What every controller needs: Label Studio's optional trailing slash, parsing ids and flags that
refuses absurd input with a 400 naming the field, and the two ways a page answers an htmx request."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from litestar import Response
from litestar.response import Redirect, Template

from app.errors import InputError

if TYPE_CHECKING:
    from litestar import Request

MAX_ID = 2**31 - 1  # PostgreSQL's integer; SQLite overflows at 2**63
# ASCII digits only: "³".isdigit() is true, int("³") is not; ten digits keep int() away from
# Python's 4,300-digit limit before the range check
_ID = re.compile(r"[0-9]{1,10}")
TRUE = ("1", "true", "yes", "on")


def both(path: str) -> list[str]:
    """Label Studio answers with and without the trailing slash; so do we."""
    return [path, path + "/"]


def is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_ID.fullmatch(value)) and 0 < int(value) <= MAX_ID


def id_or_none(value: Any) -> int | None:
    """An id from a form field, or None for anything else (an empty or hand-edited select)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value <= MAX_ID else None
    return int(value) if is_id(value) else None


def parse_id(value: Any, name: str) -> int:
    """An id from a query, a form or a JSON body (int or digits): a 400 naming `name` otherwise."""
    found = id_or_none(value.strip() if isinstance(value, str) else value)
    if found is None:
        raise InputError({name: [f"{name} must be an id (a whole number), not {str(value)[:40]!r}."]})
    return found


def body_id(value: Any, name: str) -> int:
    """An id in a JSON body: a JSON number only (not "5", not true), or a 400 naming `name`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise InputError({name: [f"Give the {name}'s id (a number)."]})
    return value


def optional_id(value: Any, name: str) -> int | None:
    return None if value is None or value == "" else parse_id(value, name)


def query_id(request: Request, name: str) -> int | None:
    return optional_id(request.query_params.get(name), name)


def parse_ids(values: Iterable[str], name: str) -> list[int]:
    """Ids from repeated fields, each of which may be a comma-separated list."""
    return [parse_id(v, name) for raw in values for v in str(raw).split(",") if v.strip()]


def small_int(value: Any, digits: int = 9) -> int | None:
    """A count typed in a form (a page, an overlap, a percentage): an int, or None when it is not
    a whole number of at most `digits` ASCII digits (the caller then names the field)."""
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= digits else None


def flag(value: Any) -> bool:
    return str(value).strip().lower() in TRUE


def go(request: Request, url: str) -> Response:
    """A full page load of `url`: htmx follows HX-Redirect, a plain form post follows the 303."""
    if request.htmx:
        return Response(None, status_code=200, headers={"HX-Redirect": url})
    return Redirect(url)


def problem(errors: dict[str, list[str]], status: int = 422) -> Template:
    """An error shown in the workspace's message area, leaving the work on screen as it is."""
    return Template("labelling/_messages.html", context={"errors": [m for v in errors.values() for m in v]},
                    status_code=status, headers={"HX-Retarget": "#lw-messages", "HX-Reswap": "innerHTML"})
