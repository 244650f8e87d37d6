"""The data manager's actions, as Label Studio's /api/dm/actions lists and runs them: which tasks a
request selects, and one service function per effect (service.delete_tasks, clear_annotations,
clear_predictions, predictions_to_annotations here, duplicates.remove_duplicates), each one write
transaction over SQL selections, so a million-task project stays in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from app import idempotency
from app.agreement import store as agreement
from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.ml import predictions, retrieval
from app.rows import raw
from app.tasks import counters, duplicates, query, service
from app.storages import export_queue
from app.webhooks import outbox as webhooks
from app.web import parse_id

if TYPE_CHECKING:
    from app.tables import Project, User

CONFIRM = "confirm"
ACTIONS: list[dict[str, Any]] = [
    {"id": "remove_duplicates", "title": "Remove Duplicated Tasks", "order": 1, "permission": "projects.change",
     "dialog": {"text": "Confirm that you want to remove duplicated tasks with the same data fields. Duplicated tasks "
                        "will be deleted and all annotations will be moved to the first task from duplicated tasks.",
                "type": CONFIRM}},
    {"id": "retrieve_tasks_predictions", "title": "Retrieve Predictions", "order": 90, "permission": "predictions.any",
     "dialog": {"title": "Retrieve Predictions", "type": CONFIRM,
                "text": "Send the selected tasks to the project's active ML backend and store its predictions. "
                        "Please confirm your action."}},
    {"id": "predictions_to_annotations", "title": "Create Annotations From Predictions", "order": 91,
     "permission": "tasks.change",
     "dialog": {"title": "Create Annotations From Predictions", "type": CONFIRM,
                "text": "Create annotations from predictions using selected predictions set for each selected task. "
                        "Your account will be assigned as an owner to those annotations."}},
    {"id": "delete_tasks", "title": "Delete Tasks", "order": 100, "permission": "tasks.delete", "reload": True,
     "dialog": {"text": "You are going to delete the selected tasks. Please confirm your action.", "type": CONFIRM}},
    {"id": "delete_tasks_annotations", "title": "Delete Annotations", "order": 101,
     "permission": ["tasks.change", "annotations.delete"],
     "dialog": {"text": "You are going to delete annotations from the selected tasks.\nYou can select specific "
                        "annotators to delete annotations for.\nPlease confirm your action.", "type": CONFIRM}},
    {"id": "delete_tasks_predictions", "title": "Delete Predictions", "order": 102, "permission": "predictions.any",
     "dialog": {"text": "You are going to delete all predictions from the selected tasks. Please confirm your action.",
                "type": CONFIRM}},
    # Label Studio Enterprise's task assignments; Community has none, nor do we: they remove nothing
    {"id": "delete_annotators", "title": "Delete Annotator Assignments", "order": 103, "permission": "tasks.change",
     "hidden": True, "dialog": None},
    {"id": "delete_reviewers", "title": "Delete Reviewer Assignments", "order": 104, "permission": "tasks.change",
     "hidden": True, "dialog": None},
]
BY_ID = {a["id"]: a for a in ACTIONS}


@dataclass
class Selected:
    """The tasks an action runs on: `ids` (None: every task of the project) but `excluded`."""

    ids: list[int] | None
    excluded: list[int] = field(default_factory=list)


@dataclass
class Outcome:
    answer: dict[str, Any]
    summary: str
    action: str = ""  # the audit log's action: tasks.<id>, or ml.retrieve


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON body, {} when there is none; a 400 naming selectedItems when it is no JSON object."""
    try:
        data = orjson.loads(body) if body.strip() else {}
    except orjson.JSONDecodeError:
        raise InputError({"selectedItems": ["The body is not JSON."]}) from None
    if not isinstance(data, dict):
        raise InputError({"selectedItems": ["The body must be a JSON object."]})
    return data


