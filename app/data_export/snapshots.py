"""Label Studio's export snapshots: a JSON file of the project (its options chosen when it is
made), written by a job into the data folder, then listed, downloaded in any format our writers
have (converted as it streams, or once by `convert`) and deleted.

The file is the JSON export, one task record a line, so reading it back for a conversion holds one
record at a time. Image sizes known from uploads (which COCO needs) go in a small side file, in
the same order. A snapshot's status follows its job until the job writes the final word, so a
worker that dies mid-export leaves it failed (app/system/recovery.py fails the job), never pending.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson

from app import jobs, rows
from app.clock import now
from app.data_export import records
from app.data_export.formats import FORMATS, Format, available, write_json
from app.data_export.schemas import (filters_from_params, filters_to_params, snapshot_filters, snapshot_json,
                                     snapshot_options)
from app.data_export.service import chosen_format
from app.db import is_postgres, read_snapshot, write_tx
from app.errors import InputError
from app.settings import settings
from app.tables import ExportSnapshot, Job, Project, User, View
from components import parse_config

log = logging.getLogger("labelwell.export")
LISTED = 100  # as Label Studio: the newest hundred


def folder(project_id: int) -> Path:
    return settings.data_dir / "exports" / str(project_id)


def snapshot_file(row: dict) -> Path:
    return folder(row["project"]) / f"project-{row['project']}-snapshot-{row['id']}.json"


def sizes_file(row: dict) -> Path:
    return snapshot_file(row).with_suffix(".sizes")


def converted_file(row: dict, entry_id: int, fmt: Format) -> Path:
    return folder(row["project"]) / f"project-{row['project']}-snapshot-{row['id']}-{entry_id}.{fmt.extension}"


async def _row(project_id: int, snapshot_id: int) -> dict | None:
    return await ExportSnapshot.select().where(ExportSnapshot.id == snapshot_id,
                                               ExportSnapshot.project == project_id).output(load_json=True).first()


async def _render(rows: list[dict], full: bool = False) -> list[dict[str, Any]]:
    job_ids = {r["job"] for r in rows if r["job"]} | {e["id"] for r in rows for e in r["converted_formats"]}
    found = await Job.select(Job.id, Job.state, Job.error, Job.finished_at).where(
        Job.id.is_in(list(job_ids) or [0]))
    by_id = {j["id"]: j for j in found}
    user_ids = {r["created_by"] for r in rows if r["created_by"]}
    users = {u["id"]: u for u in await User.select(User.id, User.first_name, User.last_name, User.email).where(
        User.id.is_in(list(user_ids) or [0]))}
    return [snapshot_json(r, by_id, users.get(r["created_by"]), full) for r in rows]


async def listed(project: Project) -> list[dict[str, Any]]:
    rows = await ExportSnapshot.select().where(ExportSnapshot.project == project.id).order_by(
        ExportSnapshot.id, ascending=False).limit(LISTED).output(load_json=True)
    return await _render(rows)


async def one(project: Project, snapshot_id: int) -> dict[str, Any] | None:
    row = await _row(project.id, snapshot_id)
    return (await _render([row]))[0] if row else None


async def create(user: User, project: Project, body: Any, query: Any, extra: records.Filters) -> dict[str, Any]:
    """A new snapshot, its job queued: answers at once, in_progress (the job may finish first)."""
    options = snapshot_options(body, query)
    filters = snapshot_filters(options, extra, await view_filters(project, options["task_filter_options"]["view"]))
    title = options.pop("title") or f"{project.title.replace(' ', '-')}-at-{now().strftime('%Y-%m-%d-%H-%M')}"
    row = ExportSnapshot(project=project.id, title=title, created_by=user.id, options=options,
                         params=filters_to_params(filters), counters={}, converted_formats=[])
    async with write_tx():
        await row.save()
    # quiet: a broker that refuses the job leaves it failed, and the snapshot with it
    job = await jobs.enqueue("export", project_id=project.id, user_id=user.id, params={"snapshot": row.id}, quiet=True)
    async with write_tx():
        await ExportSnapshot.update({ExportSnapshot.job: job.id}).where(ExportSnapshot.id == row.id)
    found = await _row(project.id, row.id)
    return (await _render([found], full=True))[0]


async def view_filters(project: Project, view_id: int | None) -> Any:
    """task_filter_options.view: the tab's filters, kept with the snapshot as they are now (Label
    Studio's SDK deletes the view it made for project.export() once the file is down). A view of
    another project, or none, is a 400 where Label Studio would quietly export every task."""
    if view_id is None:
        return None
    view = await rows.one(View, "id = {} AND project = {}", view_id, project.id)
    if view is None:
        raise InputError({"task_filter_options.view": [f"Project {project.id} has no view {view_id}."]})
    found = (view.data or {}).get("filters")
    records.view_where(found)  # a filter this database cannot run (regex on SQLite) is a 400 now, not a failed job
    return found


async def delete(project: Project, snapshot_id: int) -> bool:
    row = await _row(project.id, snapshot_id)
    if row is None:
        return False
    async with write_tx():
        await ExportSnapshot.delete().where(ExportSnapshot.id == row["id"])
    _remove_files(row)
    return True


def _remove_files(row: dict) -> None:
    snapshot_file(row).unlink(missing_ok=True)
    sizes_file(row).unlink(missing_ok=True)
    for path in folder(row["project"]).glob(f"project-{row['project']}-snapshot-{row['id']}-*"):
        path.unlink(missing_ok=True)


def _opener(row: dict) -> Any:
    """A function that opens the snapshot's records, one line at a time (a writer may read twice)."""
    async def read() -> AsyncIterator[dict[str, Any]]:
        sizes_path = sizes_file(row)
        with open(snapshot_file(row), "rb") as fh, \
                (open(sizes_path, "rb") if sizes_path.exists() else io.BytesIO()) as sizes:
            size_line = sizes.readline().split()
            for n, line in enumerate(fh):
                line = line.strip().rstrip(b",")
                if line in (b"[", b"]", b""):
                    continue
                record = orjson.loads(line)
                if size_line and int(size_line[0]) == record["id"]:
                    record["_size"] = (int(size_line[1]), int(size_line[2]))
                    size_line = sizes.readline().split()
                yield record
                if n % 200 == 0:
                    await asyncio.sleep(0)  # let other requests in between batches
    return read


