"""`Idempotency-Key` on the API routes that create something: a retried request gets the first
answer again instead of doing the work twice.

A handler wraps its service call in one line:

    return await idempotency.once(request, lambda: service.create_x(...), x_json)

Without the header the work simply runs. With it, the key (per user, 24 hours) is a row of
`lw_idempotency_key` holding a hash of the request (method, path, query, body) and the answer:
- the same key and the same request again: the first answer, its status and JSON body byte for
  byte, with `Idempotency-Replayed: true`;
- the same key with another request: 422 naming the key;
- the same key while its first request still runs: 409;
- a key longer than 255 characters, empty, or with a control character: 400 naming the header.

Two ways the row is written:
- `once`: work that is one write transaction (an annotation, a prediction, a task, a project, an
  ML backend). The work runs inside a `write_tx()` (its own transactions nest into it) and the
  row, answer included, is inserted before that transaction commits: after a crash there is
  either the work and its key, or neither. What must follow the commit (webhook jobs, agreement)
  is handed to `after_commit`.
- `once_claimed`: work that queues a job or runs long (imports, exports). The key is claimed by
  a row of its own first (a concurrent duplicate then gets 409), the work runs in its own
  transactions, and the answer is stored when it is known. If the process dies in between, the
  key answers 409 until it expires: the work may or may not have happened (an import is all or
  nothing; an export is a job in the project's job list).
Failed work (a 4xx or an error) keeps no key: the request may be sent again as it is.
"""

from __future__ import annotations

import contextvars
import hashlib
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Response
from litestar.exceptions import HTTPException
from litestar.serialization import encode_json

from app import audit, rows
from app.clock import now
from app.db import is_postgres, write_tx
from app.errors import InputError

if TYPE_CHECKING:
    from litestar import Request

HEADER = "Idempotency-Key"
REPLAYED = "Idempotency-Replayed"
LIFETIME = timedelta(hours=24)
MAX_LENGTH = 255
SWEEP_EVERY = timedelta(minutes=10)
TABLE = "lw_idempotency_key"
PENDING = 0  # the status of a claimed key whose answer is not known yet

# keys whose first request runs in this process: a duplicate gets 409 at once, instead of
# queueing behind it for the write lock
_running: set[tuple[int, str]] = set()
# side effects of work under `once`, run once its transaction has committed
_after: contextvars.ContextVar[list[Callable[[], Awaitable[Any]]] | None] = contextvars.ContextVar(
    "idempotency_after", default=None)
_last_sweep = now() - SWEEP_EVERY