async def selection(project: Project, body: dict[str, Any], user: User) -> Selected:
    """Label Studio's selectedItems: {"all": true, "excluded": [...]} or {"all": false, "included": [...]};
    none means every task. Filters narrow it (app.tasks.query); without any, the selection stays SQL."""
    every, ids = query.picked(body.get("selectedItems", {"all": True, "excluded": []}))
    chosen = Selected(None, ids) if every else Selected(ids)
    filters = body.get("filters")
    if filters not in (None, {}) and not (isinstance(filters, dict) and not filters.get("items")):
        return Selected(await query.selected_task_ids(project.id, body, me=user.id))
    return chosen


async def listed(project: Project) -> list[dict[str, Any]]:
    """The actions the data manager offers, in order, with their dialogs' forms filled."""
    versions = sorted(await predictions.stored_versions(project.id))
    if project.model_version in versions:  # the project's own version first, as Label Studio puts it
        versions = [project.model_version] + [v for v in versions if v != project.model_version]
    annotators = await raw("SELECT DISTINCT u.id, u.email, u.first_name, u.last_name FROM lw_user u JOIN lw_annotation a "
                           "ON a.completed_by = u.id WHERE a.project = {} ORDER BY u.id", project.id)
    forms = {"predictions_to_annotations": [{"type": "select", "name": "model_version", "label": "Choose predictions",
                                             "options": versions}],
             "delete_tasks_annotations": [{"type": "select", "name": "annotator", "label": "Annotator",
                                           "placeholder": "All", "searchable": True, "options": [
                 {"value": str(u["id"]), "label": f"{u['first_name']} {u['last_name']}".strip() or u["email"]}
                 for u in annotators]}]}
    out = []
    for action in sorted(ACTIONS, key=lambda a: a["order"]):
        if action.get("hidden"):
            continue
        item = {"experimental": False, "hidden": False, **action}
        if action["id"] in forms:
            item["dialog"] = {**action["dialog"], "form": [{"columnCount": 1, "fields": forms[action["id"]]}]}
        out.append(item)
    return out


def _versions(value: Any) -> list[str] | None:
    """predictions_to_annotations' model_version: one, a list, or none (null: the newest prediction)."""
    if value is None or value == "":
        return None
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) and len(v) <= 255 for v in values):
        raise InputError({"model_version": ["Give a model version (text), a list of them, or null."]})
    return values


async def predictions_to_annotations(project: Project, user: User, chosen: Selected,
                                     versions: list[str] | None) -> list[int]:
    """One annotation by `user` per selected task, from its newest prediction (of `versions` when
    given); tasks the user already annotated, and predictions already made annotations, are skipped.
    Returns the created annotations' ids."""
    where = service.task_where(project.id, chosen.ids, chosen.excluded)
    of_version = ""
    if versions:
        of_version = " AND q.model_version IN (" + ", ".join("{}" for _ in versions) + ")"
    moment = now()
    async with write_tx():
        await counters.lock_where(where)
        created = await raw(
            "INSERT INTO lw_annotation (task, project, completed_by, result, was_cancelled, ground_truth, lead_time, "
            "parent_prediction, unique_id, review_state, review_comment, created_at, updated_at) "
            "SELECT p.task, p.project, {}, p.result, {}, {}, 0, p.id, '', '', '', {}, {} FROM lw_prediction p "
            f"WHERE p.id IN (SELECT MAX(q.id) FROM lw_prediction q WHERE q.task IN (SELECT id FROM lw_task WHERE {where})"
            f"{of_version} GROUP BY q.task) "
            "AND NOT EXISTS (SELECT 1 FROM lw_annotation a WHERE a.task = p.task AND a.completed_by = {} "
            "AND a.review_state != 'adjudicated') "
            "AND NOT EXISTS (SELECT 1 FROM lw_annotation c WHERE c.parent_prediction = p.id) RETURNING id, task",
            user.id, False, False, moment, moment, *(versions or []), user.id)
        task_ids = sorted({r["task"] for r in created})
        await webhooks.annotations_created(project.id, sorted(r["id"] for r in created))
        await export_queue.annotations_changed(project.id, [r["id"] for r in created])
        if task_ids:
            done = f"id IN ({', '.join(str(int(i)) for i in task_ids)})"
            await raw(f"UPDATE lw_task SET updated_at = {{}}, updated_by = {{}} WHERE {done}", moment, user.id)
            await raw(f"DELETE FROM lw_task_lock WHERE \"user\" = {{}} AND task IN (SELECT id FROM lw_task WHERE {done})",
                      user.id)
            await counters.refresh_where(project.id, f"project = {int(project.id)} AND {done}")
    await idempotency.after_commit(lambda: _agreement(project, task_ids))
    return sorted(r["id"] for r in created)


