"""Label Studio's POST /api/annotations/bulk: one result given once, stored as an annotation by the
caller on each chosen task (`tasks`, or `selected_items` as the data manager sends them), in one
transaction: every task's data is checked against the result first, so a bad one stores nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import access, idempotency
from app.agreement import store as agreement
from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.rows import raw
from app.tables import Annotation, Task
from app.tasks import actions, counters, service
from app.web import body_id
from app.storages import export_queue
from app.webhooks import outbox as webhooks

if TYPE_CHECKING:
    from app.tables import Project, User

LIMIT = 100_000  # tasks one request may annotate: each is checked against the result


async def project_of(user: User, data: Any) -> Project:
    """The project named in the body, else the first task's; either must be in the caller's reach."""
    if not isinstance(data, dict):
        raise InputError({"result": ["Give the annotation as a JSON object."]})
    if data.get("project") is not None:
        return await access.visible_project(user, body_id(data["project"], "project"))
    tasks = data.get("tasks")
    if isinstance(tasks, list) and tasks:
        return (await access.reached_task(user, body_id(tasks[0], "tasks")))[1]
    raise InputError({"project": ["Give the project (with selected_items) or the tasks' ids."]})


async def chosen_ids(project: Project, data: dict[str, Any], user: User) -> list[int]:
    if "tasks" in data:
        if not isinstance(data["tasks"], list) or not data["tasks"]:
            raise InputError({"tasks": ["Give a non-empty list of task ids."]})
        ids = sorted({body_id(i, "tasks") for i in data["tasks"]})
    elif "selected_items" in data:
        picked = await actions.selection(project, {"selectedItems": data["selected_items"]}, user)
        where = service.task_where(project.id, picked.ids, picked.excluded)
        ids = [r["id"] for r in await raw(f"SELECT id FROM lw_task WHERE {where} ORDER BY id LIMIT {LIMIT + 1}")]
    else:
        raise InputError({"tasks": ["Give the tasks to annotate: tasks (ids) or selected_items."]})
    if len(ids) > LIMIT:
        raise InputError({"tasks": [f"At most {LIMIT} tasks at once."]})
    return ids


async def create_annotations(project: Project, user: User, data: Any) -> list[int]:
    """The ids of the annotations made; tasks the caller already annotated are left as they are."""
    fields = service.annotation_fields(data, partial=False)
    await service.may_set_ground_truth(user, project, fields)
    ids = await chosen_ids(project, data, user)
    tasks = [t for start in range(0, len(ids), 1000) for t in await Task.objects().where(
        Task.project == project.id, Task.id.is_in(ids[start:start + 1000])).output(load_json=True)]
    missing = sorted(set(ids) - {t.id for t in tasks})
    if missing:
        raise InputError({"tasks": [f"No task {', '.join(map(str, missing[:10]))} in project {project.id}."]})
    for task in tasks:
        try:
            service.check_result(project, task, fields["result"])
        except InputError as exc:
            raise InputError({"result": [f"task {task.id}: {e}" for e in exc.errors["result"]]}) from None
    return await _store(project, user, [t.id for t in tasks], fields)


async def _store(project: Project, user: User, task_ids: list[int], fields: dict[str, Any]) -> list[int]:
    moment = now()
    async with write_tx():
        await counters.lock_tasks(task_ids)
        done = {r["task"] for r in await raw(
            "SELECT task FROM lw_annotation WHERE completed_by = {} AND review_state != 'adjudicated' AND task IN "
            f"({', '.join(str(int(i)) for i in task_ids)})", user.id)}
        todo = [i for i in task_ids if i not in done]
        rows = [Annotation(task=i, project=project.id, completed_by=user.id, created_at=moment, updated_at=moment,
                           **fields) for i in todo]
        created: list[int] = []
        for start in range(0, len(rows), 500):
            created += [r["id"] for r in await Annotation.insert(*rows[start:start + 500]).returning(Annotation.id)]
        if todo:
            await raw(f"DELETE FROM lw_task_lock WHERE \"user\" = {{}} AND task IN ({', '.join(map(str, todo))})",
                      user.id)
            await counters.refresh(project.id, todo)
        await webhooks.annotations_created(project.id, created)
        await export_queue.annotations_changed(project.id, created)
    await idempotency.after_commit(lambda: agreement.refresh(project, todo))
    return created
