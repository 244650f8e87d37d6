"""Tasks, annotations and predictions: reading with visibility rules, writing with counters."""

from __future__ import annotations

from typing import Any

from app import idempotency, rows, storable
from app.clock import now
from app.db import data_contains, write_tx
from app.errors import InputError
from app.agreement import store as agreement
from app.data_import.normalize import ItemError, Rules, normalize, prediction
from app.data_import.service import overlap_of
from app.ml import events
from app.projects import service as projects
from app.tables import (Annotation, Prediction, Project, Review, Task,
                        TaskLock, User)
from app.tasks import counters
from app.uploads.service import media_of
from app.storages import export_queue
from app.webhooks import outbox as webhooks
from components import parse_config


async def task_in_reach(user: User, task_id: int) -> tuple[Task, Project] | None:
    """The task and its project, if the user may see that project."""
    task = await rows.one(Task, "id = {}", task_id)
    if task is None:
        return None
    project = await projects.get_project(user, task.project)
    return (task, project) if project is not None else None


async def task_in_project(project: Project, task_id: int) -> Task | None:
    return await rows.one(Task, "id = {} AND project = {}", task_id, project.id)


async def get_annotation(annotation_id: int) -> Annotation | None:
    return await rows.one(Annotation, "id = {}", annotation_id)


async def get_prediction(prediction_id: int) -> Prediction | None:
    return await rows.one(Prediction, "id = {}", prediction_id)


async def sees_all_annotations(user: User, project: Project) -> bool:
    role = await projects.member_role(user, project.id)
    return role in ("admin", "reviewer") or project.annotators_see_others


def _ids(task_ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in task_ids) or "0"  # ints only: safe to inline


async def annotations_of(user: User, project: Project, task_ids: list[int]) -> list[Annotation]:
    if await sees_all_annotations(user, project):
        return await rows.many(Annotation, f"task IN ({_ids(task_ids)})", tail="ORDER BY id")
    # annotators work blind
    return await rows.many(Annotation, f"task IN ({_ids(task_ids)}) AND completed_by = {{}}", user.id, tail="ORDER BY id")


async def predictions_of(task_ids: list[int]) -> list[Prediction]:
    return await rows.many(Prediction, f"task IN ({_ids(task_ids)})", tail="ORDER BY id")


async def list_tasks(project: Project, page: int, size: int, after: int | None = None) -> list[Task]:
    """A page of tasks in inner-id order; `after` (an inner id) gives keyset paging for deep pages."""
    query = Task.objects().where(Task.project == project.id).order_by(Task.inner_id).limit(size)
    if after is not None:
        query = query.where(Task.inner_id > after)
    else:
        query = query.offset((page - 1) * size)
    return await query.output(load_json=True)


def check_result(project: Project, task: Task, result: Any, media: dict | None = None) -> list:
    errors, _ = parse_config(project.label_config).check_results(result, task.data, media)
    if errors:
        raise InputError({"result": errors})
    return result


async def create_task(project: Project, data: Any, meta: Any) -> Task:

    config = parse_config(project.label_config)
    rules = Rules(config, config.required_keys(), set(), {}, 0)
    try:
        clean = normalize({"data": data, "meta": meta or {}}, rules)
    except ItemError as exc:
        raise InputError({"data": [str(exc)]}) from None

    async with write_tx():
        inner_id = await counters.next_inner_ids(project.id, 1)
        task = Task(project=project.id, inner_id=inner_id, data=clean["data"], meta=clean["meta"],
                    overlap=overlap_of(inner_id, project.maximum_annotations, project.overlap_cohort_percentage))
        await task.save()
        await counters.shift(project.id, task_number=1)
        await webhooks.tasks_created(project.id, [task.id])
    return await Task.objects().where(Task.id == task.id).output(load_json=True).first()


