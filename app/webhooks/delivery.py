"""Sending deliveries: in order per webhook, signed, with retries and a log of every attempt.

A delivery is claimed before it is sent (state `sending`, with a lease), so two workers never
send one at the same time; a worker that dies mid-send leaves a lease that runs out, and the
delivery is sent again (same `X-Labelwell-Delivery` id: receivers dedupe by it).

Order: per webhook, deliveries go out one at a time in the order the events happened; a later one
waits while an earlier one is being retried, until it is delivered or has failed for good."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from app import rows
from app.addresses import reserved
from app.addresses import resolved as addresses_of
from app.clock import now
from app.db import write_tx
from app.settings import env
from app.tables import Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger("labelwell.webhooks")
logging.getLogger("httpx").setLevel(logging.WARNING)

TRUE = ("1", "true", "yes", "on")
ALLOW_PRIVATE = (env("LABELWELL_WEBHOOK_ALLOW_PRIVATE", "false") or "").lower() in TRUE
TIMEOUT = max(0.1, float(env("LABELWELL_WEBHOOK_TIMEOUT_SECONDS", "5")))
RETRY_BASE = max(0.05, float(env("LABELWELL_WEBHOOK_RETRY_SECONDS", "10")))  # then ×3 per attempt
ATTEMPTS = max(1, int(env("LABELWELL_WEBHOOK_ATTEMPTS", "5")))
SWEEP_SECONDS = min(5.0, RETRY_BASE)  # how often the worker looks for due deliveries
KEEP = 1000  # deliveries kept per webhook in the log
LEASE = dt.timedelta(seconds=TIMEOUT + 30)
PER_RUN = 200  # deliveries one run sends per webhook before it gives the others a turn
USER_AGENT = "Labelwell-Webhooks/1"
ERROR_CHARS = 300


class Blocked(ValueError):
    """A URL this server will not call."""


def backoff(attempt: int) -> dt.timedelta:
    """The pause after the `attempt`-th failed attempt: 10 s, 30 s, 90 s, 270 s… by default."""
    return dt.timedelta(seconds=RETRY_BASE * 3 ** (attempt - 1))


def resolve(url: str) -> str:
    """The address to connect to for `url`: every address the host resolves to is checked (unless
    LABELWELL_WEBHOOK_ALLOW_PRIVATE), and the first is used, so a name that resolves elsewhere a
    second later (DNS rebinding) cannot move the connection. Raises Blocked."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = addresses_of(host, port)
    except (OSError, UnicodeError) as exc:
        raise Blocked(f"Cannot resolve the host {host!r}.") from exc
    if not addresses:
        raise Blocked(f"Cannot resolve the host {host!r}.")
    if not ALLOW_PRIVATE and any(reserved(a) for a in addresses):
        raise Blocked("The URL resolves to a private or reserved network address; this server does not call those "
                      "(LABELWELL_WEBHOOK_ALLOW_PRIVATE).")
    return str(addresses[0])


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Outcome:
    status: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def post(hook: Webhook, delivery: dict[str, Any], attempt: int) -> Outcome:
    body = delivery["body"].encode()
    stamp = int(time.time())
    headers = {str(k): str(v) for k, v in (hook.headers or {}).items()}
    headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT,
                    "X-Labelwell-Event": delivery["action"], "X-Labelwell-Delivery": delivery["uid"],
                    "X-Labelwell-Attempt": str(attempt), "X-Labelwell-Signature": signature(hook.secret, stamp, body)})
    started = time.perf_counter()
    try:
        address = await asyncio.to_thread(resolve, hook.url)
        parts = urlsplit(hook.url)
        host = f"[{address}]" if ":" in address else address
        pinned = urlunsplit(parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")))
        headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False) as client:
            response = await client.post(pinned, content=body, headers=headers,
                                         extensions={"sni_hostname": parts.hostname or ""})
        status, error = response.status_code, "" if 200 <= response.status_code < 300 else \
            f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
    except Blocked as exc:
        status, error = None, str(exc)
    except httpx.TimeoutException:
        status, error = None, f"No answer within {TIMEOUT:g} s."
    except httpx.HTTPError as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:ERROR_CHARS] or type(exc).__name__
    return Outcome(status, error[:ERROR_CHARS], int((time.perf_counter() - started) * 1000))


# -- claiming and recording ------------------------------------------------------------------------

