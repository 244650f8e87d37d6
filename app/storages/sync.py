"""Import sync: list the storage page by page (bounded memory for any bucket) and make tasks of
what is new, a batch per write transaction together with its StorageLink rows. Each batch first
takes the storage's row (an UPDATE: a row lock on PostgreSQL; SQLite's IMMEDIATE transactions
already take turns), then drops the (key, row_index) pairs already linked: a re-sync, two syncs
at once or a sync killed midway never make a task twice. A task file's rows all go in one batch,
so a file is in the project entirely or not at all, and a re-sync skips files already linked."""

from __future__ import annotations

import json
import logging
import tempfile
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from app.clock import now
from app.data_import import readers
from app.data_import.normalize import ItemError, normalize
from app.data_import.service import rules_for
from app import jobs
from app.errors import InputError
from app.jobs import set_progress
from app.settings import settings
from app.storages import links, service, status
from app.storages.faults import StorageError
from app.tables import Project
from components import parse_config

if TYPE_CHECKING:
    from app.tables import Job, Storage

log = logging.getLogger("labelwell.storages")
PAGE = 1000  # objects taken from the listing at a time
BATCH = 1000  # tasks per write transaction
LISTED = 1000  # failures kept in the traceback
UNDEFINED = "$undefined$"
TASK_FILES = ("json", "jsonl", "ndjson", "")


class Sync:
    """One run over one storage: what it created, skipped and could not take."""

    def __init__(self, storage: Storage, project: Project, meta: dict[str, Any]) -> None:
        self.storage, self.project, self.meta = storage, project, meta
        self.kind, self.config, self.secrets = service.kind_of(storage), storage.config, service.secrets_of(storage)
        self.created = self.existed = self.seen = 0
        self.failures: list[str] = []
        self.pending: list[tuple[str, int, dict[str, Any]]] = []
        self.rules: Any = None

    def fail(self, line: str) -> None:
        if len(self.failures) < LISTED:
            self.failures.append(line)
        elif len(self.failures) == LISTED:
            self.failures.append("… and more: fix these and sync again")

    async def flush(self) -> None:
        if self.pending:
            created, existed = await links.write_batch(self.storage.id, self.project, self.pending)
            self.created, self.existed, self.pending = self.created + created, self.existed + existed, []


