"""Tasks made from storage objects, a batch per write transaction, with their StorageLink rows and
the project's counters and TASKS_CREATED webhooks, as an import publishes them (data_import/staging.py)."""

from __future__ import annotations

from typing import Any

from app.data_import.service import overlap_of
from app.data_import.staging import dumps
from app.db import insert_rows, write_tx
from app.rows import raw
from app.tables import Project, Storage, StorageLink
from app.clock import now
from app.tasks import counters
from app.webhooks import outbox as webhooks

TASK = ["project", "inner_id", "data", "meta", "is_labeled", "overlap", "total_annotations", "cancelled_annotations",
        "total_predictions", "created_at", "updated_at"]
ANNOTATION = ["task", "project", "completed_by", "result", "was_cancelled", "ground_truth", "lead_time", "unique_id",
              "created_at", "updated_at"]
PREDICTION = ["task", "project", "result", "score", "model_version", "created_at", "updated_at"]
LINK = ["storage", "task", "key", "row_index", "created_at"]


async def linked_keys(storage_id: int, keys: list[str]) -> set[str]:
    """Which of these keys already made tasks in this storage."""
    if not keys:
        return set()
    found = await StorageLink.select(StorageLink.key).where(
        StorageLink.storage == storage_id, StorageLink.key.is_in(list(set(keys))))
    return {row["key"] for row in found}


async def _new_only(storage_id: int, rows: list[tuple[str, int, dict]]) -> list[tuple[str, int, dict]]:
    """Inside the batch's transaction, after the storage's row is taken: what no other sync linked."""
    found = await StorageLink.select(StorageLink.key, StorageLink.row_index).where(
        StorageLink.storage == storage_id, StorageLink.key.is_in(list({r[0] for r in rows})))
    taken = {(f["key"], f["row_index"]) for f in found}
    return [r for r in rows if (r[0], r[1]) not in taken]


async def write_batch(storage_id: int, project: Project, rows: list[tuple[str, int, dict[str, Any]]]) -> tuple[int, int]:
    """(created, already there) for rows of (key, row_index, normalized task)."""
    async with write_tx():
        # the storage's row first: concurrent syncs of one storage write their batches in turn
        taken = await Storage.update({Storage.updated_at: now()}).where(Storage.id == storage_id).returning(Storage.id)
        if not taken:  # deleted meanwhile: its links went with it, so make no tasks for it
            return 0, len(rows)
        fresh = await _new_only(storage_id, rows)
        if fresh:
            await _insert(storage_id, project, fresh)
    return len(fresh), len(rows) - len(fresh)


async def _insert(storage_id: int, project: Project, rows: list[tuple[str, int, dict[str, Any]]]) -> None:
    settings = await Project.select(Project.maximum_annotations, Project.overlap_cohort_percentage).where(
        Project.id == project.id).first()
    base = await counters.next_inner_ids(project.id, len(rows))
    tasks, done_of = [], []
    for offset, (_, _, task) in enumerate(rows):
        done = sum(1 for a in task["annotations"] if not a["was_cancelled"])
        overlap = overlap_of(base + offset, settings["maximum_annotations"], settings["overlap_cohort_percentage"])
        tasks.append((project.id, base + offset, dumps(task["data"]), dumps(task["meta"]), done >= overlap, overlap,
                      done, len(task["annotations"]) - done, len(task["predictions"]), task["created_at"],
                      task["updated_at"]))
        done_of.append(done)
    await insert_rows("lw_task", TASK, tasks)
    ids = {r["inner_id"]: r["id"] for r in await raw(
        "SELECT id, inner_id FROM lw_task WHERE project = {} AND inner_id >= {} AND inner_id < {}",
        project.id, base, base + len(rows))}
    annotations, predictions, link_rows, stamp = [], [], [], now()
    for offset, (key, row_index, task) in enumerate(rows):
        task_id = ids[base + offset]
        link_rows.append((storage_id, task_id, key, row_index, stamp))
        annotations += [(task_id, project.id, a["completed_by"], dumps(a["result"]), a["was_cancelled"],
                         a["ground_truth"], a["lead_time"], a["unique_id"], a["created_at"], a["updated_at"])
                        for a in task["annotations"]]
        predictions += [(task_id, project.id, dumps(p["result"]), p["score"], p["model_version"], p["created_at"],
                         p["created_at"]) for p in task["predictions"]]
    await insert_rows("lw_annotation", ANNOTATION, annotations)
    await insert_rows("lw_prediction", PREDICTION, predictions)
    await insert_rows("lw_storage_link", LINK, link_rows)
    skipped = sum(1 for a in annotations if a[4])
    labeled = await counters.labeled_between(project.id, base, base + len(rows)) if any(done_of) else 0
    await counters.shift(project.id, task_number=len(rows), finished_task_number=labeled,
                         total_annotations_number=len(annotations) - skipped, skipped_annotations_number=skipped,
                         total_predictions_number=len(predictions))
    await webhooks.tasks_created(project.id, inner_ids=(base, base + len(rows)))
