"""Instance settings an admin edits live on the settings page.

The environment gives each one its default; a value saved on the page (table lw_instance_setting)
wins from the next request on, without a restart. Every web process keeps the values in memory
and re-reads them at most every few seconds, so several processes agree soon after a change."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.settings import settings
from app.tables import InstanceSetting

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.tables import User

REFRESH_SECONDS = 3.0


@dataclass(frozen=True)
class Field:
    label: str
    help: str
    kind: type  # bool, int or float
    default: Callable[[], Any]
    low: float = 0
    high: float = 0
    unit: str = ""


FIELDS: dict[str, Field] = {
    "allow_signup": Field("People can sign up", "Anyone who reaches the login page may create an annotator "
                          "account with no projects; an admin then adds them to projects.", bool, lambda: False),
    "session_hours": Field("Session lifetime", "How long a sign-in lasts. Shortening it ends older sessions at "
                           "their next request.", int, lambda: 14 * 24, 1, 90 * 24, "hours"),
    "task_lock_minutes": Field("Task lock time", "How long the queue holds a task for an annotator without a "
                               "sign of life (LABELWELL_TASK_LOCK_MINUTES).", float,
                               lambda: settings.task_lock_seconds / 60, 0.1, 24 * 60, "minutes"),
    "upload_max_mb": Field("Upload size limit", "Largest file one upload may be (LABELWELL_UPLOAD_MAX_MB).", float,
                           lambda: settings.upload_max_bytes / 1024 / 1024, 0.01, 100 * 1024, "MB"),
    "default_overlap": Field("Default overlap", "Annotators per task for new projects (each project can "
                             "change its own).", int, lambda: 1, 1, 1000, "annotators"),
    # Label Studio's JWT settings (GET/POST /api/jwt/settings) are these three
    "api_tokens_enabled": Field("Personal access tokens", "People may make personal access tokens for scripts "
                                "(SDK 2.x). Off, existing ones stop working until it is on again.", bool, lambda: True),
    "legacy_tokens_enabled": Field("Legacy API keys", "The per-person key sent as 'Authorization: Token <key>' "
                                   "(the legacy SDK) works. Off, scripts need a personal access token.", bool,
                                   lambda: True),
    "api_token_ttl_days": Field("Personal token lifetime", "How long a new personal access token lasts (Label "
                                "Studio's default: 73000 days).", int, lambda: 73000, 1, 73000, "days"),
}


@dataclass(frozen=True)
class Values:
    allow_signup: bool
    session_hours: int
    task_lock_minutes: float
    upload_max_mb: float
    default_overlap: int
    api_tokens_enabled: bool
    legacy_tokens_enabled: bool
    api_token_ttl_days: int

    @property
    def session_lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=self.session_hours)

    @property
    def task_lock(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.task_lock_minutes)

    @property
    def upload_max_bytes(self) -> int:
        return int(self.upload_max_mb * 1024 * 1024)


def defaults() -> dict[str, Any]:
    return {key: field.default() for key, field in FIELDS.items()}


_current = Values(**defaults())
_saved: dict[str, Any] = {}  # what the table holds: the page marks these as changed from the default
_read_at = float("-inf")


def current() -> Values:
    """The values as of the last refresh (at most REFRESH_SECONDS old in this process)."""
    return _current


def saved() -> dict[str, Any]:
    return dict(_saved)


async def refresh(force: bool = False) -> Values:
    global _current, _saved, _read_at
    if force or time.monotonic() - _read_at > REFRESH_SECONDS:
        rows = await InstanceSetting.select(InstanceSetting.key, InstanceSetting.value).output(load_json=True)
        stored = {row["key"]: row["value"]["value"] for row in rows if row["key"] in FIELDS}
        _saved, _current, _read_at = stored, Values(**{**defaults(), **stored}), time.monotonic()
    return _current


def clean(form: dict[str, Any]) -> dict[str, Any]:
    """Form values -> typed values; every field is checked and every problem named."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key, field in FIELDS.items():
        if field.kind is bool:
            out[key] = str(form.get(key, "")).lower() in ("on", "true", "1", "yes")
            continue
        raw = str(form.get(key, "")).strip()
        try:
            number = float(raw)
        except ValueError:
            errors[key] = [f"{field.label}: enter a number."]
            continue
        if not field.low <= number <= field.high:  # NaN and infinities fail here too
            errors[key] = [f"{field.label}: between {field.low:g} and {field.high:g} {field.unit}."]
        elif field.kind is int and not number.is_integer():
            errors[key] = [f"{field.label}: enter a whole number."]
        else:
            out[key] = field.kind(number)
    if errors:
        raise InputError(errors)
    return out


async def save(values: dict[str, Any], user: User) -> dict[str, tuple[Any, Any]]:
    """Store what differs from the current values; returns {key: (old, new)} for the audit log."""
    before = (await refresh(force=True)).__dict__
    changed = {key: (before[key], value) for key, value in values.items() if before[key] != value}
    if changed:
        stamp = now()
        async with write_tx():
            await InstanceSetting.delete().where(InstanceSetting.key.is_in(list(changed)))
            await InstanceSetting.insert(*[
                # wrapped: SQLite's JSON column has numeric affinity and would turn "1" into an integer
                InstanceSetting(key=key, value=json.dumps({"value": new}), updated_by=user.id, updated_at=stamp)
                for key, (_, new) in changed.items()])
        await refresh(force=True)
    return changed