def _extension(key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def blob_key(project: Project) -> str:
    """The data key a media object fills: the config's only one (Label Studio stores "$undefined$"
    and swaps it when serving; we store the real key, and "$undefined$" only when there is none)."""
    keys = list(dict.fromkeys(readers_required(project)))
    return keys[0] if len(keys) == 1 else UNDEFINED


def readers_required(project: Project) -> list[str]:
    try:
        return parse_config(project.label_config).required_keys()
    except Exception:  # noqa: BLE001 - a config that does not parse has no keys to fill
        return []


def _file_items(key: str, raw: bytes) -> list[tuple[str, Any]]:
    """(where, item or readers.Bad) of a task file: JSON (an object or an array) or JSONL."""
    fmt = "jsonl" if _extension(key) in ("jsonl", "ndjson") else "json"
    if fmt == "json" and not _extension(key):  # no extension: JSON if it parses whole, else JSONL
        try:
            json.loads(raw)
        except ValueError:
            fmt = "jsonl"
    with tempfile.NamedTemporaryFile(suffix="." + fmt) as fh:
        fh.write(raw)
        fh.flush()
        return list(readers.items(Path(fh.name), fmt))


async def take_file(run: Sync, item: dict[str, Any]) -> None:
    key = item["key"]
    if _extension(key) not in TASK_FILES:
        raise StorageError(f"{key} is not a JSON or JSONL task file. To make a task of each object "
                           "(images, audio, …), turn on \"Treat every object as a source file\" (use_blob_urls).")
    limit = settings.upload_max_bytes
    if (item.get("size") or 0) > limit:
        run.fail(f"{key}: {item['size']:,} bytes, over the {limit // (1024 * 1024)} MB limit "
                 "(LABELWELL_UPLOAD_MAX_MB): not read")
        return
    try:
        raw = await anyio.to_thread.run_sync(run.kind.read, run.config, run.secrets, key, limit)
    except StorageError as exc:
        run.fail(f"{key}: {exc}")
        return
    rows = []
    for index, (where, found) in enumerate(await anyio.to_thread.run_sync(_file_items, key, raw)):
        if isinstance(found, readers.Bad):
            run.fail(f"{key}, {where}: {found.message}")
            continue
        try:
            rows.append((key, index, normalize(found, run.rules)))
        except ItemError as exc:
            run.fail(f"{key}, {where}: {exc}")
    run.pending += rows


def media_task(run: Sync, key: str, data_key: str) -> tuple[str, int, dict[str, Any]]:
    stamp = now()
    return key, 0, {"data": {data_key: run.kind.uri(run.config, key)}, "meta": {}, "annotations": [],
                    "predictions": [], "created_at": stamp, "updated_at": stamp}


async def sync_page(run: Sync, page: list[dict[str, Any]], data_key: str | None) -> None:
    linked = await links.linked_keys(run.storage.id, [o["key"] for o in page])
    for item in page:
        if item["key"] in linked:
            run.existed += 1
            continue
        if data_key is not None:
            run.pending.append(media_task(run, item["key"], data_key))
        else:
            await take_file(run, item)
        if len(run.pending) >= BATCH:
            await run.flush()
    await run.flush()


async def run_sync(job: Job) -> dict[str, Any]:
    """The job: every object listed once, new ones made tasks; the status block kept as it goes."""
    storage = await service.get(int(job.params["storage"]))
    project = await Project.objects().where(Project.id == storage.project).first() if storage else None
    if storage is None or project is None:
        return {"created": 0, "skipped": "the storage was deleted"}
    run = Sync(storage, project, await status.started(storage, job.id))
    data_key = blob_key(project) if run.config.get("use_blob_urls") else None
    if data_key is None:
        run.rules = await rules_for(project, job.created_by or 0, {})
    state, traceback = "completed", None
    try:
        listing = run.kind.objects(run.config, run.secrets)
        while page := await anyio.to_thread.run_sync(lambda: list(islice(listing, PAGE))):
            run.seen += len(page)
            await sync_page(run, page, data_key)
            run.meta["tasks_existed"] = run.existed
            await status.ping(storage.id, run.meta)
            await set_progress(job.id, run.seen, run.seen)
    except StorageError as exc:
        state, traceback = "failed", str(exc)
    except Exception as exc:
        await status.finished(storage.id, run.meta, "failed", run.created, f"The sync failed: {type(exc).__name__}")
        raise
    if state != "failed" and run.failures:
        state, traceback = "completed_with_errors", "\n".join(run.failures)
    elif state == "failed" and run.failures:
        traceback = "\n".join([traceback or "", *run.failures])
    run.meta["tasks_existed"] = run.existed
    await status.finished(storage.id, run.meta, state, run.created, traceback)
    return {"created": run.created, "existed": run.existed, "objects": run.seen, "status": state,
            "errors": len(run.failures)}


async def start(storage: Storage, user_id: int) -> Storage:
    """POST …/sync: the connection checked again, then a job queued (an export storage's writes
    every annotation again); the storage as it now is."""
    if not storage.synchronizable:
        raise InputError({"synchronizable": [f"Storage {storage.id} is not synchronizable"]})
    await service.check(service.kind_of(storage), storage.config, service.secrets_of(storage), storage.role)
    kind = "storage_sync" if storage.role == "import" else "storage_export"
    job = await jobs.enqueue(kind, project_id=storage.project, user_id=user_id, params={"storage": storage.id})
    await status.queued(storage, job.id)
    return await service.get(storage.id)