class Refused(Exception):
    """A refusal that carries a JSON body of its own (409 with the existing annotation's id):
    the handler answers it as it is, and no key keeps it."""

    def __init__(self, status: int, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.body = status, {"status_code": status, "detail": detail, **extra}


@dataclass(frozen=True)
class Claim:
    user_id: int
    key: str
    digest: str

    @property
    def ident(self) -> tuple[int, str]:
        return self.user_id, self.key


async def after_commit(effect: Callable[[], Awaitable[Any]]) -> None:
    """Run `effect` once the work's transaction has committed: at once, unless under `once`.
    A job queued inside the transaction could reach a worker before its row is visible."""
    pending = _after.get()
    if pending is None:
        await effect()
    else:
        pending.append(effect)


async def once(request: Request, work: Callable[[], Awaitable[Any]], render: Callable[[Any], Any],
               status: int = 201) -> Response:
    """Single-transaction work: `render(await work())` is the answer, kept with the key in the
    work's own transaction."""
    claim = await claim_of(request)
    if claim is None:
        return await _plain(work, render, status)
    found = await _find(claim)
    if found is not None:
        return _answer(request, claim, found)
    if claim.ident in _running:
        raise _in_progress(claim)
    _running.add(claim.ident)
    effects: list[Callable[[], Awaitable[Any]]] = []
    token = _after.set(effects)
    try:
        async with write_tx():
            await _hold(claim)
            found = await _find(claim)
            if found is None:
                body = encode_json(render(await work())).decode()
                await _store(claim, status, body)
    except Refused as refused:
        return Response(refused.body, status_code=refused.status)
    finally:
        _after.reset(token)
        _running.discard(claim.ident)
    if found is not None:
        return _answer(request, claim, found)
    for effect in effects:
        await effect()
    return _json(status, body)


async def once_claimed(request: Request, work: Callable[[], Awaitable[Any]], render: Callable[[Any], Any] | None = None,
                       status: int = 201, fingerprint: Iterable[str] | None = None,
                       unused: Callable[[], Awaitable[Any]] | None = None) -> Response:
    """Work that queues a job or runs long. `work` may answer a Response of its own (its status is
    kept if it is a success); `fingerprint` stands for a body already consumed (uploaded files'
    names and hashes); `unused()` is called when the work does not run (replay, 409, 422)."""
    try:
        claim = await claim_of(request, fingerprint)
    except InputError:
        if unused is not None:
            await unused()
        raise
    if claim is None:
        return await _plain(work, render, status)
    found = await _find(claim)
    if found is None:
        async with write_tx():
            await _sweep()
            claimed = await _insert(claim, PENDING, "")
        if not claimed:  # a concurrent duplicate claimed it first
            found = await _find(claim) or {"request_hash": claim.digest, "status": PENDING}
    if found is not None:
        if unused is not None:
            await unused()
        return _answer(request, claim, found)
    try:
        answer = await _plain(work, render, status)
    except BaseException:
        await _release(claim)
        raise
    if 200 <= answer.status_code < 300:
        body = encode_json(answer.content).decode()
        async with write_tx():
            await rows.raw(f'UPDATE {TABLE} SET status = {{}}, response = {{}} WHERE "user" = {{}} AND key = {{}}',
                           answer.status_code, body, claim.user_id, claim.key)
        return _json(answer.status_code, body)
    await _release(claim)
    return answer


async def claim_of(request: Request, fingerprint: Iterable[str] | None = None) -> Claim | None:
    """The request's key, checked, with the hash of what it asks; None without the header."""
    values = request.headers.getall(HEADER.lower(), [])
    if not values:
        return None
    key = values[0]
    problem = ("Send one Idempotency-Key header." if len(values) > 1 else
               f"An {HEADER} has 1 to {MAX_LENGTH} characters." if not 0 < len(key) <= MAX_LENGTH else
               f"An {HEADER} may not contain control characters." if any(
                   unicodedata.category(c) == "Cc" for c in key) else "")
    if problem:
        raise InputError({HEADER: [problem]})
    digest = hashlib.sha256()
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    digest.update(f"{request.method}\n{request.url.path.rstrip('/')}?{query}\n".encode())
    if fingerprint is None:
        digest.update(await request.body())
    else:
        digest.update("\n".join(fingerprint).encode())
    return Claim(request.scope["user"].id, key, digest.hexdigest())


async def _plain(work: Callable[[], Awaitable[Any]], render: Callable[[Any], Any] | None, status: int) -> Response:
    try:
        result = await work()
    except Refused as refused:
        return Response(refused.body, status_code=refused.status)
    return result if isinstance(result, Response) else Response(render(result) if render else result,
                                                                 status_code=status)


def _json(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body.encode(), status_code=status, media_type=MediaType.JSON, headers=headers)


def _in_progress(claim: Claim) -> HTTPException:
    return HTTPException(status_code=409, detail=(
        f"A request with {HEADER} {claim.key!r} is still running (or was interrupted by a restart): wait for "
        "it and send the key again, or check what it made before using a new key."))


def _answer(request: Request, claim: Claim, found: dict[str, Any]) -> Response:
    """What a key seen before answers: the first answer, or why not."""
    if found["request_hash"] != claim.digest:
        raise HTTPException(status_code=422, detail=(
            f"{HEADER} {claim.key!r} was used for a different request (another method, path or body) "
            f"in the last {LIFETIME.total_seconds() / 3600:.0f} hours: use a new key for a new request."))
    if found["status"] == PENDING:
        raise _in_progress(claim)
    request.scope.setdefault("state", {})[audit.STATE_KEY] = {"cancelled": True}  # nothing new happened
    return _json(found["status"], found["response"], {REPLAYED: "true"})


async def _find(claim: Claim) -> dict[str, Any] | None:
    found = await rows.raw(f'SELECT request_hash, status, response FROM {TABLE} WHERE "user" = {{}} AND key = {{}} '
                           "AND created_at >= {}", claim.user_id, claim.key, now() - LIFETIME)
    return found[0] if found else None


async def _hold(claim: Claim) -> None:
    """PostgreSQL: one transaction per key at a time, across web processes; a second one gets 409
    at once. (SQLite's writers take turns already.)"""
    if is_postgres():
        number = int.from_bytes(hashlib.sha256(f"idempotency {claim.user_id} {claim.key}".encode()).digest()[:8],
                                "big", signed=True)
        held = await rows.raw("SELECT pg_try_advisory_xact_lock({}) AS held", number)
        if not held[0]["held"]:
            raise _in_progress(claim)


async def _store(claim: Claim, status: int, body: str) -> None:
    """The key and its answer, inside the work's transaction."""
    await _sweep()
    if not await _insert(claim, status, body):
        raise _in_progress(claim)  # another process took the key meanwhile: this work is rolled back


async def _insert(claim: Claim, status: int, body: str) -> bool:
    # an expired row of the same key gives way (the sweep may not have reached it yet)
    await rows.raw(f'DELETE FROM {TABLE} WHERE "user" = {{}} AND key = {{}} AND created_at < {{}}',
                   claim.user_id, claim.key, now() - LIFETIME)
    inserted = await rows.raw(
        f'INSERT INTO {TABLE} ("user", key, request_hash, status, response, created_at) '
        'VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT ("user", key) DO NOTHING RETURNING id',
        claim.user_id, claim.key, claim.digest, status, body, now())
    return bool(inserted)


async def _release(claim: Claim) -> None:
    """Failed work keeps no claim: the same request may be sent again."""
    async with write_tx():
        await rows.raw(f'DELETE FROM {TABLE} WHERE "user" = {{}} AND key = {{}} AND status = {{}}',
                       claim.user_id, claim.key, PENDING)


async def _sweep() -> None:
    """Keys older than their lifetime go, at most every few minutes per process (an index range)."""
    global _last_sweep
    if now() - _last_sweep >= SWEEP_EVERY:
        _last_sweep = now()
        await rows.raw(f"DELETE FROM {TABLE} WHERE created_at < {{}}", now() - LIFETIME)