async def download(project: Project, snapshot_id: int, name: str | None) -> tuple[Any, Format, str] | None:
    """(a path or a stream of chunks, its format, a file name), or None if there is no completed snapshot.
    JSON is the file itself; another format is a finished conversion's file, or converted as it is sent."""
    row = await _row(project.id, snapshot_id)
    if row is None or (await _render([row]))[0]["status"] != "completed" or not snapshot_file(row).is_file():
        return None
    name = (name or "JSON").upper()
    if name == "JSON":
        return snapshot_file(row), FORMATS["JSON"], snapshot_file(row).name
    config, fmt = chosen_format(project, name)
    stem = snapshot_file(row).stem
    for entry in row["converted_formats"]:
        path = converted_file(row, entry["id"], fmt)
        if entry["export_type"] == name and path.is_file():
            done = await Job.select(Job.state).where(Job.id == entry["id"]).first()
            if done and done["state"] == "done":
                return path, fmt, path.name
    extra = {"data_keys": await records.data_keys(project.id)} if fmt.wants_data_keys else {}
    return fmt.writer(_opener(row), config, **extra), fmt, f"{stem}.{fmt.extension}"


async def convert(user: User, project: Project, snapshot_id: int, name: Any) -> dict[str, Any] | None:
    """Label Studio's convert: a job writes the snapshot in that format once; `converted_formats` shows it."""
    row = await _row(project.id, snapshot_id)
    if row is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise InputError({"export_type": ["Name a format, such as CSV."]})
    name = name.strip().upper()
    if name == "JSON":
        raise InputError({"export_type": ["The snapshot is JSON already: download it as it is."]})
    try:
        chosen_format(project, name)
    except InputError as exc:
        raise InputError({"export_type": exc.errors["exportType"]}) from None
    if (await _render([row]))[0]["status"] != "completed":
        raise InputError({"export_type": ["The snapshot is not completed yet."]})
    if any(e["export_type"] == name and e["status"] != "failed" for e in (await _render([row]))[0]["converted_formats"]):
        raise InputError({"export_type": [f"Conversion to {name} already started"]})
    # queued outside the transaction: the worker must see the job's row when the message comes
    job = await jobs.enqueue("export_convert", project_id=project.id, user_id=user.id,
                             params={"snapshot": row["id"], "format": name}, quiet=True)
    async with write_tx():
        if is_postgres():  # two converts at once: each appends to the list the other wrote
            await ExportSnapshot.raw("SELECT id FROM lw_export WHERE id = {} FOR UPDATE", row["id"])
        current = await _row(project.id, snapshot_id)
        if current is None:
            return None
        kept = [e for e in current["converted_formats"] if e["export_type"] != name]
        await ExportSnapshot.update({ExportSnapshot.converted_formats: [*kept, {"id": job.id, "export_type": name}]}).where(
            ExportSnapshot.id == row["id"])
    return {"export_type": name, "converted_format": job.id}


# -- the jobs -----------------------------------------------------------------------------------

async def build(job: Job) -> dict[str, Any]:
    """Write the snapshot's file: the records its options keep, counted; then its final word."""
    row = await ExportSnapshot.select().where(ExportSnapshot.id == job.params["snapshot"]).output(load_json=True).first()
    if row is None:
        return {"snapshot": job.params["snapshot"], "deleted": True}
    project = await Project.objects().where(Project.id == row["project"]).first()
    await _set(row["id"], status="in_progress")
    try:
        result = await _write(row, project)
    except Exception as exc:
        log.exception("snapshot %s of project %s failed", row["id"], row["project"])
        _remove_files(row)
        await _set(row["id"], status="failed", finished_at=now())
        raise jobs.JobFailed(f"The export stopped: {exc}", {"snapshot": row["id"]}) from exc
    if await _set(row["id"], status="completed", finished_at=now(), md5=result.pop("md5"), counters=result["counters"]):
        return result
    _remove_files(row)  # deleted while it was written
    return {"snapshot": row["id"], "deleted": True}