async def claim_next(webhook_id: int) -> dict[str, Any] | None:
    """The webhook's oldest unfinished delivery, taken for sending if it is due; else None."""
    moment = now()
    async with write_tx():
        head = await rows.raw("SELECT id, state, attempts, next_attempt_at, locked_until FROM lw_webhook_delivery "
                              "WHERE webhook = {} AND state IN ('pending', 'sending') ORDER BY id LIMIT 1", webhook_id)
        if not head:
            return None
        row = head[0]
        due = (row["state"] == "pending" and row["next_attempt_at"] <= moment) or (
            row["state"] == "sending" and row["locked_until"] is not None and row["locked_until"] < moment)
        if not due:
            return None
        taken = await rows.raw(
            "UPDATE lw_webhook_delivery SET state = 'sending', attempts = attempts + 1, locked_until = {} "
            "WHERE id = {} AND state = {} AND attempts = {} RETURNING id, uid, action, body, attempts",
            moment + LEASE, row["id"], row["state"], row["attempts"])
    return taken[0] if taken else None


async def record(delivery: dict[str, Any], outcome: Outcome) -> str:
    """The attempt in the log, and what follows: delivered, another try later, or failed."""
    attempt = delivery["attempts"]
    state = "delivered" if outcome.ok else "failed" if attempt >= ATTEMPTS else "pending"
    moment = now()
    async with write_tx():
        await WebhookAttempt(delivery=delivery["id"], attempt=attempt, status_code=outcome.status,
                             duration_ms=outcome.duration_ms, error=outcome.error, created_at=moment).save()
        await WebhookDelivery.update({
            WebhookDelivery.state: state, WebhookDelivery.status_code: outcome.status,
            WebhookDelivery.error: outcome.error, WebhookDelivery.locked_until: None,
            WebhookDelivery.next_attempt_at: moment + backoff(attempt) if state == "pending" else moment,
            WebhookDelivery.finished_at: moment if state != "pending" else None,
        }).where((WebhookDelivery.id == delivery["id"]) & (WebhookDelivery.state == "sending")
                 & (WebhookDelivery.attempts == attempt))
    if state == "failed":
        log.warning("webhook delivery %s (%s) failed after %s attempts: %s", delivery["id"], delivery["action"],
                    attempt, outcome.error)
    return state


async def deliver_webhook(webhook_id: int) -> int:
    """Send the webhook's due deliveries in order; stops at one that must wait. How many were sent."""
    sent = 0
    while sent < PER_RUN:
        hook = await rows.one(Webhook, "id = {}", webhook_id)
        if hook is None:
            return sent
        delivery = await claim_next(webhook_id)
        if delivery is None:
            return sent
        if not hook.is_active:  # switched off meanwhile: what is queued is dropped, logged as such
            await record(delivery, Outcome(None, "The webhook was switched off.", 0))
            await WebhookDelivery.update({WebhookDelivery.state: "failed"}).where(WebhookDelivery.id == delivery["id"])
            continue
        state = await record(delivery, await post(hook, delivery, delivery["attempts"]))
        sent += 1
        if state == "pending":
            return sent  # a retry later: the ones behind it wait (order)
    return sent


async def deliver(webhook_ids: list[int]) -> int:
    """What the worker runs for a kick and for each sweep: the webhooks side by side."""
    counts = await asyncio.gather(*(deliver_webhook(int(i)) for i in sorted(set(webhook_ids))))
    return sum(counts)


async def due_webhooks() -> list[int]:
    moment = now()
    found = await rows.raw("SELECT DISTINCT webhook FROM lw_webhook_delivery WHERE (state = 'pending' AND "
                           "next_attempt_at <= {}) OR (state = 'sending' AND locked_until < {})", moment, moment)
    return [r["webhook"] for r in found]


async def sweep() -> int:
    """Due deliveries of every webhook: retries, and any whose kick was lost."""
    return await deliver(await due_webhooks())


async def prune() -> int:
    """Keep the newest KEEP finished deliveries per webhook (attempts go with them)."""
    removed = 0
    for row in await rows.raw("SELECT webhook, COUNT(*) AS n FROM lw_webhook_delivery GROUP BY webhook"):
        if row["n"] <= KEEP:
            continue
        edge = await rows.raw("SELECT id FROM lw_webhook_delivery WHERE webhook = {} ORDER BY id DESC LIMIT 1 "
                              f"OFFSET {KEEP - 1}", row["webhook"])
        async with write_tx():
            gone = await rows.raw("DELETE FROM lw_webhook_delivery WHERE webhook = {} AND id < {} AND state IN "
                                  "('delivered', 'failed') RETURNING id", row["webhook"], edge[0]["id"])
        removed += len(gone)
    return removed
