"""A project's storages: create (the connection checked first), read, change, delete, validate and
preview, and each one's JSON in Label Studio's shape. Credentials are sealed (app/secret_box.py)
and never leave this module except to the kind module that connects with them."""

from __future__ import annotations

import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

import anyio

from app.clock import iso, now
from app.db import write_tx
from app.errors import InputError
from app.secret_box import seal, unseal
from app.storages import fields, status
from app.storages.faults import StorageError
from app.storages.kinds import KINDS
from app.tables import Storage

if TYPE_CHECKING:
    from app.tables import User

PREVIEW_LIMIT = 100
PREVIEW_SECONDS = 30.0
# what the connection depends on: a change to any of these is checked again before it is saved
CONNECTION = {"bucket", "prefix", "path", "s3_endpoint", "region_name"}


def kind_of(storage: Storage) -> ModuleType:
    return KINDS[storage.kind]


def secrets_of(storage: Storage) -> dict[str, Any]:
    return unseal(storage.secrets or "")


def kind_named(kind: str) -> ModuleType:
    if kind not in KINDS:
        raise InputError({"type": [f"No storage type {kind!r}: this server has {', '.join(KINDS)}."]})
    return KINDS[kind]


async def storages_of(project_id: int, role: str) -> list[Storage]:
    """The project's storages of a role, oldest first; a sync whose worker died is marked failed."""
    found = await Storage.objects().where(Storage.project == project_id, Storage.role == role).order_by(
        Storage.id).output(load_json=True)
    return [await status.recovered(s) for s in found]


async def get(storage_id: int, role: str | None = None, kind: str | None = None) -> Storage | None:
    query = Storage.objects().where(Storage.id == storage_id)
    if role:
        query = query.where(Storage.role == role)
    if kind:
        query = query.where(Storage.kind == kind)
    found = await query.output(load_json=True).first()
    return await status.recovered(found) if found else None


async def check(kind: ModuleType, config: dict[str, Any], secrets: dict[str, Any], role: str) -> None:
    """The kind's connection check, off the event loop; what is wrong becomes a 400."""
    try:
        await anyio.to_thread.run_sync(kind.check, config, secrets, role)
    except StorageError as exc:
        raise InputError({"non_field_errors": [str(exc)]}) from None


async def validate(role: str, kind_name: str, body: Any, stored: Storage | None = None) -> None:
    """POST …/validate: the body checked as create (or, with `id`, as an update of that storage) would."""
    kind = kind_named(kind_name)
    old, old_secrets = (stored.config, secrets_of(stored)) if stored else (None, None)
    _, config, secrets = fields.parse(kind, role, body, old, old_secrets)
    await check(kind, config, secrets, role)


async def create(user: User, project_id: int, role: str, kind: str, body: dict) -> Storage:
    module = kind_named(kind)
    row, config, secrets = fields.parse(module, role, body)
    await check(module, config, secrets, role)
    storage = Storage(project=project_id, role=role, kind=kind, config=config, secrets=seal(secrets),
                      synchronizable=row.get("synchronizable", True), title=row.get("title"),
                      description=row.get("description"), meta={}, created_at=now(), updated_at=now())
    async with write_tx():
        await storage.save()
    return await get(storage.id)


async def update(storage: Storage, body: Any) -> Storage:
    """PATCH/PUT: the fields sent change, the rest stay; the connection is checked again when
    what it depends on (or a credential) changed."""
    kind = kind_of(storage)
    old_secrets = secrets_of(storage)
    row, config, secrets = fields.parse(kind, storage.role, body, storage.config, old_secrets)
    if secrets != old_secrets or any(config.get(k) != storage.config.get(k) for k in CONNECTION):
        await check(kind, config, secrets, storage.role)
    values = {Storage.config: config, Storage.secrets: seal(secrets), Storage.updated_at: now(),
              **{getattr(Storage, k): v for k, v in row.items()}}
    async with write_tx():
        await Storage.update(values).where(Storage.id == storage.id)
    return await get(storage.id)


async def delete(storage: Storage) -> None:
    """Its links go with it (the tasks stay, as in Label Studio)."""
    async with write_tx():
        await Storage.delete().where(Storage.id == storage.id)


async def preview(role: str, kind_name: str, body: Any, stored: Storage | None = None) -> dict[str, Any]:
    """POST …/files: the first `limit` objects sync would take, a {"key": null} sentinel when cut."""
    kind = kind_named(kind_name)
    limit = body.get("limit", PREVIEW_LIMIT) if isinstance(body, dict) else PREVIEW_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= 10_000:
        raise InputError({"limit": ["limit must be a whole number from 1 to 10000."]})
    old, old_secrets = (stored.config, secrets_of(stored)) if stored else (None, None)
    _, config, secrets = fields.parse(kind, role, body, old, old_secrets)

    def listing() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + PREVIEW_SECONDS
        for item in kind.objects(config, secrets):
            if len(found) >= limit or time.monotonic() > deadline:
                found.append({"key": None, "last_modified": None, "size": None})
                break
            found.append({"key": item["key"], "last_modified": iso(item.get("last_modified")),
                          "size": item.get("size")})
        return found

    try:
        return {"files": await anyio.to_thread.run_sync(listing)}
    except StorageError as exc:
        raise InputError({"non_field_errors": [str(exc)]}) from None


def storage_json(storage: Storage) -> dict[str, Any]:
    """Label Studio's answer for a storage: never a credential."""
    config = storage.config or {}
    head: dict[str, Any] = {"id": storage.id, "type": storage.kind, "synchronizable": storage.synchronizable}
    if storage.role == "import" and "presign" in kind_of(storage).FIELDS:
        head["presign"] = config.get("presign", True)
    return {**head, "last_sync": iso(storage.last_sync), "last_sync_count": storage.last_sync_count,
            "last_sync_job": storage.last_sync_job, "status": storage.status, "traceback": storage.traceback,
            "meta": storage.meta or {}, "title": storage.title, "description": storage.description,
            "created_at": iso(storage.created_at),
            **{k: config.get(k, v) for k, v in fields.kind_fields(kind_of(storage), storage.role).items()
               if k != "presign"},
            "project": storage.project}
