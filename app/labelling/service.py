"""What the workspace shows and stores: the starting results (draft, own annotation or a
prediction), drafts saved on every change, and idempotent submit and skip."""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum

from app import rows
from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.agreement import store as agreement
from app.labelling import queue
from app.ml import events
from app.tables import Annotation, AnnotationDraft, Prediction, Project, Task, TaskLock, User
from app.tasks import counters
from app.web import optional_id
from app.storages import export_queue
from app.webhooks import outbox as webhooks
from components import parse_config
from components.base import Problem

META_FIELDS = ("_csrf_token", "key", "lead_time", "revision", "prediction", "restore", "release")


@dataclass
class Start:
    """Where a workspace begins: the results to show and where they came from."""

    results: list[dict[str, Any]]
    source: str  # "draft", "annotation", "skipped", "prediction" or "new"
    annotation: Annotation | None  # this user's annotation of the task, if any (reopened for update)
    prediction_id: int | None
    lead_time: float
    revision: int


async def mine(task_id: int, user_id: int) -> list[Annotation]:
    # a ground truth this user adjudicated as a reviewer is not their own annotation of the task
    return await rows.many(Annotation, "task = {} AND completed_by = {} AND review_state != {}", task_id, user_id,
                           "adjudicated", tail="ORDER BY id")


async def draft_of(task_id: int, user_id: int, purpose: str = "") -> AnnotationDraft | None:
    found = await rows.many(AnnotationDraft, 'task = {} AND "user" = {} AND purpose = {}', task_id, user_id, purpose,
                            tail="ORDER BY id DESC LIMIT 1")
    return found[0] if found else None


async def starting_prediction(project: Project, task_id: int) -> Prediction | None:
    """The prediction annotators start from: the project's chosen model version, else the latest."""
    if not project.show_collab_predictions:
        return None
    query = Prediction.objects().where(Prediction.task == task_id)
    if project.model_version:
        query = query.where(Prediction.model_version == project.model_version)
    return await query.order_by(Prediction.id, ascending=False).output(load_json=True).first()


def _own(annotations: list[Annotation]) -> Annotation | None:
    rejected = [a for a in annotations if a.review_state == "rejected"]
    if rejected:  # the one a reviewer sent back, which the queue reopened: the update goes there
        return rejected[0]
    done = [a for a in annotations if not a.was_cancelled]
    return done[0] if done else (annotations[0] if annotations else None)


async def start(project: Project, user: User, task: Task) -> Start:
    own = _own(await mine(task.id, user.id))
    draft = await draft_of(task.id, user.id)
    if draft is not None:
        return Start(draft.result, "draft", own, draft.parent_prediction, draft.lead_time, draft.revision)
    if own is not None:
        return Start(own.result, "skipped" if own.was_cancelled else "annotation", own, own.parent_prediction,
                     own.lead_time, 0)
    prediction = await starting_prediction(project, task.id)
    if prediction is not None:
        results = [{**item, "origin": "prediction"} for item in prediction.result if isinstance(item, dict)]
        return Start(results, "prediction", None, prediction.id, 0.0, 0)
    return Start([], "new", None, None, 0.0, 0)


def form_fields(form: Any) -> dict[str, list[str]]:
    """A submitted form as name -> values; `restore` (an undo or redo) replaces the fields it lists."""
    fields = {key: form.getall(key) for key in form.keys()}
    restore = (fields.get("restore") or [""])[0]
    if restore:
        try:
            pairs = json.loads(restore)
            assert isinstance(pairs, list) and all(isinstance(p, list) and len(p) == 2 for p in pairs)
        except (ValueError, AssertionError):
            raise InputError({"restore": ["An undo step is not readable; nothing was changed."]}) from None
        kept = {k: v for k, v in fields.items() if k in META_FIELDS and k != "restore"}
        fields = kept
        for name, value in pairs:
            if str(name) not in META_FIELDS:
                fields.setdefault(str(name), []).append(str(value))
    return fields


def _number(fields: dict[str, list[str]], name: str, kind: type = float) -> Any:
    try:
        value = kind((fields.get(name) or ["0"])[0] or 0)
    except ValueError:
        raise InputError({name: ["Must be a number."]}) from None
    if not math.isfinite(value) or value >= 2**63:  # "nan", "1e400" and 25 digits parse; no column takes them
        raise InputError({name: ["Must be a number."]})
    return max(value, 0)


