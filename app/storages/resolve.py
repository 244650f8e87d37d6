"""Storage URIs (`s3://bucket/key`) in task data, for the browser: rewritten on output into
Label Studio's resolver address `/tasks/<id>/resolve/?fileuri=<urlsafe base64 of the URI>` when an
import storage of the project holds that bucket (the database keeps the raw URI; exports and
webhooks carry it raw), and what the resolver answers: a presigned URL to redirect to when the
storage presigns, so the browser fetches the object from the bucket itself, or else the object
streamed through this server with Range. Credentials stay in the server."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import anyio

from app.storages import service
from app.storages.signed_urls import SignedUrls

if TYPE_CHECKING:
    from collections.abc import Iterator

    from app.tables import Storage

URI = re.compile(r"s3://[^\s\"'<>]+")  # a URI inside a string (HTML, a list in text)

_SIGNED = SignedUrls()  # the same URL again while it has half its life left


@dataclass
class Answer:
    """Either `redirect` (a presigned URL, good for `seconds`) or a stream of the object."""

    redirect: str | None = None
    seconds: int = 0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterator[bytes] | None = None


def address(task_id: int, uri: str) -> str:
    return f"/tasks/{task_id}/resolve/?fileuri={quote(base64.urlsafe_b64encode(uri.encode()).decode())}"


async def _storages(project_id: int) -> list[Storage]:
    return [s for s in await service.storages_of(project_id, "import") if s.kind == "s3"]


def _ours(storages: list[Storage], uri: str) -> tuple[Storage, str] | None:
    for storage in storages:
        key = service.kind_of(storage).key_of(storage.config, uri)
        if key is not None:
            return storage, key
    return None


def _rewrite(value: Any, task_id: int, storages: list[Storage]) -> Any:
    if isinstance(value, str):
        if "s3://" not in value:
            return value
        if value.startswith("s3://") and _ours(storages, value):
            return address(task_id, value)
        return URI.sub(lambda m: address(task_id, m[0]) if _ours(storages, m[0]) else m[0], value)
    if isinstance(value, dict):
        return {k: _rewrite(v, task_id, storages) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, task_id, storages) for v in value]
    return value


async def for_browser(project_id: int, task_id: int, data: Any) -> Any:
    """The task's data with its storage URIs made resolver addresses (unchanged without storages)."""
    return (await task_rows(project_id, [{"id": task_id, "data": data}]))[0]["data"]


async def task_rows(project_id: int, rows: list[dict[str, Any]], params: Any = None) -> list[dict[str, Any]]:
    """Task JSON rows as Label Studio's API answers them: each `data` resolved, with one storage
    lookup for the page; `?resolve_uri=false` keeps the raw URIs."""
    if params is not None and str(params.get("resolve_uri", "true")).lower() in ("false", "0", "no"):
        return rows
    if not any("s3://" in str(row.get("data")) for row in rows):
        return rows
    storages = await _storages(project_id)
    for row in rows if storages else []:
        row["data"] = _rewrite(row["data"], row["id"], storages)
    return rows


async def answer(project_id: int, uri: str, byte_range: str | None) -> Answer | None:
    """What the resolver answers for a URI of the project's task, None when no storage holds it.
    Raises StorageError when the bucket fails."""
    found = _ours(await _storages(project_id), uri)
    if found is None:
        return None
    storage, key = found
    kind, config = service.kind_of(storage), storage.config
    if config.get("presign", True):
        return await _presigned(storage, key)
    secrets = service.secrets_of(storage)
    status, headers, chunks = await anyio.to_thread.run_sync(kind.open, config, secrets, key, byte_range)
    return Answer(status=status, headers=headers, chunks=chunks)


async def _presigned(storage: Storage, key: str) -> Answer:
    config = storage.config
    seconds = int(config.get("presign_ttl") or 1) * 60
    # new credentials or settings sign anew
    settings = hash((storage.secrets, repr(sorted(config.items()))))
    cache_key = (storage.id, key, seconds, settings)
    found = _SIGNED.fresh(cache_key)
    if found is None:
        sign = service.kind_of(storage).presign
        found = _SIGNED.keep(cache_key, await anyio.to_thread.run_sync(
            sign, config, service.secrets_of(storage), key, seconds), seconds)
    return Answer(redirect=found[0], seconds=found[1])


async def read(project_id: int, uri: str, limit: int) -> bytes | None:
    """A whole object a storage of the project holds (for the worker: a thumbnail's picture), None
    when none holds it. Raises StorageError when the bucket fails, ValueError past `limit` bytes."""
    found = _ours(await _storages(project_id), uri)
    if found is None:
        return None
    storage, key = found
    kind, config, secrets = service.kind_of(storage), storage.config, service.secrets_of(storage)

    def whole() -> bytes:
        _, _, chunks = kind.open(config, secrets, key, None)
        parts, size = [], 0
        for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise ValueError(f"larger than {limit // (1 << 20)} MiB")
            parts.append(chunk)
        return b"".join(parts)

    return await anyio.to_thread.run_sync(whole)
