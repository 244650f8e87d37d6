"""Importing tasks: check every item first (nothing is stored if anything is wrong), then store in
batches with the counters, so a million tasks go in with bounded memory."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import anyio
import orjson

from app.data_import import readers
from app.data_import.normalize import ItemError, Rules, normalize
from app.db import insert_rows, write_tx
from app.settings import settings
from app.tables import FileUpload, Project, Task, User
from app.tasks import counters
from components import parse_config

BATCH = 2000
LISTED_ERRORS = 20
TASK_COLUMNS = ["project", "inner_id", "data", "meta", "file_upload", "is_labeled", "overlap", "total_annotations",
                "cancelled_annotations", "total_predictions", "created_at", "updated_at"]
ANNOTATION_COLUMNS = ["task", "project", "completed_by", "result", "was_cancelled", "ground_truth", "lead_time",
                      "unique_id", "created_at", "updated_at"]
PREDICTION_COLUMNS = ["task", "project", "result", "score", "model_version", "created_at", "updated_at"]


@dataclass
class Source:
    """One file (or the request body) to import."""

    name: str
    fmt: str  # json, jsonl, csv, tsv, txt, image, body
    path: Path | None = None
    body: Any = None
    upload_id: int | None = None
    url: str | None = None  # for an image: the task's data value


@dataclass
class Report:
    task_count: int = 0
    annotation_count: int = 0
    prediction_count: int = 0
    task_ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    warnings: list[str] = field(default_factory=list)
    duration: float = 0.0


class ImportFailed(Exception):
    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(f"{report.error_count} problem(s): " + "; ".join(report.errors[:3]))


async def rules_for(project: Project, user_id: int, options: dict[str, Any]) -> Rules:
    config = parse_config(project.label_config)
    users = await User.select(User.id, User.email)
    return Rules(config=config, required_keys=config.required_keys(), user_ids={u["id"] for u in users},
                 user_emails={u["email"].lower(): u["id"] for u in users}, importer_id=user_id,
                 attribute_unknown=bool(options.get("attribute_unknown_authors")),
                 prediction_fields=list(options.get("preannotated_from_fields") or []))


def raw_items(source: Source, rules: Rules) -> Iterator[tuple[str, Any]]:
    if source.fmt == "body":
        return readers.body_items(source.body)
    if source.fmt == "image":
        return iter([("file", {rules.required_keys[0]: source.url})])
    return readers.items(source.path, source.fmt, rules.required_keys[0] if rules.required_keys else None)


def prepared(sources: list[Source], rules: Rules) -> Iterator[tuple[Source, str, dict | str]]:
    """(source, where, task or the reason it cannot be imported) for every item, in order."""
    for source in sources:
        if source.fmt in ("txt", "image") and len(rules.required_keys) != 1:
            yield source, "file", (f"{source.fmt.upper()} files fill the config's single data key, but this config "
                                   f"has {len(rules.required_keys)} ({', '.join(rules.required_keys) or 'none'}): "
                                   "use JSON or CSV")
            continue
        for where, raw in raw_items(source, rules):
            if isinstance(raw, readers.Bad):
                yield source, where, raw.message
                continue
            try:
                yield source, where, normalize(raw, rules)
            except ItemError as exc:
                yield source, where, str(exc)


def check_all(sources: list[Source], rules: Rules) -> Report:
    """The first pass: count and find every problem; store nothing."""
    report = Report()
    for source, where, task in prepared(sources, rules):
        if isinstance(task, str):
            report.error_count += 1
            if len(report.errors) < LISTED_ERRORS:
                report.errors.append(f"{source.name}, {where}: {task}")
            continue
        report.task_count += 1
        for warning in task["warnings"][:LISTED_ERRORS - len(report.warnings)]:
            report.warnings.append(f"{source.name}, {where}: {warning} (kept)")
        report.annotation_count += len(task["annotations"])
        report.prediction_count += len(task["predictions"])
    if not report.task_count and not report.error_count:
        report.error_count, report.errors = 1, ["No tasks found: the files are empty."]
    if report.task_count > settings.import_max_tasks:
        report.error_count += 1
        report.errors.insert(0, f"The import has {report.task_count:,} tasks; one import may add at most "
                                f"{settings.import_max_tasks:,} (LABELWELL_IMPORT_MAX_TASKS).")
    return report


async def run_import(project: Project, user_id: int, sources: list[Source], options: dict[str, Any] | None = None,
                     progress: Callable[[int, int], Awaitable[None]] | None = None) -> Report:
    """Import everything or nothing; `progress(done, total)` is awaited after each stored batch."""
    started = time.perf_counter()
    options = options or {}
    rules = await rules_for(project, user_id, options)
    report = await anyio.to_thread.run_sync(check_all, sources, rules)
    if report.error_count:
        raise ImportFailed(report)
    stored = Report()
    stream = prepared(sources, rules)

    def take() -> list:
        return list(islice(stream, BATCH))

    try:
        # the next batch is parsed (a thread) while this one is written (the database's thread)
        upcoming = asyncio.ensure_future(anyio.to_thread.run_sync(take))
        while batch := await upcoming:
            upcoming = asyncio.ensure_future(anyio.to_thread.run_sync(take))
            await store(project.id, [(s, t) for s, _, t in batch if isinstance(t, dict)], stored,
                        bool(options.get("return_task_ids")))
            if progress:
                await progress(stored.task_count, report.task_count)
    except BaseException:
        upcoming.cancel()
        await undo(project.id, sources, stored)
        raise
    stored.warnings = report.warnings
    stored.duration = round(time.perf_counter() - started, 3)
    return stored


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def overlap_of(inner_id: int, maximum: int, cohort: int) -> int:
    """Label Studio's overlap cohort: only `cohort` percent of tasks want several annotators
    (spread evenly by inner id, so it is the same on every run)."""
    return maximum if maximum > 1 and (inner_id * 37) % 100 < cohort else 1


async def store(project_id: int, batch: list[tuple[Source, dict]], report: Report, want_ids: bool) -> None:
    async with write_tx():
        row = await Project.select(Project.maximum_annotations, Project.overlap_cohort_percentage).where(
            Project.id == project_id).first()
        first = await counters.next_inner_ids(project_id, len(batch))
        tasks, labeled = [], 0
        for offset, (source, task) in enumerate(batch):
            overlap = overlap_of(first + offset, row["maximum_annotations"], row["overlap_cohort_percentage"])
            done = sum(1 for a in task["annotations"] if not a["was_cancelled"])
            labeled += done >= overlap
            tasks.append((project_id, first + offset, dumps(task["data"]), dumps(task["meta"]), source.upload_id,
                          done >= overlap, overlap, done, len(task["annotations"]) - done, len(task["predictions"]),
                          task["created_at"], task["updated_at"]))
        await insert_rows("lw_task", TASK_COLUMNS, tasks)
        # the new rows' ids are needed only to attach annotations and predictions, or when asked for
        needs_ids = want_ids or any(task["annotations"] or task["predictions"] for _, task in batch)
        ids = {r["inner_id"]: r["id"] for r in await Task.select(Task.id, Task.inner_id).where(
            Task.project == project_id, Task.inner_id >= first, Task.inner_id < first + len(batch))} if needs_ids else {}
        annotations, predictions = [], []
        for offset, (_, task) in enumerate(batch):
            if not (task["annotations"] or task["predictions"]):
                continue
            task_id = ids[first + offset]
            annotations += [(task_id, project_id, a["completed_by"], dumps(a["result"]), a["was_cancelled"],
                             a["ground_truth"], a["lead_time"], a["unique_id"], a["created_at"], a["updated_at"])
                            for a in task["annotations"]]
            predictions += [(task_id, project_id, dumps(p["result"]), p["score"], p["model_version"], p["created_at"],
                             p["created_at"]) for p in task["predictions"]]
        await insert_rows("lw_annotation", ANNOTATION_COLUMNS, annotations)
        await insert_rows("lw_prediction", PREDICTION_COLUMNS, predictions)
        skipped = sum(1 for a in annotations if a[4])
        await counters.shift(project_id, task_number=len(batch), total_annotations_number=len(annotations) - skipped,
                             skipped_annotations_number=skipped, total_predictions_number=len(predictions),
                             finished_task_number=labeled)
    report.task_count += len(batch)
    report.annotation_count += len(annotations)
    report.prediction_count += len(predictions)
    if want_ids:
        report.task_ids += [ids[first + i] for i in range(len(batch))]


async def undo(project_id: int, sources: Iterable[Source], stored: Report) -> None:
    """A failure half-way (the process, the disk): take back what this import stored."""
    uploads = [s.upload_id for s in sources if s.upload_id]
    if not uploads or not stored.task_count:
        return
    async with write_tx():
        await Task.delete().where(Task.file_upload.is_in(uploads))
        await counters.recount_project(project_id)


async def previous_upload(project_id: int, sha256: str, except_id: int) -> FileUpload | None:
    """An earlier upload with the same content: importing it again is allowed, but said."""
    return await FileUpload.objects().where(FileUpload.project == project_id, FileUpload.sha256 == sha256,
                                            FileUpload.id != except_id).first()
