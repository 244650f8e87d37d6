"""An import is all there or not there at all, whenever the process dies, without holding the
database's write lock for the whole import.

Its rows go first to staging tables that no page, API or count reads (lw_import_task,
lw_import_annotation, lw_import_prediction), one batch per short transaction, under a run
(lw_import). When every row is staged, `publish` copies them into lw_task, lw_annotation and
lw_prediction with one INSERT … SELECT each, reserves the inner ids and moves the project's
counters, in one transaction: a crash before its commit leaves nothing visible, after it
everything, with counters equal to the rows and inner ids without a gap (they are taken only
there). The staged rows are then cleared; the rows of a run whose process died are swept by the
next import (`sweep`)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.clock import now
from app.db import insert_rows, write_tx
from app.rows import raw
from app.tables import ImportRun, Project
from app.tasks import counters
from app.webhooks import outbox as webhooks

log = logging.getLogger("labelwell.import")

STAGED_TASK = ["run", "seq", "data", "meta", "file_upload", "done", "skipped", "predicted", "created_at", "updated_at"]
STAGED_ANNOTATION = ["run", "seq", "completed_by", "result", "was_cancelled", "ground_truth", "lead_time", "unique_id",
                     "created_at", "updated_at"]
STAGED_PREDICTION = ["run", "seq", "result", "score", "model_version", "created_at"]
STAGING_TABLES = ("lw_import_task", "lw_import_annotation", "lw_import_prediction")
CLEAR_CHUNK = 20_000  # staged tasks deleted per transaction: the write lock is held for ~0.1 s at most
STALE = dt.timedelta(hours=1)  # a run of another host that staged nothing for this long is abandoned


@dataclass
class Tally:
    """What a run has staged so far."""

    tasks: int = 0
    annotations: int = 0
    skipped: int = 0
    predictions: int = 0
    done: int = 0  # tasks with at least one finished annotation: only then can one be labeled


@dataclass
class Published:
    first_inner_id: int
    seconds: float = 0.0  # the publishing transaction: how long the write lock was held
    task_ids: list[int] = field(default_factory=list)


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _started(pid: int) -> str:
    """The process's start time (clock ticks since boot), so a reused pid is not taken for it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


def me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{_started(os.getpid())}"


def abandoned(owner: str, seen_at: dt.datetime) -> bool:
    """A run whose process is gone: on this host we can tell; from another, only by its silence."""
    host, _, rest = owner.partition(":")
    pid, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return seen_at < now() - STALE
    if os.path.isdir("/proc/self"):  # Linux: the pid is gone, or is another process by now
        return not os.path.isdir(f"/proc/{pid}") or _started(int(pid)) != started
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        pass
    return seen_at < now() - STALE


async def open_run(project_id: int, total: int) -> int:
    async with write_tx():
        rows = await ImportRun.insert(ImportRun(project=project_id, owner=me(), total=total)).returning(ImportRun.id)
    return rows[0]["id"]


async def stage(run: int, batch: list[tuple[int | None, dict]], tally: Tally) -> None:
    """Stage one batch of (upload id, normalized task), in its own short transaction."""
    tasks, annotations, predictions = [], [], []
    for offset, (upload_id, task) in enumerate(batch):
        seq = tally.tasks + offset
        done = sum(1 for a in task["annotations"] if not a["was_cancelled"])
        tasks.append((run, seq, dumps(task["data"]), dumps(task["meta"]), upload_id, done,
                      len(task["annotations"]) - done, len(task["predictions"]), task["created_at"], task["updated_at"]))
        tally.done += done > 0
        annotations += [(run, seq, a["completed_by"], dumps(a["result"]), a["was_cancelled"], a["ground_truth"],
                         a["lead_time"], a["unique_id"], a["created_at"], a["updated_at"]) for a in task["annotations"]]
        predictions += [(run, seq, dumps(p["result"]), p["score"], p["model_version"], p["created_at"])
                        for p in task["predictions"]]
    async with write_tx():
        await insert_rows("lw_import_task", STAGED_TASK, tasks)
        await insert_rows("lw_import_annotation", STAGED_ANNOTATION, annotations)
        await insert_rows("lw_import_prediction", STAGED_PREDICTION, predictions)
        await ImportRun.update({ImportRun.seen_at: now()}).where(ImportRun.id == run)
    tally.tasks += len(tasks)
    tally.annotations += len(annotations)
    tally.skipped += sum(1 for a in annotations if a[4])
    tally.predictions += len(predictions)


def overlap_sql(inner_id: str, maximum: int, cohort: int) -> str:
    """service.overlap_of in SQL (the same cohort rule); (x % 100) * 37 cannot overflow 32 bits."""
    if maximum <= 1:
        return "1"
    return f"(CASE WHEN ((({inner_id}) % 100) * 37) % 100 < {int(cohort)} THEN {int(maximum)} ELSE 1 END)"


class RunLost(RuntimeError):
    """The run is no longer staging (swept, or its project deleted): nothing of it is published."""


