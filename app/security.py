"""Password hashing (argon2id) and API token keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# verified against when the email is unknown, so a login takes as long either way
_DUMMY_HASH = _hasher.hash(secrets.token_hex(8))

MIN_PASSWORD_LENGTH = 8


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# argon2 spends ~50 ms of CPU by design: in a thread, so other requests keep being served
async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await anyio.to_thread.run_sync(_verify, password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token_key() -> str:
    """40 hex characters, the shape of a Label Studio (DRF) token."""
    return secrets.token_hex(20)


def new_password() -> str:
    return secrets.token_urlsafe(12)


def derive_key(secret: str, purpose: str, length: int = 32) -> bytes:
    """A separate key per purpose (session cookie, CSRF) from the one secret key."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()[:length]
