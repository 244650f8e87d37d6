"""Adjudication: a reviewer's ground truth of a task, made in the labelling workspace (pointed at
/projects/{id}/review/{task}/adjudicate/…) and stored as the task's one adjudicated annotation."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from litestar.exceptions import NotFoundException

from app import instance, rows
from app.agreement import store as agreement
from app.clock import now
from app.db import write_tx
from app.labelling import hotkeys, service as labelling
from app.review import differences, service
from app.tables import Annotation, AnnotationDraft
from app.tasks import counters
from app.uploads.service import media_of
from components import parse_config

if TYPE_CHECKING:
    from app.tables import Project, Task, User

ADJUDICATION = "adjudication"  # the draft slot of a reviewer's ground truth in the making


async def has_draft(task: Task, user: User) -> bool:
    return await labelling.draft_of(task.id, user.id, ADJUDICATION) is not None


async def _start(task: Task, source: str) -> list[dict[str, Any]]:
    annotations = await service.annotations_of(task.id)
    opinions = [a for a in annotations if a.review_state != "adjudicated"]
    if source == "agreed":
        return differences.agreed_regions([a.result or [] for a in opinions])
    if source == "truth":
        return next((a.result for a in annotations if a.review_state == "adjudicated"), [])
    chosen = next((a for a in opinions if str(a.id) == source), None)
    if chosen is None:
        raise NotFoundException("Start from one of this task's annotations, or from the agreed regions")
    return chosen.result or []


async def workspace_context(project: Project, task: Task, user: User, source: str) -> dict[str, Any]:
    """The labelling workspace, starting from the reviewer's draft, the agreed regions, one
    annotation or the current ground truth (`source`)."""
    draft = await labelling.draft_of(task.id, user.id, ADJUDICATION)
    if source == "draft" and draft is None:
        source = "agreed"
    # a new start does not delete the draft (a GET changes nothing): its first change saves over it
    results = draft.result if source == "draft" else await _start(task, source)
    state = labelling.Start(results, "adjudication", None, None, 0.0, draft.revision if source == "draft" else 0)
    base = f"/projects/{project.id}/review/{task.id}/adjudicate"
    return {
        "project": project, "task": task, "state": state, "key": secrets.token_urlsafe(16),
        "form": parse_config(project.label_config).render(task.data, results, workspace=True, media=await media_of(task.data)),
        "keymap": hotkeys.keymap(user), "actions": hotkeys.ACTIONS, "previous": None, "remaining": 0,
        "stats": {"annotated": 0, "skipped": 0}, "lock_seconds": instance.current().task_lock.total_seconds(), "updating": False,
        "suggestion": None, "adjudicating": True, "base": base, "source": source}


async def save_draft(project: Project, user: User, task: Task, fields: dict[str, list[str]]) -> str:
    """Store the work in progress; the workspace's form, rendered again."""
    results = await labelling.save_draft(project, user, task, fields, purpose=ADJUDICATION)
    return parse_config(project.label_config).render(task.data, results, workspace=True, media=await media_of(task.data))


async def submit(project: Project, user: User, task: Task, fields: dict[str, list[str]]) -> Annotation:
    """The workspace's submit: the form checked as a final annotation, stored as the ground truth,
    and the reviewer's draft dropped."""
    results = labelling.collect(project, task, fields, required=True, final=True)
    # the page's key as the ground truth's unique_id: a late draft save from this page is then ignored
    stored = await adjudicate(project, user, task, results, (fields.get("from") or [""])[0][:32],
                              key=(fields.get("key") or [""])[0][:64])
    await AnnotationDraft.delete().where(AnnotationDraft.task == task.id, AnnotationDraft.user == user.id,
                                         AnnotationDraft.purpose == ADJUDICATION)
    return stored


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
        await service.record(project.id, task.id, reviewer, "adjudicated", annotation_id, source=source,
                             regions=len(results))
    await agreement.refresh(project, [task.id])
    return await rows.one(Annotation, "id = {}", annotation_id)


async def only_truth(task_id: int, annotation_id: int) -> None:
    """One ground truth per task: this annotation, and no other."""
    await Annotation.update({Annotation.ground_truth: False}).where(Annotation.task == task_id,
                                                                    Annotation.id != annotation_id)
    await Annotation.update({Annotation.ground_truth: True}).where(Annotation.id == annotation_id)
