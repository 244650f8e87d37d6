"""JSON Web Tokens, HS256 only: what Label Studio's personal access tokens are, and what its SDK
reads (it decodes `exp` and `token_type` without checking the signature; we check it). Twenty
lines of the standard (RFC 7519) instead of a dependency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

HEADER = {"alg": "HS256", "typ": "JWT"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode(claims: dict[str, Any], key: bytes) -> str:
    signing = f"{_b64(json.dumps(HEADER, separators=(',', ':')).encode())}." \
              f"{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    return f"{signing}.{_b64(hmac.new(key, signing.encode(), hashlib.sha256).digest())}"


def decode(token: str, key: bytes) -> dict[str, Any] | None:
    """The claims of a token we signed, else None (expiry is the caller's to check)."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 4096:
        return None
    try:
        header, claims = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
        signature = _unb64(parts[2])
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if header != HEADER or not hmac.compare_digest(signature, expected) or not isinstance(claims, dict):
        return None
    return claims