async def update_task(task: Task, data: dict[str, Any]) -> Task:
    changes = {}
    for key in ("data", "meta"):
        if key in data:
            if not isinstance(data[key], dict):
                raise InputError({key: ["Must be an object."]})
            storable.check(data[key], key)
            changes[getattr(Task, key)] = data[key]
    if changes:
        changes[Task.updated_at] = now()
        async with write_tx():
            await Task.update(changes).where(Task.id == task.id)
    return await Task.objects().where(Task.id == task.id).output(load_json=True).first()


def task_where(project_id: int, task_ids: list[int] | None, excluded: Any = ()) -> str:
    """SQL over lw_task for a selection: these tasks of the project (None: every one), but the excluded."""
    where = f"project = {int(project_id)}"  # ints only: safe to inline
    if task_ids is not None:
        where += f" AND id IN ({_ids(task_ids)})"
    if excluded:
        where += f" AND id NOT IN ({_ids(list(excluded))})"
    return where


async def _totals(where: str) -> dict[str, int]:
    """What the selected tasks count, summed in SQL (a million tasks stay in the database)."""
    found = await rows.raw(
        "SELECT COUNT(*) AS tasks, COALESCE(SUM(CASE WHEN is_labeled THEN 1 ELSE 0 END), 0) AS labeled, "
        "COALESCE(SUM(total_annotations), 0) AS annotations, COALESCE(SUM(cancelled_annotations), 0) AS skipped, "
        f"COALESCE(SUM(total_predictions), 0) AS predictions FROM lw_task WHERE {where}")
    return {k: int(v or 0) for k, v in found[0].items()}


async def delete_tasks(project_id: int, task_ids: list[int] | None, excluded: Any = ()) -> int:
    """Delete the selected tasks (None: every task of the project but `excluded`) in one
    transaction; their annotations, predictions and locks go with them, counters move by what was there."""
    where = task_where(project_id, task_ids, excluded)
    async with write_tx():
        await counters.lock_where(where)
        found = await _totals(where)
        await webhooks.tasks_deleted_where(project_id, where)
        await export_queue.annotations_changed_where(project_id, f"task IN (SELECT id FROM lw_task WHERE {where})")
        await rows.raw(f"DELETE FROM lw_task WHERE {where}")
        # their stored agreement went with them: the project's report is out of date
        await Project.update({Project.agreement_version: Project.agreement_version + 1}).where(Project.id == project_id)
        await counters.shift(project_id, task_number=-found["tasks"], finished_task_number=-found["labeled"],
                             total_annotations_number=-found["annotations"],
                             skipped_annotations_number=-found["skipped"],
                             total_predictions_number=-found["predictions"])
    return found["tasks"]


