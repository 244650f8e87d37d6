"""Export storages, the worker's side: the outbox (app/storages/export_queue.py) drained every
SWEEP_SECONDS, each annotation written as Label Studio writes it (key `<prefix>/<annotation id>`,
the storage annotation JSON: the annotation with its author and its task), or its object removed
once the annotation is gone when `can_delete_objects` is on; failures retried with backoff and
listed on the storage (traceback). And the full re-export that POST …/export/<kind>/<id>/sync runs
(and creating an export storage, as in Label Studio)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

import anyio
import orjson

from app.clock import now
from app.db import write_tx
from app.jobs import set_progress
from app.rows import many, raw
from app.storages import service, status
from app.storages.faults import StorageError
from app.tables import Annotation, Task, User
from app.webhooks import payloads

if TYPE_CHECKING:
    from app.tables import Job, Storage

log = logging.getLogger("labelwell.storages")
SWEEP_SECONDS = 1.0
BATCH = 200  # outbox rows per sweep
MAX_ATTEMPTS = 8  # then the row is failed, listed, and written again by the next sync
LISTED = 20  # failures kept in the storage's traceback
PAGE = 500  # annotations per page of a full re-export


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 5 * 3 ** (attempts - 1)))


def _ago(created: dt.datetime | None) -> str:
    minutes = int((now() - created).total_seconds() // 60) if created else 0
    return f"{minutes} minutes" if minutes < 60 else f"{minutes // 60} hours"


async def storage_annotations(annotations: list[Annotation]) -> dict[int, dict[str, Any]]:
    """Label Studio's StorageAnnotationSerializer for each annotation, by id: the annotation, its
    author, its task (raw URIs). The tasks and authors of a whole batch in two queries."""
    if not annotations:
        return {}
    task_ids = ", ".join(str(int(a.task)) for a in annotations)
    tasks = {t.id: t for t in await many(Task, f"id IN ({task_ids})")}
    users = {u["id"]: u for u in await User.select(User.id, User.first_name, User.last_name, User.email).where(
        User.id.is_in(list({a.completed_by for a in annotations if a.completed_by is not None}) or [0]))}
    out = {}
    for annotation in annotations:
        user, task = users.get(annotation.completed_by), tasks.get(annotation.task)
        body = payloads.annotation_payload(annotation)
        body.update(created_username=f" {user['email'] if user else ''}, {annotation.completed_by}",
                    created_ago=_ago(annotation.created_at), completed_by=user or annotation.completed_by,
                    task=payloads.task_payload(task) if task else None)
        out[annotation.id] = body
    return out


def encoded(storage: Storage, body: dict[str, Any]) -> bytes:
    """Compact JSON for cloud storages, indented by 2 for local files, as Label Studio writes them."""
    if storage.kind == "localfiles":
        return json.dumps(body, indent=2, ensure_ascii=False).encode()
    return orjson.dumps(body)


async def write(storage: Storage, annotation_id: int, body: dict[str, Any] | None) -> None:
    """The annotation's object written, or removed (with can_delete_objects) when `body` is None: it is gone."""
    kind, config, secrets = service.kind_of(storage), storage.config, service.secrets_of(storage)
    key = kind.export_key(config, str(annotation_id))
    if body is None:
        if config.get("can_delete_objects"):
            await anyio.to_thread.run_sync(kind.remove, config, secrets, key)
        return
    await anyio.to_thread.run_sync(kind.put, config, secrets, key, encoded(storage, body), "application/json")


async def _note_failures(storage_id: int) -> None:
    """The storage's traceback lists its failing writes (newest first), or clears once none is left."""
    found = await raw("SELECT annotation, attempts, error FROM lw_storage_export WHERE storage = {} AND error IS NOT "
                      f"NULL ORDER BY updated_at DESC LIMIT {LISTED}", storage_id)
    lines = [f"annotation {r['annotation']}: {r['error']} (attempt {r['attempts']})" for r in found]
    async with write_tx():
        await raw("UPDATE lw_storage SET traceback = {} WHERE id = {} AND role = 'export'",
                  "\n".join(lines) or None, storage_id)


async def drain() -> int:
    """Write every due outbox row; the number written."""
    due = await raw("SELECT id, storage, annotation, attempts, generation FROM lw_storage_export WHERE state = "
                    f"'pending' AND next_attempt_at <= {{}} ORDER BY id LIMIT {BATCH}", now())
    ids = ", ".join(str(int(r["annotation"])) for r in due) or "0"
    bodies = await storage_annotations(await many(Annotation, f"id IN ({ids})"))
    storages: dict[int, Storage | None] = {}
    written, troubled = 0, set()
    for row in due:
        if row["storage"] not in storages:
            storages[row["storage"]] = await service.get(row["storage"], "export")
        storage = storages[row["storage"]]
        if storage is None:
            continue
        state, error, attempts = "done", None, row["attempts"]
        try:
            await write(storage, row["annotation"], bodies.get(row["annotation"]))
            written += 1
        except StorageError as exc:
            attempts += 1
            state, error = ("failed" if attempts >= MAX_ATTEMPTS else "pending"), str(exc)
        if error or row["attempts"]:
            troubled.add(storage.id)
        async with write_tx():  # only what it wrote: a change meanwhile keeps the row due
            await raw("UPDATE lw_storage_export SET state = {}, attempts = {}, error = {}, next_attempt_at = {}, "
                      "updated_at = {} WHERE id = {} AND generation = {}", state, attempts, error,
                      now() + backoff(attempts) if error else now(), now(), row["id"], row["generation"])
    for storage_id in troubled:
        await _note_failures(storage_id)
    return written


async def export_all(job: Job) -> dict[str, Any]:
    """The job: every annotation of the project written again, page by page, with progress."""
    storage = await service.get(int(job.params["storage"]), "export")
    if storage is None:
        return {"written": 0, "skipped": "the storage was deleted"}
    meta = await status.started(storage, job.id)
    total = (await raw("SELECT COUNT(*) AS n FROM lw_annotation WHERE project = {}", storage.project))[0]["n"]
    written, after, failures = 0, 0, []
    while page := await many(Annotation, "project = {} AND id > {}", storage.project, after,
                             tail=f"ORDER BY id LIMIT {PAGE}"):
        bodies = await storage_annotations(page)
        for annotation in page:
            try:
                await write(storage, annotation.id, bodies[annotation.id])
                written += 1
            except StorageError as exc:
                failures.append(f"annotation {annotation.id}: {exc}")
        after = page[-1].id
        meta["total_annotations"] = written
        await status.ping(storage.id, meta)
        await set_progress(job.id, written + len(failures), total)
    state = "completed" if not failures else "completed_with_errors" if written else "failed"
    await status.finished(storage.id, meta, state, written, "\n".join(failures[:1000]) or None)
    return {"written": written, "errors": len(failures), "status": state}
