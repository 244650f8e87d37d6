"""Importing tasks: check every item and stage the tasks in batches, so a million tasks go in with
bounded memory; then publish them all at once with the counters (staging.py). One bad item and
nothing is published; a crash at any moment leaves all of an import's tasks or none."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import anyio

from app.data_import import readers, staging
from app.data_import.media_keys import media_keys
from app.data_import.normalize import ItemError, Rules, normalize
from app.errors import InputError
from app.settings import settings
from app.tables import FileUpload, Project, Task, User
from app.uploads import media_store, pdf_pages
from components import parse_config

BATCH = 2000
LISTED_ERRORS = 20
log = logging.getLogger("labelwell.import")


@dataclass
class Source:
    """One file (or the request body) to import."""

    name: str
    fmt: str  # json, jsonl, csv, tsv, txt, image, audio, video, pdf, file (a CSV/TSV/TXT as one task), body
    file: str | None = None  # the upload's key in the upload store (app/uploads/media_store.py)
    body: Any = None
    upload_id: int | None = None
    url: str | None = None  # for an image, audio, video or file: the task's data value


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
                 prediction_fields=list(options.get("preannotated_from_fields") or []),
                 media_keys=media_keys(project.label_config, config.required_keys()))


def raw_items(source: Source, rules: Rules) -> Iterator[tuple[str, Any]]:
    if source.fmt == "body":
        return readers.body_items(source.body)
    if source.fmt == "image":
        return iter([("file", {rules.required_keys[0]: source.url})])
    if source.fmt == "pdf" and "pages" in rules.media_keys:  # a document as multi-page images
        return iter([("file", {rules.media_keys["pages"]: pdf_pages.page_urls(source.url)})])
    if source.fmt in ("audio", "video", "file", "pdf"):
        return iter([("file", {rules.media_keys[source.fmt]: source.url})])
    return _file_items(source, rules.required_keys[0] if rules.required_keys else None)


def _file_items(source: Source, key: str | None) -> Iterator[tuple[str, Any]]:
    """A task file's items, read from the upload store as they are taken (a bucket's object is
    fetched to a scratch file first, removed once read)."""
    with media_store.local_copy(source.file or "") as path:
        if path is None:
            raise InputError({"file": [f"{source.name} is no longer stored; upload it again."]})
        yield from readers.items(path, source.fmt, key)


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


def count_items(sources: list[Source], rules: Rules) -> int:
    """Items in the files, read but not checked (a fifth of the time a check takes): the total
    a progress bar counts to, and what the import limit is held against before anything is staged."""
    total = 0
    for source in sources:
        if source.fmt in ("txt", "image") and len(rules.required_keys) != 1:
            total += 1
        else:
            total += sum(1 for _ in raw_items(source, rules))
    return total


def refused_outright(total: int) -> Report | None:
    """An import refused by its size alone, before any item is checked."""
    if not total:
        return Report(error_count=1, errors=["No tasks found: the files are empty."])
    if total > settings.import_max_tasks:
        return Report(error_count=1, errors=[f"The import has {total:,} tasks; one import may add at most "
                                             f"{settings.import_max_tasks:,} (LABELWELL_IMPORT_MAX_TASKS)."])
    return None


def checked(batch: list[tuple[Source, str, dict | str]], report: Report) -> list[tuple[int | None, dict]]:
    """The batch's tasks; its problems and warnings go to `report` (the first LISTED_ERRORS of each)."""
    tasks = []
    for source, where, task in batch:
        if isinstance(task, str):
            report.error_count += 1
            if len(report.errors) < LISTED_ERRORS:
                report.errors.append(f"{source.name}, {where}: {task}")
            continue
        tasks.append((source.upload_id, task))
        for warning in task["warnings"][:LISTED_ERRORS - len(report.warnings)]:
            report.warnings.append(f"{source.name}, {where}: {warning} (kept)")
    return tasks


async def run_import(project: Project, user_id: int, sources: list[Source], options: dict[str, Any] | None = None,
                     progress: Callable[[int, int], Awaitable[None]] | None = None,
                     within_publish: Callable[[], Awaitable[Any]] | None = None) -> Report:
    """Import everything or nothing, whatever happens to the process. One pass checks every item
    and stages the tasks in batches (each its own short transaction, so annotators keep working);
    one problem anywhere and the staged rows are dropped, otherwise one transaction publishes them
    all (staging.py). `progress(done, total)` is awaited after each staged batch; `within_publish` runs
    inside the publishing transaction."""
    started = time.perf_counter()
    options = options or {}
    rules = await rules_for(project, user_id, options)
    total = await anyio.to_thread.run_sync(count_items, sources, rules)
    refused = refused_outright(total)
    if refused:
        raise ImportFailed(refused)
    await staging.sweep()  # what imports killed before they published left behind
    run = await staging.open_run(project.id, total)
    report, tally = Report(), staging.Tally()
    stream = prepared(sources, rules)

    def take() -> list:
        return list(islice(stream, BATCH))

    upcoming: asyncio.Future | None = None
    try:
        # the next batch is read and checked (a thread) while this one is written (the database's thread)
        upcoming = asyncio.ensure_future(anyio.to_thread.run_sync(take))
        while batch := await upcoming:
            upcoming = asyncio.ensure_future(anyio.to_thread.run_sync(take))
            tasks = checked(batch, report)
            if not report.error_count:  # after a problem, the rest is only checked, to list them all
                await staging.stage(run, tasks, tally)
                if progress:
                    await progress(tally.tasks, total)
        if report.error_count:
            raise ImportFailed(report)
        published = await staging.publish(run, project.id, tally, bool(options.get("return_task_ids")), within_publish)
    except BaseException:
        if upcoming is not None:
            upcoming.cancel()
        await _clear(run, tally.tasks)
        raise
    await _clear(run, tally.tasks)
    stored = Report(task_count=tally.tasks, annotation_count=tally.annotations, prediction_count=tally.predictions,
                    task_ids=published.task_ids, warnings=report.warnings)
    stored.duration = round(time.perf_counter() - started, 3)
    return stored


async def _clear(run: int, staged: int) -> None:
    """Staged rows are of no use once published or given up; a failure here only leaves them
    for the next import's sweep (they are invisible either way)."""
    with anyio.CancelScope(shield=True):  # a cancelled request still clears up after itself
        try:
            await staging.clear(run, staged)
        except Exception:
            log.exception("could not clear import run %s; the next import sweeps it", run)


def overlap_of(inner_id: int, maximum: int, cohort: int) -> int:
    """Label Studio's overlap cohort: only `cohort` percent of tasks want several annotators
    (spread evenly by inner id, so it is the same on every run). staging.overlap_sql is the same
    rule in SQL, for imports."""
    return maximum if maximum > 1 and (inner_id * 37) % 100 < cohort else 1


async def imported_from(project_id: int, upload_ids: list[int]) -> int:
    """Tasks already imported from these uploads. An import publishes all its tasks or none, so
    any means the whole import happened: a job retried after its process died once it had
    published (before it could say so) finds them and does not import them twice."""
    if not upload_ids:
        return 0
    return await Task.count().where(Task.project == project_id, Task.file_upload.is_in(upload_ids))


async def previous_upload(project_id: int, sha256: str, except_id: int) -> FileUpload | None:
    """An earlier upload with the same content: importing it again is allowed, but said."""
    return await FileUpload.objects().where(FileUpload.project == project_id, FileUpload.sha256 == sha256,
                                            FileUpload.id != except_id).first()
