"""Security headers on every response: a strict Content-Security-Policy and the browser's other
switches (no sniffing, no framing, no referrer to other sites, no camera/microphone/location)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.settings import settings

if TYPE_CHECKING:
    from litestar.types import Message, Scope

# Scripts only from our own files: no inline script, no eval (htmx runs with allowEval off).
# Images from anywhere: Label Studio tasks point at images on other hosts, over http or https.
# Styles need 'unsafe-inline': the label config's <Style> tag and label colours (style="--lw-color")
# are per project, so they cannot be listed ahead; components/style.py keeps url() out of them.
POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob: http: https:",
    "media-src 'self' data: blob: http: https:",  # audio and video, like images, may live on other hosts
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

# behind HTTPS (the same switch that marks cookies Secure), browsers are told to stay on HTTPS
HSTS = [(b"strict-transport-security", b"max-age=31536000")] if settings.cookie_secure else []

SECURITY_HEADERS = [
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    *HSTS,
]


async def add_security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: Litestar calls it for every message it sends, including the 404 and 405
    its router answers before any middleware runs. A header the handler set is kept (uploads are
    served with their own `sandbox` policy)."""
    if message["type"] != "http.response.start":
        return
    present = {name.lower() for name, _ in message.get("headers", ())}
    missing = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
    if missing:
        message["headers"] = [*message.get("headers", ()), *missing]
