"""Time as every module writes it: aware UTC datetimes, ISO 8601 on the wire."""

from __future__ import annotations

import datetime as dt
from typing import Any


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
