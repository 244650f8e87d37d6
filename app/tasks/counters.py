"""Task and project counters, kept in step with annotations and predictions in the same transaction,
so lists and dashboards read a column instead of counting rows."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from piccolo.querystring import QueryString

from app.db import engine, is_postgres
from app.tables import Annotation, Prediction, Project, Task

TASK_COUNTERS = ("total_annotations", "cancelled_annotations", "total_predictions", "is_labeled")


async def lock_tasks(task_ids: list[int]) -> None:
    """Take the tasks' rows before changing what they count. On PostgreSQL concurrent writers
    would otherwise count from stale rows; SQLite's IMMEDIATE transactions already take turns."""
    if task_ids and is_postgres():
        await Task.select(Task.id).where(Task.id.is_in(sorted(set(task_ids)))).lock_rows()


async def next_inner_ids(project_id: int, count: int) -> int:
    """Reserve `count` inner ids at once (one atomic UPDATE); returns the first."""
    rows = await Project.update({Project.next_inner_id: Project.next_inner_id + count}).where(
        Project.id == project_id).returning(Project.next_inner_id)
    return rows[0]["next_inner_id"] - count


async def labeled_between(project_id: int, first: int, end: int) -> int:
    """Labeled tasks with inner ids in [first, end): what an import adds to finished_task_number."""
    return await Task.count().where(Task.project == project_id, Task.is_labeled.eq(True),
                                    Task.inner_id >= first, Task.inner_id < end)


async def refresh(project_id: int, task_ids: list[int]) -> None:
    """Recount the given tasks from their rows and move the project's counters by the difference.
    Runs inside the caller's write transaction, after lock_tasks(). One query reads the tasks
    with their counts (this runs on every annotation saved)."""
    if not task_ids:
        return
    ids = ", ".join(str(int(i)) for i in sorted(set(task_ids)))  # ints only: safe to inline
    found = await engine().run_querystring(QueryString(
        "SELECT t.id, t.overlap, t.total_annotations, t.cancelled_annotations, t.total_predictions, t.is_labeled, "
        # an adjudicated ground truth is the reviewer's verdict, not an annotator's slot
        "(SELECT COUNT(*) FROM lw_annotation a WHERE a.task = t.id AND a.was_cancelled = {} "
        "AND a.review_state != 'adjudicated') AS done, "
        "(SELECT COUNT(*) FROM lw_annotation a WHERE a.task = t.id AND a.was_cancelled = {}) AS skipped, "
        f"(SELECT COUNT(*) FROM lw_prediction p WHERE p.task = t.id) AS predicted FROM lw_task t WHERE t.id IN ({ids})",
        False, True))
    delta: dict[str, int] = defaultdict(int)
    for old in found:
        new = {"total_annotations": old["done"], "cancelled_annotations": old["skipped"],
               "total_predictions": old["predicted"], "is_labeled": old["done"] >= max(1, old["overlap"])}
        if any(new[c] != old[c] for c in TASK_COUNTERS):
            await Task.update({getattr(Task, c): v for c, v in new.items()}).where(Task.id == old["id"])
        delta["total_annotations_number"] += new["total_annotations"] - old["total_annotations"]
        delta["skipped_annotations_number"] += new["cancelled_annotations"] - old["cancelled_annotations"]
        delta["total_predictions_number"] += new["total_predictions"] - old["total_predictions"]
        delta["finished_task_number"] += int(new["is_labeled"]) - int(bool(old["is_labeled"]))
    await shift(project_id, **delta)


async def shift(project_id: int, **delta: int) -> None:
    """Add to the project's counters (negative to take away)."""
    changes: dict[Any, Any] = {getattr(Project, k): getattr(Project, k) + v for k, v in delta.items() if v}
    if changes:
        await Project.update(changes).where(Project.id == project_id)


async def recount_project(project_id: int) -> dict[str, int]:
    """Recompute the project's counters from its task counters (repairs drift; runs in a write_tx)."""
    tasks = Task.count().where(Task.project == project_id)
    counts = {
        "task_number": await tasks,
        "finished_task_number": await Task.count().where(Task.project == project_id, Task.is_labeled.eq(True)),
        "total_annotations_number": await Annotation.count().where(
            Annotation.project == project_id, Annotation.was_cancelled.eq(False), Annotation.review_state != "adjudicated"),
        "skipped_annotations_number": await Annotation.count().where(
            Annotation.project == project_id, Annotation.was_cancelled.eq(True)),
        "total_predictions_number": await Prediction.count().where(Prediction.project == project_id),
    }
    await Project.update({getattr(Project, k): v for k, v in counts.items()}).where(Project.id == project_id)
    return counts


async def lock_where(where: str) -> None:
    """lock_tasks() for a selection given as SQL over lw_task (the data manager's "all but these"):
    PostgreSQL takes the rows without sending them here."""
    if is_postgres():
        await engine().run_querystring(QueryString(
            f"SELECT COUNT(*) FROM (SELECT id FROM lw_task WHERE {where} FOR UPDATE) AS locked"))


_SUMS = ("SELECT COALESCE(SUM(total_annotations), 0) AS a, COALESCE(SUM(cancelled_annotations), 0) AS s, "
         "COALESCE(SUM(total_predictions), 0) AS p, COALESCE(SUM(CASE WHEN is_labeled THEN 1 ELSE 0 END), 0) AS l "
         "FROM lw_task WHERE {}")


async def refresh_where(project_id: int, where: str) -> None:
    """refresh() for a selection given as SQL over lw_task: recounted by two UPDATEs in the database,
    the project's counters moved by the difference of the sums. Runs inside the caller's write_tx."""
    before = dict((await engine().run_querystring(QueryString(_SUMS.format(where))))[0])
    await engine().run_querystring(QueryString(
        "UPDATE lw_task SET "
        "total_annotations = (SELECT COUNT(*) FROM lw_annotation a WHERE a.task = lw_task.id "
        "AND a.was_cancelled = {} AND a.review_state != 'adjudicated'), "
        "cancelled_annotations = (SELECT COUNT(*) FROM lw_annotation a WHERE a.task = lw_task.id AND a.was_cancelled = {}), "
        f"total_predictions = (SELECT COUNT(*) FROM lw_prediction p WHERE p.task = lw_task.id) WHERE {where}",
        False, True))
    await engine().run_querystring(QueryString(
        f"UPDATE lw_task SET is_labeled = (total_annotations >= CASE WHEN overlap > 1 THEN overlap ELSE 1 END) "
        f"WHERE {where}"))
    after = dict((await engine().run_querystring(QueryString(_SUMS.format(where))))[0])
    await shift(project_id, total_annotations_number=int(after["a"]) - int(before["a"]),
                skipped_annotations_number=int(after["s"]) - int(before["s"]),
                total_predictions_number=int(after["p"]) - int(before["p"]),
                finished_task_number=int(after["l"]) - int(before["l"]))
