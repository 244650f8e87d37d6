"""Secrets kept in the database (a storage's credentials) sealed with the instance's secret key:
a copy of the database alone does not give away the bucket keys. Fernet (AES-128-CBC + HMAC), with
its key derived from LABELWELL_SECRET_KEY for this one purpose, so the key that signs sessions is
not the key that encrypts. Changing the secret key makes sealed secrets unreadable: `unseal` then
answers {} and the storage asks for its credentials again, it never fails a page."""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from app.settings import settings


@lru_cache(maxsize=4)
def _box(secret: str) -> Fernet:
    key = hashlib.sha256(b"labelwell storage secrets\0" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(values: dict[str, Any]) -> str:
    """The non-empty values, encrypted; "" when there are none."""
    kept = {k: v for k, v in values.items() if v not in (None, "")}
    return _box(settings.secret_key()).encrypt(json.dumps(kept).encode()).decode() if kept else ""


def unseal(sealed: str) -> dict[str, Any]:
    if not sealed:
        return {}
    try:
        return json.loads(_box(settings.secret_key()).decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        return {}