async def _set(snapshot_id: int, **values: Any) -> bool:
    async with write_tx():
        done = await ExportSnapshot.update({getattr(ExportSnapshot, k): v for k, v in values.items()}).where(
            ExportSnapshot.id == snapshot_id).returning(ExportSnapshot.id)
    return bool(done)


async def _write(row: dict, project: Project) -> dict[str, Any]:
    filters = filters_from_params(row["params"])
    expand = row["options"].get("serialization_options", {})
    filters.interpolate_key_frames = filters.interpolate_key_frames or bool(expand.get("interpolate_key_frames"))
    prediction_ids = expand.get("predictions", {}).get("only_id", True)
    draft_ids = expand.get("drafts", {}).get("only_id", True)
    user_ids = expand.get("annotations__completed_by", {}).get("only_id", True)
    counters = {"task_number": 0, "annotation_number": 0, "prediction_number": 0}
    users: dict[int, Any] = {}
    path, sizes_path = snapshot_file(row), sizes_file(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    part, sizes_part = path.with_suffix(".part"), sizes_path.with_suffix(".sizes-part")
    digest = hashlib.md5(usedforsecurity=False)

    async with read_snapshot():  # one moment for every batch: annotating meanwhile changes nothing here
        promised = await records.expected_count(project.id, filters)
        with open(part, "wb") as fh, open(sizes_part, "w") as sizes:
            async def opened() -> AsyncIterator[dict[str, Any]]:
                async for record in records.tasks(project.id, filters):
                    counters["task_number"] += 1
                    counters["annotation_number"] += len(record["annotations"])
                    counters["prediction_number"] += len(record["predictions"])
                    if record.get("_size"):
                        sizes.write(f"{record['id']} {record['_size'][0]} {record['_size'][1]}\n")
                    if prediction_ids:
                        record["predictions"] = [p["id"] for p in record["predictions"]]
                    if not user_ids:
                        for a in record["annotations"]:
                            a["completed_by"] = await _user(users, a["completed_by"])
                    if draft_ids:
                        record["drafts"] = [d["id"] for d in record["drafts"]]
                    yield record

            async for chunk in write_json(opened, parse_config(project.label_config)):
                data = chunk.encode()
                fh.write(data)
                digest.update(data)
    if counters["task_number"] != promised:
        raise records_mismatch(counters["task_number"], promised)
    part.replace(path)
    sizes_part.replace(sizes_path)
    return {"snapshot": row["id"], "records": counters["task_number"], "counters": counters, "format": "JSON",
            "file": path.name, "size": path.stat().st_size, "md5": digest.hexdigest()}


def records_mismatch(written: int, promised: int) -> RuntimeError:
    return RuntimeError(f"wrote {written} of {promised} records")


async def _user(cache: dict[int, Any], user_id: Any) -> Any:
    if not isinstance(user_id, int):
        return user_id
    if user_id not in cache:
        found = await User.select(User.id, User.first_name, User.last_name, User.email).where(User.id == user_id).first()
        cache[user_id] = {**found, "avatar": None} if found else user_id
    return cache[user_id]


async def convert_file(job: Job) -> dict[str, Any]:
    row = await ExportSnapshot.select().where(ExportSnapshot.id == job.params["snapshot"]).output(load_json=True).first()
    if row is None or not snapshot_file(row).is_file():
        raise jobs.JobFailed("The snapshot is gone.", {})
    project = await Project.objects().where(Project.id == row["project"]).first()
    config, fmt = chosen_format(project, job.params["format"])
    path = converted_file(row, job.id, fmt)
    part = path.with_suffix(".part")
    extra = {"data_keys": await records.data_keys(project.id)} if fmt.wants_data_keys else {}
    try:
        with open(part, "wb") as fh:
            async for chunk in fmt.writer(_opener(row), config, **extra):
                fh.write(chunk.encode() if isinstance(chunk, str) else chunk)
        part.replace(path)
    except Exception as exc:
        part.unlink(missing_ok=True)
        raise jobs.JobFailed(f"The conversion stopped: {exc}", {"snapshot": row["id"]}) from exc
    return {"snapshot": row["id"], "format": fmt.name, "file": path.name, "size": path.stat().st_size}



async def card(project: Project) -> dict[str, Any]:
    """The export card's list: each snapshot with the formats it downloads in."""
    from_config = [f.name for f in available(parse_config(project.label_config))]
    rows = await listed(project)
    return {"project": project, "snapshots": rows, "snapshot_formats": from_config,
            "pending": any(r["status"] in ("created", "in_progress") for r in rows)}
