"""Signed-in browsers, kept server-side, and the throttle on failed logins.

The session cookie carries only a random key; lw_session holds its SHA-256. A session ends when
its row goes: logging out, a password change (every session of that user), an admin's "sign out
everywhere", or its lifetime (the live instance setting, counted from sign-in) running out."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time

from app import instance, rows
from app.clock import now
from app.db import write_tx
from app.tables import LoginFailure, Session, User

# failed logins: per email and address together (a person mistyping), and per address (one machine
# trying many accounts); either limit locks logins from there for LOCK_MINUTES
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 50
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
TOUCH_SECONDS = 300  # last_seen is written at most this often per session, not on every request

_touched: dict[str, float] = {}


def touch_due(marks: dict[str, float], key: str) -> bool:
    """Whether a "last seen" for this key is due (at most every TOUCH_SECONDS); notes it if so."""
    if time.monotonic() - marks.get(key, float("-inf")) <= TOUCH_SECONDS:
        return False
    marks[key] = time.monotonic()
    return True


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def start(user: User, ip: str = "", user_agent: str = "") -> str:
    key = secrets.token_urlsafe(32)
    moment = now()
    async with write_tx():
        await Session(key_hash=digest(key), user=user.id, created_at=moment, last_seen=moment,
                      ip=ip[:64], user_agent=user_agent[:255]).save()
    return key


async def user_for(key: object) -> User | None:
    """The active user whose session this key opens, if it is still within the lifetime."""
    if not isinstance(key, str) or not key:
        return None
    hashed = digest(key)
    cutoff = now() - instance.current().session_lifetime
    # one query in plain SQL (app/rows.py): this runs on every page request
    user = await rows.one(User, 'id = (SELECT "user" FROM lw_session WHERE key_hash = {} AND created_at > {}) '
                                "AND is_active = {}", hashed, cutoff, True)
    if user is not None and touch_due(_touched, hashed):
        moment = now()
        async with write_tx():
            await Session.update({Session.last_seen: moment}).where(Session.key_hash == hashed)
            await User.update({User.last_activity: moment}).where(User.id == user.id)
    return user


async def end(key: object) -> None:
    if isinstance(key, str) and key:
        async with write_tx():
            await Session.delete().where(Session.key_hash == digest(key))


async def end_all(user_id: int) -> int:
    """Sign a user out everywhere; returns how many sessions ended."""
    async with write_tx():
        ended = await Session.count().where(Session.user == user_id)
        await Session.delete().where(Session.user == user_id)
    return ended


async def of_user(user_id: int) -> list[dict]:
    cutoff = now() - instance.current().session_lifetime
    return await Session.select(Session.created_at, Session.last_seen, Session.ip, Session.user_agent).where(
        Session.user == user_id, Session.created_at > cutoff).order_by(Session.last_seen, ascending=False)


# login throttling

def _keys(email: str, ip: str) -> dict[str, int]:
    return {f"account:{email.strip().lower()[:254]}|{ip}": FAILURES_PER_ACCOUNT, f"address:{ip}": FAILURES_PER_ADDRESS}


async def locked_for(email: str, ip: str) -> dt.timedelta | None:
    """How long logins for this email from this address stay refused, if they are."""
    moment = now()
    found = await LoginFailure.select(LoginFailure.locked_until).where(
        LoginFailure.key.is_in(list(_keys(email, ip))), LoginFailure.locked_until > moment)
    return max(row["locked_until"] for row in found) - moment if found else None


async def failed(email: str, ip: str) -> None:
    moment = now()
    async with write_tx():
        for key, limit in _keys(email, ip).items():
            row = await LoginFailure.objects().where(LoginFailure.key == key).first()
            if row is None:
                row = LoginFailure(key=key, failures=0, first_at=moment)
            if row.first_at < moment - WINDOW:  # an old streak: start counting again
                row.failures, row.first_at, row.locked_until = 0, moment, None
            row.failures += 1
            if row.failures >= limit:
                row.locked_until = moment + LOCK
            await row.save()


async def succeeded(email: str, ip: str) -> None:
    async with write_tx():
        await LoginFailure.delete().where(LoginFailure.key == next(iter(_keys(email, ip))))
