"""Review: accepting or rejecting annotations, adjudicating a task into its ground truth, and the
task's history of these decisions. Every decision is a TaskEvent (who, when, what)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from app import rows
from app.agreement import metrics
from app.agreement import store as agreement
from app.db import write_tx
from app.errors import InputError
from app.tables import Annotation, Review, Task, TaskEvent, User
from app.tasks import counters

if TYPE_CHECKING:
    from app.tables import Project

REVIEW_STATES = ("", "accepted", "rejected", "adjudicated")


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def annotations_of(task_id: int) -> list[Annotation]:
    return await rows.many(Annotation, "task = {} AND was_cancelled = {}", task_id, False, tail="ORDER BY id")


async def users(ids: set[int | None]) -> dict[int, User]:
    wanted = sorted(i for i in ids if i)
    found = await rows.many(User, f"id IN ({', '.join(map(str, wanted)) or '0'})")  # ints only: safe to inline
    return {u.id: u for u in found}


async def record(project_id: int, task_id: int, user: User, action: str, annotation: int | None = None,
                 **detail: Any) -> None:
    await TaskEvent.insert(TaskEvent(project=project_id, task=task_id, user=user.id, action=action,
                                     annotation=annotation, detail=detail))


async def decide(project: Project, reviewer: User, annotation: Annotation, accepted: bool, comment: str) -> None:
    """Accept, or reject with a comment: a rejected annotation goes back to its annotator's queue,
    first, with the comment shown; their update sends it to review again."""
    comment = comment.strip()[:5000]
    if not accepted and not comment:
        raise InputError({"comment": ["Say what is wrong: the annotator sees this comment."]})
    if annotation.review_state == "adjudicated":
        raise InputError({"annotation": ["This is the task's adjudicated ground truth."]})
    state = "accepted" if accepted else "rejected"
    async with write_tx():
        await Annotation.update({Annotation.review_state: state, Annotation.review_comment: comment}).where(
            Annotation.id == annotation.id)
        await Review.insert(Review(annotation=annotation.id, task=annotation.task, reviewer=reviewer.id,
                                   accepted=accepted, comment=comment))
        await record(project.id, annotation.task, reviewer, state, annotation.id, comment=comment,
                     author=annotation.completed_by)


def comparable(result: list[dict]) -> list[dict]:
    return [r for r in result if isinstance(r, dict) and r.get("type") != "relation"]


def has_match(region: dict, other: list[dict]) -> bool:
    """Whether another annotation's result holds this region (the agreement metric's full match)."""
    kind = metrics.kind_of([region])
    return any(metrics.pair_score(kind, [region], [o]) == 1.0 for o in other
               if isinstance(o, dict) and o.get("from_name") == region.get("from_name"))


def agreed_regions(results: list[list[dict]]) -> list[dict]:
    """The regions every annotator has (the first annotation's copy of each): where adjudication
    starts when nobody's work is taken whole."""
    if not results:
        return []
    return [r for r in comparable(results[0]) if all(has_match(r, other) for other in results[1:])]


def unique_regions(mine: list[dict], others: list[list[dict]]) -> list[dict]:
    """The regions of one annotation that no other annotation of the task has (the differences)."""
    return [r for r in comparable(mine) if not any(has_match(r, other) for other in others)]


async def adjudicate(project: Project, reviewer: User, task: Task, results: list[dict], source: str,
                     key: str = "") -> Annotation:
    """Store the task's ground truth: one adjudicated annotation per task (a later adjudication
    replaces it), the task's only one marked ground_truth, kept out of the annotators' agreement."""
    async with write_tx():
        await counters.lock_tasks([task.id])
        existing = await rows.one(Annotation, "task = {} AND review_state = {}", task.id, "adjudicated")
        if existing is not None:
            await Annotation.update({Annotation.result: results, Annotation.completed_by: reviewer.id,
                                     Annotation.unique_id: key or existing.unique_id,
                                     Annotation.updated_at: now()}).where(Annotation.id == existing.id)
            annotation_id = existing.id
        else:
            found = await Annotation.insert(Annotation(
                task=task.id, project=project.id, completed_by=reviewer.id, result=results, ground_truth=True,
                review_state="adjudicated", unique_id=key or f"adjudication-{task.id}")).returning(Annotation.id)
            annotation_id = found[0]["id"]
        await only_truth(task.id, annotation_id)
        await counters.refresh(project.id, [task.id])
        await record(project.id, task.id, reviewer, "adjudicated", annotation_id, source=source, regions=len(results))
    await agreement.refresh(project, [task.id])
    return await rows.one(Annotation, "id = {}", annotation_id)


async def only_truth(task_id: int, annotation_id: int) -> None:
    """One ground truth per task: this annotation, and no other."""
    await Annotation.update({Annotation.ground_truth: False}).where(Annotation.task == task_id,
                                                                    Annotation.id != annotation_id)
    await Annotation.update({Annotation.ground_truth: True}).where(Annotation.id == annotation_id)


async def history(task_id: int) -> list[dict[str, Any]]:
    events = await rows.many(TaskEvent, "task = {}", task_id, tail="ORDER BY id DESC LIMIT 200")
    people = await users({e.user for e in events})
    return [{"event": e, "who": people[e.user].email if e.user in people else "(deleted user)"} for e in events]
