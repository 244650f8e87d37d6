"""Review: accepting or rejecting annotations, and the task's history of these decisions (and of
adjudications, `adjudication.py`). Every decision is a TaskEvent (who, when, what)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import rows
from app.db import write_tx
from app.errors import InputError
from app.tables import Annotation, Review, TaskEvent, User

if TYPE_CHECKING:
    from app.tables import Project

REVIEW_STATES = ("", "accepted", "rejected", "adjudicated")


async def get_annotation(annotation_id: int) -> Annotation | None:
    return await rows.one(Annotation, "id = {}", annotation_id)


async def annotation_in(project: Project, annotation_id: int) -> Annotation | None:
    return await rows.one(Annotation, "id = {} AND project = {}", annotation_id, project.id)


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


async def decide(project: Project, reviewer: User, annotation: Annotation, accepted: bool, comment: str,
                 seen: str | None = None) -> None:
    """Accept, or reject with a comment: a rejected annotation goes back to its annotator's queue,
    first, with the comment shown; their update sends it to review again. `seen`: the annotation's
    updated_at the reviewer's page showed (a change since then is refused)."""
    if seen is not None and seen != annotation.updated_at.isoformat():
        raise InputError({"annotation": ["The annotator changed this annotation since you opened the page: "
                                         "look at it again."]})
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


def verdict(accepted: bool, annotation: Annotation) -> str:
    """A decision as the audit log words it."""
    return ("Accepted" if accepted else "Rejected") + f" annotation {annotation.id} of task {annotation.task}"


async def history(task_id: int) -> list[dict[str, Any]]:
    events = await rows.many(TaskEvent, "task = {}", task_id, tail="ORDER BY id DESC LIMIT 200")
    people = await users({e.user for e in events})
    return [{"event": e, "who": people[e.user].email if e.user in people else "(deleted user)"} for e in events]