def annotation_fields(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "result" in data or not partial:
        if not isinstance(data.get("result", []), list):
            raise InputError({"result": ["Must be a list of result items."]})
        storable.check(data.get("result", []), "result")
        out["result"] = data.get("result", [])
    for key in ("was_cancelled", "ground_truth"):
        if key in data:
            if not isinstance(data[key], bool):
                raise InputError({key: ["Must be true or false."]})
            out[key] = data[key]
    if "lead_time" in data:
        seconds = storable.number(data["lead_time"])
        if seconds is None or seconds < 0:
            raise InputError({"lead_time": ["Must be a number of seconds."]})
        out["lead_time"] = seconds
    return out


async def may_set_ground_truth(user: User, project: Project, fields: dict[str, Any]) -> None:
    if "ground_truth" in fields and await projects.member_role(user, project.id) not in ("admin", "reviewer"):
        raise InputError({"ground_truth": ["Only the project's reviewers and admins set ground truth."]})


async def create_annotation(user: User, task: Task, project: Project, data: dict[str, Any]) -> Annotation:
    fields = annotation_fields(data, partial=False)
    check_result(project, task, fields["result"], await media_of(task.data))  # checked against the files (a PDF's pages)
    if fields.get("ground_truth"):
        await may_set_ground_truth(user, project, fields)
    annotation = Annotation(task=task.id, project=project.id, completed_by=user.id, **fields)
    async with write_tx():
        # one writer per task (PostgreSQL: its row; SQLite: IMMEDIATE), so two POSTs at once
        # cannot both find no annotation of this user
        await counters.lock_tasks([task.id])
        own = await own_annotation(task.id, user.id)
        if own is not None:
            raise idempotency.Refused(409, f"You already annotated task {task.id} (annotation {own.id}, "
                               f"{'a skip' if own.was_cancelled else 'submitted'}): change it with "
                               f"PATCH /api/annotations/{own.id}.", id=own.id)
        await annotation.save()
        # the annotator's hold on the task (from the queue) ends with their annotation
        await TaskLock.delete().where(TaskLock.task == task.id, TaskLock.user == user.id)
        await counters.refresh(project.id, [task.id])
        stored = await get_annotation(annotation.id)
        await webhooks.annotation_saved("ANNOTATION_CREATED", annotation.id)
        await export_queue.annotations_changed(project.id, [annotation.id])
    await idempotency.after_commit(lambda: _annotation_created(project, task, stored))
    return stored


async def own_annotation(task_id: int, user_id: int) -> Annotation | None:
    """The user's one live annotation of the task, a skip included (the workspace updates it in
    place too); a ground truth they adjudicated as a reviewer is not theirs."""
    found = await rows.many(Annotation, "task = {} AND completed_by = {} AND review_state != {}", task_id, user_id,
                            "adjudicated", tail="ORDER BY id LIMIT 1")
    return found[0] if found else None


async def _annotation_created(project: Project, task: Task, stored: Annotation) -> None:
    await agreement.refresh(project, [task.id])
    await events.annotation_changed(project, "ANNOTATION_CREATED", stored, task)


async def update_annotation(user: User, annotation: Annotation, project: Project, task: Task,
                            data: dict[str, Any]) -> Annotation:
    fields = annotation_fields(data, partial=True)
    await may_set_ground_truth(user, project, fields)
    if "result" in fields:
        check_result(project, task, fields["result"], await media_of(task.data))
    fields["updated_at"] = now()
    if "result" in fields and annotation.review_state in ("accepted", "rejected"):
        fields.update(review_state="", review_comment="")  # changed work goes back to review
    async with write_tx():
        await counters.lock_tasks([task.id])
        await Annotation.update({getattr(Annotation, k): v for k, v in fields.items()}).where(Annotation.id == annotation.id)
        if fields.get("ground_truth"):  # one ground truth per task
            await Annotation.update({Annotation.ground_truth: False}).where(Annotation.task == task.id,
                                                                            Annotation.id != annotation.id)
        await counters.refresh(project.id, [task.id])
        await webhooks.annotation_saved("ANNOTATION_UPDATED", annotation.id)
        await export_queue.annotations_changed(project.id, [annotation.id])
    stored = await Annotation.objects().where(Annotation.id == annotation.id).output(load_json=True).first()
    await agreement.refresh(project, [task.id])
    await events.annotation_changed(project, "ANNOTATION_UPDATED", stored, task)
    return stored


async def delete_annotation(annotation: Annotation, project: Project) -> None:
    async with write_tx():
        await counters.lock_tasks([annotation.task])
        await Annotation.delete().where(Annotation.id == annotation.id)
        await counters.refresh(annotation.project, [annotation.task])
        await webhooks.annotations_deleted(annotation.project, [annotation.id])
        await export_queue.annotations_changed(annotation.project, [annotation.id])
    await agreement.refresh(project, [annotation.task])
    await events.annotations_deleted(project, [annotation.id])


def clean_prediction(task: Task, config: Any, data: dict[str, Any], where: str = "prediction") -> dict[str, Any]:

    try:
        return prediction(data, 0, task.data, Rules(config, [], set(), {}, 0))
    except ItemError as exc:
        raise InputError({"result": [f"{where}: {exc}"]}) from None


async def create_prediction(task: Task, project: Project, data: dict[str, Any]) -> Prediction:
    clean = clean_prediction(task, parse_config(project.label_config), data)
    row = Prediction(task=task.id, project=project.id, result=clean["result"], score=clean["score"],
                     model_version=clean["model_version"])
    async with write_tx():
        await counters.lock_tasks([task.id])
        await row.save()
        await counters.refresh(project.id, [task.id])
    return await Prediction.objects().where(Prediction.id == row.id).output(load_json=True).first()


async def update_prediction(row: Prediction, task: Task, project: Project, data: dict[str, Any]) -> Prediction:
    merged = {"result": row.result, "score": row.score, "model_version": row.model_version, **data}
    clean = clean_prediction(task, parse_config(project.label_config), merged)
    async with write_tx():
        await Prediction.update({Prediction.result: clean["result"], Prediction.score: clean["score"],
                                 Prediction.model_version: clean["model_version"], Prediction.updated_at: now()}
                                ).where(Prediction.id == row.id)
    return await Prediction.objects().where(Prediction.id == row.id).output(load_json=True).first()


async def import_predictions(project: Project, items: list[Any]) -> int:
    """Predictions for existing tasks of the project, checked first: all are stored or none."""
    config = parse_config(project.label_config)
    wanted = [i.get("task") for i in items if isinstance(i, dict)]
    tasks = {t.id: t for t in await Task.objects().where(Task.project == project.id, Task.id.is_in(
        [t for t in wanted if isinstance(t, int) and not isinstance(t, bool) and 0 < t < 2**31] or [0])).output(load_json=True)}
    rows, errors = [], []
    for index, item in enumerate(items):
        key = item.get("task") if isinstance(item, dict) else None
        task = tasks.get(key) if isinstance(key, int) else None
        if task is None:
            errors.append(f"item {index}: task {item.get('task') if isinstance(item, dict) else item!r} is not in this project")
            continue
        try:
            clean = clean_prediction(task, config, item, f"item {index}")
        except InputError as exc:
            errors.extend(exc.errors["result"])
            continue
        rows.append(Prediction(task=task.id, project=project.id, result=clean["result"], score=clean["score"],
                               model_version=clean["model_version"]))
    if errors:
        raise InputError({"predictions": errors[:20]})
    async with write_tx():
        await counters.lock_tasks([r.task for r in rows])
        if rows:
            await Prediction.insert(*rows)
        await counters.refresh(project.id, sorted({r.task for r in rows}))
    return len(rows)


async def delete_prediction(row: Prediction) -> None:
    async with write_tx():
        await counters.lock_tasks([row.task])
        await Prediction.delete().where(Prediction.id == row.id)
        await counters.refresh(row.project, [row.task])


STATUSES = ("new", "in progress", "done", "reviewed")
SORTS = {"id": Task.inner_id, "updated": Task.updated_at, "annotations": Task.total_annotations,
         "predictions": Task.total_predictions}


def conditions(project_id: int, status: str = "", annotator: int | None = None, predictions: str = "",
               search: str = "") -> list[Any]:
    """The task list's WHERE: status, an annotator's tasks, with or without predictions, text in the data."""

    where: list[Any] = [Task.project == project_id]
    if status == "new":
        where += [Task.total_annotations == 0, Task.cancelled_annotations == 0]
    elif status == "in progress":
        where += [Task.is_labeled.eq(False), (Task.total_annotations + Task.cancelled_annotations) > 0]
    elif status == "done":
        where.append(Task.is_labeled.eq(True))
    elif status == "reviewed":
        where.append(Task.id.is_in(Review.select(Review.task).where(Review.task.project == project_id)))
    if annotator is not None:
        where.append(Task.id.is_in(Annotation.select(Annotation.task).where(
            Annotation.project == project_id, Annotation.completed_by == annotator)))
    if predictions in ("yes", "no"):
        where.append(Task.total_predictions > 0 if predictions == "yes" else Task.total_predictions == 0)
    if search:
        where.append(data_contains("lw_task.data", search))  # the one filter that reads task data
    return where


async def count_filtered(project_id: int, filters: dict[str, Any]) -> int:
    return await Task.count().where(*conditions(project_id, **filters))


async def ids_filtered(project_id: int, filters: dict[str, Any]) -> list[int]:
    return [r["id"] for r in await Task.select(Task.id).where(*conditions(project_id, **filters))]


async def annotators_by_task(task_ids: list[int]) -> dict[int, list[str]]:
    rows = await Annotation.select(Annotation.task, Annotation.completed_by.email.as_alias("email")).where(
        Annotation.task.is_in(task_ids or [0])).order_by(Annotation.id)
    out: dict[int, list[str]] = {}
    for row in rows:
        if row["email"] and row["email"] not in out.setdefault(row["task"], []):
            out[row["task"]].append(row["email"])
    return out


async def reviewed_ids(task_ids: list[int]) -> set[int]:

    return {r["task"] for r in await Review.select(Review.task).where(Review.task.is_in(task_ids or [0]))}


async def clear_annotations(project_id: int, task_ids: list[int] | None, excluded: Any = (),
                            annotator: int | None = None) -> int:
    """Delete the annotations (and drafts, as Label Studio does) of the selected tasks, or only one
    annotator's; counters move by what was there. Returns the annotations deleted."""
    where = task_where(project_id, task_ids, excluded)
    tasks = f"SELECT id FROM lw_task WHERE {where}"
    mine = f" AND completed_by = {int(annotator)}" if annotator is not None else ""
    async with write_tx():
        await counters.lock_where(where)
        count = (await rows.raw(f"SELECT COUNT(*) AS n FROM lw_annotation WHERE task IN ({tasks}){mine}"))[0]["n"]
        touched = f"id IN (SELECT DISTINCT task FROM lw_annotation WHERE task IN ({tasks}){mine})"
        await rows.raw(f"UPDATE lw_task SET updated_at = {{}} WHERE {where} AND {touched}", now())
        for table in ("lw_agreement_pair", "lw_agreement_label", "lw_agreement_choice"):
            await rows.raw(f"DELETE FROM {table} WHERE task IN (SELECT id FROM lw_task WHERE {where} AND {touched})")
        await rows.raw(f"UPDATE lw_task SET agreement = NULL WHERE {where} AND {touched}")
        await webhooks.annotations_deleted_where(project_id, f"task IN ({tasks}){mine}")
        await export_queue.annotations_changed_where(project_id, f"task IN ({tasks}){mine}")
        await rows.raw(f"DELETE FROM lw_annotation WHERE task IN ({tasks}){mine}")
        await rows.raw(f"DELETE FROM lw_annotation_draft WHERE task IN ({tasks})"
                       + (f' AND "user" = {int(annotator)}' if annotator is not None else ""))
        await counters.refresh_where(project_id, where)
        await Project.update({Project.agreement_version: Project.agreement_version + 1}).where(Project.id == project_id)
    return int(count)


async def clear_predictions(project_id: int, task_ids: list[int] | None, excluded: Any = ()) -> int:
    """Delete the predictions of the selected tasks; returns how many."""
    where = task_where(project_id, task_ids, excluded)
    async with write_tx():
        await counters.lock_where(where)
        count = (await _totals(where))["predictions"]
        await rows.raw(f"DELETE FROM lw_prediction WHERE task IN (SELECT id FROM lw_task WHERE {where})")
        await rows.raw(f"UPDATE lw_task SET total_predictions = 0 WHERE {where} AND total_predictions != 0")
        await counters.shift(project_id, total_predictions_number=-count)
    return count


# the data manager's bulk actions: what each runs, and what it deletes (for the summary)
ACTIONS = {"delete_tasks": (delete_tasks, "tasks"), "delete_tasks_annotations": (clear_annotations, "annotations"),
           "delete_tasks_predictions": (clear_predictions, "predictions")}


def action_named(name: str) -> tuple[Any, str]:
    """The data manager's bulk action and what it deletes, or a 400 naming the field."""
    if name not in ACTIONS:
        raise InputError({"action": ["Choose what to do with the selected tasks."]})
    return ACTIONS[name]


async def predictions_of_project(project_id: int, limit: int = 10_000) -> list[Prediction]:
    return await rows.many(Prediction, "project = {}", project_id, tail=f"ORDER BY id LIMIT {int(limit)}")