async def _agreement(project: Project, task_ids: list[int]) -> None:
    for start in range(0, len(task_ids), 500):
        await agreement.refresh(project, task_ids[start:start + 500])


async def run(project: Project, user: User, action_id: str | None, body: bytes) -> Outcome:
    """Run one action on the request's selection; Label Studio's answer and the audit log's summary."""
    if action_id not in BY_ID:
        known = ", ".join(a["id"] for a in ACTIONS)
        raise InputError({"id": [f"Unknown action {str(action_id)[:40]!r}; give ?id= one of: {known}."]})
    data = parse_body(body)
    if action_id == "retrieve_tasks_predictions":
        task_ids = await retrieval.selected_tasks(project, data)
        job = await retrieval.retrieve(project, user, task_ids)
        count = project.task_number if task_ids is None else len(task_ids)
        return Outcome({"processed_items": count, "detail": "queued", "job": job},
                       f"Asked the model for predictions of {count} task(s)", "ml.retrieve")
    outcome = await _effect(project, user, action_id, data)
    outcome.action = f"tasks.{action_id}"
    return outcome


async def _effect(project: Project, user: User, action_id: str, data: dict[str, Any]) -> Outcome:
    chosen = await selection(project, data, user)
    if action_id in ("delete_annotators", "delete_reviewers"):
        what = action_id.removeprefix("delete_")[:-1]
        return Outcome({"processed_items": 0, "detail": f"Deleted 0 {what} assignments: this server assigns none"},
                       f"Removed no {what} assignments (there are none)")
    if action_id == "delete_tasks":
        count = await service.delete_tasks(project.id, chosen.ids, chosen.excluded)
        left = await service.count_filtered(project.id, {})
        return Outcome({"processed_items": count, "reload": left == 0, "detail": f"Deleted {count} tasks"},
                       f"Deleted {count} task(s)")
    if action_id == "delete_tasks_annotations":
        who = data.get("annotator")
        annotator = None if who in (None, "") else parse_id(who, "annotator")
        count = await service.clear_annotations(project.id, chosen.ids, chosen.excluded, annotator)
        return Outcome({"processed_items": count, "detail": f"Deleted {count} annotations"},
                       f"Deleted {count} annotation(s)" + (f" of user {annotator}" if annotator else ""))
    if action_id == "delete_tasks_predictions":
        count = await service.clear_predictions(project.id, chosen.ids, chosen.excluded)
        return Outcome({"processed_items": count, "detail": f"Deleted {count} predictions"}, f"Deleted {count} prediction(s)")
    if action_id == "predictions_to_annotations":
        created = await predictions_to_annotations(project, user, chosen, _versions(data.get("model_version")))
        return Outcome({"processed_items": len(created), "detail": f"Created {len(created)} annotations"},
                       f"Created {len(created)} annotation(s) from predictions")
    removed, moved, kept = await duplicates.remove_duplicates(project, chosen.ids, chosen.excluded)
    detail = f"Removed {removed} duplicated tasks, moved {moved} annotations" + (
        f"; kept {kept} duplicates whose annotators had already annotated the first copy" if kept else "")
    return Outcome({"processed_items": removed, "detail": detail}, detail)