async def publish(run: int, project_id: int, tally: Tally, want_ids: bool,
                  within: Callable[[], Awaitable[Any]] | None = None) -> Published:
    """Everything staged under `run` becomes visible at once, with the counters, or nothing does.
    One transaction of a few statements: ~0.5 s per 100,000 tasks on SQLite. `within` runs in the
    same transaction (a reimport's old tasks go as the new ones come)."""
    started = time.perf_counter()
    async with write_tx():
        if within is not None:
            await within()
        claimed = await ImportRun.update({ImportRun.state: "published"}).where(
            ImportRun.id == run, ImportRun.state == "staging").returning(ImportRun.id)
        project = await Project.select(Project.maximum_annotations, Project.overlap_cohort_percentage).where(
            Project.id == project_id).first()
        if not claimed or project is None:
            raise RunLost(f"import run {run} of project {project_id} is gone; nothing was imported")
        first = await counters.next_inner_ids(project_id, tally.tasks)
        pid, base, run = int(project_id), int(first), int(run)  # ints only: safe to inline
        overlap = overlap_sql(f"{base} + seq", project["maximum_annotations"], project["overlap_cohort_percentage"])
        await raw(
            "INSERT INTO lw_task (project, inner_id, data, meta, file_upload, is_labeled, overlap, total_annotations, "
            "cancelled_annotations, total_predictions, created_at, updated_at) "
            f"SELECT {pid}, {base} + seq, data, meta, file_upload, done >= {overlap}, {overlap}, done, skipped, "
            f"predicted, created_at, updated_at FROM lw_import_task WHERE run = {run} ORDER BY seq")
        if tally.annotations:
            await raw(
                "INSERT INTO lw_annotation (task, project, completed_by, result, was_cancelled, ground_truth, lead_time, "
                f"unique_id, created_at, updated_at) SELECT t.id, {pid}, a.completed_by, a.result, a.was_cancelled, "
                "a.ground_truth, a.lead_time, a.unique_id, a.created_at, a.updated_at FROM lw_import_annotation a "
                f"JOIN lw_task t ON t.project = {pid} AND t.inner_id = {base} + a.seq WHERE a.run = {run} ORDER BY a.id")
        if tally.predictions:
            await raw(
                "INSERT INTO lw_prediction (task, project, result, score, model_version, created_at, updated_at) "
                f"SELECT t.id, {pid}, p.result, p.score, p.model_version, p.created_at, p.created_at "
                f"FROM lw_import_prediction p JOIN lw_task t ON t.project = {pid} AND t.inner_id = {base} + p.seq "
                f"WHERE p.run = {run} ORDER BY p.id")
        labeled = await counters.labeled_between(project_id, base, base + tally.tasks) if tally.done else 0
        await counters.shift(project_id, task_number=tally.tasks, finished_task_number=labeled,
                             total_annotations_number=tally.annotations - tally.skipped,
                             skipped_annotations_number=tally.skipped, total_predictions_number=tally.predictions)
        await webhooks.tasks_created(project_id, inner_ids=(base, base + tally.tasks))
    published = Published(first, seconds=time.perf_counter() - started)
    log.info("import run %s: %s tasks published in %.3f s", run, tally.tasks, published.seconds)
    if want_ids:
        published.task_ids = [r["id"] for r in await raw(
            f"SELECT id FROM lw_task WHERE project = {pid} AND inner_id >= {base} AND inner_id < {base + tally.tasks} "
            "ORDER BY inner_id")]
    return published


async def clear(run: int, total: int) -> None:
    """Delete a run's staged rows, a chunk per transaction, then the run: published or abandoned,
    its rows are of no more use. The run goes with the last chunk, so staged rows never outlive it."""
    run = int(run)
    for low in range(0, max(0, total - CLEAR_CHUNK), CLEAR_CHUNK):
        async with write_tx():
            for table in STAGING_TABLES:
                await raw(f"DELETE FROM {table} WHERE run = {run} AND seq >= {low} AND seq < {low + CLEAR_CHUNK}")
    async with write_tx():
        for table in STAGING_TABLES:
            await raw(f"DELETE FROM {table} WHERE run = {run}")
        await ImportRun.delete().where(ImportRun.id == run)


async def sweep() -> int:
    """Clear the runs left behind: published ones whose rows were not cleared yet, and those whose
    process died before publishing (kill -9, a power cut). Returns how many."""
    swept = 0
    for found in await ImportRun.select(ImportRun.id, ImportRun.state, ImportRun.owner, ImportRun.total,
                                        ImportRun.seen_at):
        mine = found["owner"] == me()  # this process's own runs are in progress (or clearing themselves)
        if not mine and (found["state"] == "published" or abandoned(found["owner"], found["seen_at"])):
            log.warning("clearing import run %s (%s, %s tasks staged by %s)", found["id"], found["state"],
                        found["total"], found["owner"])
            await clear(found["id"], found["total"])
            swept += 1
    return swept