async def mark_origins(results: list[dict[str, Any]], prediction_id: int | None) -> list[dict[str, Any]]:
    """Items that began as the prediction keep origin "prediction" while unchanged and become
    "prediction-changed" once edited, as Label Studio marks them."""
    if prediction_id is None:
        return results
    prediction = await Prediction.objects().where(Prediction.id == prediction_id).output(load_json=True).first()
    if prediction is None:
        return results
    predicted = {(str(i.get("id")), i.get("from_name")): i.get("value") for i in prediction.result if isinstance(i, dict)}
    for item in results:
        key = (str(item.get("id")), item.get("from_name"))
        if item.get("type") == "relation" or key not in predicted:
            continue
        before = predicted[key] if isinstance(predicted[key], dict) else {}
        value = item.get("value", {})
        # what the model said is all still there, and no label or choice was added beside it
        # (the server adds derived keys, such as a span's text, which do not count as a change)
        same = all(value.get(k) == v for k, v in before.items()) and all(
            value.get(k) == before.get(k) for k in value if k.endswith(("labels", "choices", "taxonomy")))
        item["origin"] = "prediction" if same else "prediction-changed"
    return results


def collect(project: Project, task: Task, fields: dict[str, list[str]], required: bool, final: bool) -> list[dict[str, Any]]:
    """The form as result JSON. collect() already checks each region and value as it reads them;
    what is stored for good (a submit or skip) is checked once more as any imported result is."""
    config = parse_config(project.label_config)
    try:
        results = config.collect(task.data, fields, check_required=required)
    except Problem as exc:
        raise InputError({"result": [str(exc)]}) from None
    if final:
        errors, _ = config.check_results(results, task.data)
        if errors:
            raise InputError({"result": errors})
    return results


async def save_draft(project: Project, user: User, task: Task, fields: dict[str, list[str]],
                     purpose: str = "") -> list[dict[str, Any]]:
    """Store the work as it is now; a save older than the stored one (a late request) is ignored,
    and so is one from a workspace whose annotation was already submitted."""
    prediction_id = _prediction_id(fields)
    results = await mark_origins(collect(project, task, fields, required=False, final=False), prediction_id)
    revision, lead_time = _number(fields, "revision", int), _number(fields, "lead_time")
    key = (fields.get("key") or [""])[0]
    async with write_tx():
        # saves of one task take turns with each other and with its submit (PostgreSQL: the task's row)
        await counters.lock_tasks([task.id])
        if key and await Annotation.exists().where(Annotation.completed_by == user.id, Annotation.task == task.id,
                                                   Annotation.unique_id == key):
            return results  # submitted already: this save arrived late
        draft = await AnnotationDraft.objects().where(AnnotationDraft.task == task.id, AnnotationDraft.user == user.id,
                                                      AnnotationDraft.purpose == purpose
                                                      ).order_by(AnnotationDraft.id, ascending=False).first()
        if draft is None:
            own = _own(await mine(task.id, user.id)) if not purpose else None
            await AnnotationDraft.insert(AnnotationDraft(
                task=task.id, user=user.id, annotation=own.id if own else None, result=results, lead_time=lead_time,
                parent_prediction=prediction_id, revision=revision, purpose=purpose))
        elif revision >= draft.revision:
            await AnnotationDraft.update({AnnotationDraft.result: results, AnnotationDraft.lead_time: lead_time,
                                          AnnotationDraft.revision: revision, AnnotationDraft.parent_prediction: prediction_id,
                                          AnnotationDraft.updated_at: now()}).where(AnnotationDraft.id == draft.id)
        if fields.get("release"):  # the page's goodbye, with its unsaved work
            await queue.release_in_tx(task.id, user.id, key)
        else:  # work goes on: the hold is renewed
            await queue.renew_in_tx(task.id, user.id)
    return results


def _prediction_id(fields: dict[str, list[str]]) -> int | None:
    return optional_id((fields.get("prediction") or [""])[0], "prediction")


async def _store(project: Project, user: User, task: Task, fields: dict[str, list[str]], results: list[dict],
                 cancelled: bool) -> Annotation:
    """Create or update this user's one annotation of the task; the same key twice is one annotation."""
    key = (fields.get("key") or [""])[0][:64] or secrets.token_urlsafe(16)
    lead_time = _number(fields, "lead_time")
    prediction_id = _prediction_id(fields)
    async with write_tx():
        await counters.lock_tasks([task.id])
        if prediction_id is not None and not await Prediction.exists().where(Prediction.id == prediction_id,
                                                                              Prediction.task == task.id):
            prediction_id = None  # replaced meanwhile (a newer model version), or never this task's
        existing = await mine(task.id, user.id)
        again = next((a for a in existing if a.unique_id == key), None)
        if again is not None:
            return again  # a double click or a retried request
        own = _own(existing)
        action = "ANNOTATION_UPDATED" if own is not None else "ANNOTATION_CREATED"
        if own is not None:
            await Annotation.update({
                Annotation.result: results, Annotation.was_cancelled: cancelled, Annotation.lead_time: lead_time,
                Annotation.unique_id: key, Annotation.updated_at: now(),
                # changed work goes back to review (a rejection's comment stays in the task's history)
                Annotation.review_state: "", Annotation.review_comment: "",
                Annotation.parent_prediction: prediction_id if prediction_id is not None else own.parent_prediction,
            }).where(Annotation.id == own.id)
            annotation_id = own.id
        else:
            rows = await Annotation.insert(Annotation(
                task=task.id, project=project.id, completed_by=user.id, result=results, was_cancelled=cancelled,
                lead_time=lead_time, parent_prediction=prediction_id, unique_id=key)).returning(Annotation.id)
            annotation_id = rows[0]["id"]
        await AnnotationDraft.delete().where(AnnotationDraft.task == task.id, AnnotationDraft.user == user.id,
                                             AnnotationDraft.purpose == "")
        await TaskLock.delete().where(TaskLock.task == task.id, TaskLock.user == user.id)
        await counters.refresh(project.id, [task.id])
        await webhooks.annotation_saved(action, annotation_id)
        await export_queue.annotations_changed(project.id, [annotation_id])
    annotation = await Annotation.objects().where(Annotation.id == annotation_id).output(load_json=True).first()
    await agreement.refresh(project, [task.id])
    await events.annotation_changed(project, action, annotation, task)
    return annotation


async def submit(project: Project, user: User, task: Task, fields: dict[str, list[str]]) -> Annotation:
    results = await mark_origins(collect(project, task, fields, required=True, final=True), _prediction_id(fields))
    if not results and not project.enable_empty_annotation:
        raise InputError({"result": ["This project does not accept an empty annotation: label something, or skip."]})
    return await _store(project, user, task, fields, results, cancelled=False)


async def skip(project: Project, user: User, task: Task, fields: dict[str, list[str]]) -> Annotation:
    """A skip is an annotation with was_cancelled, as in Label Studio; the work so far is kept in it."""
    if not project.show_skip_button:
        raise InputError({"skip": ["This project does not allow skipping."]})
    results = collect(project, task, fields, required=False, final=True)
    return await _store(project, user, task, fields, results, cancelled=True)


async def history(project: Project, user: User, limit: int = 50) -> list[dict[str, Any]]:
    """This user's annotations in the project, newest first, with the task's inner id."""
    return await Annotation.select(Annotation.id, Annotation.task, Annotation.task.inner_id.as_alias("inner_id"),
                                   Annotation.was_cancelled, Annotation.updated_at, Annotation.lead_time).where(
        Annotation.project == project.id, Annotation.completed_by == user.id).order_by(
        Annotation.updated_at, ascending=False).order_by(Annotation.id, ascending=False).limit(limit)


async def previous_task(project: Project, user: User, own: Annotation | None) -> int | None:
    """The task this user annotated before the open one (`own`: their annotation of it, if any),
    or their latest when the open task is new; in the history's order."""
    query = Annotation.select(Annotation.task).where(
        Annotation.project == project.id, Annotation.completed_by == user.id).order_by(
        Annotation.updated_at, ascending=False).order_by(Annotation.id, ascending=False).limit(1)
    if own is not None:
        query = query.where((Annotation.updated_at < own.updated_at) | (
            (Annotation.updated_at == own.updated_at) & (Annotation.id < own.id)))
    row = await query.first()
    return row["task"] if row else None


async def stats(project: Project, user: User) -> dict[str, Any]:
    """What this user did in the project, counted by the database (a long day is thousands of rows)."""
    rows = await Annotation.select(Annotation.was_cancelled, Count(), Sum(Annotation.lead_time)).where(
        Annotation.project == project.id, Annotation.completed_by == user.id).group_by(Annotation.was_cancelled)
    by_kind = {bool(r["was_cancelled"]): r for r in rows}
    return {"annotated": by_kind.get(False, {}).get("count", 0), "skipped": by_kind.get(True, {}).get("count", 0),
            "seconds": sum(r["sum"] or 0 for r in rows)}
