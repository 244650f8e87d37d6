"""Label Studio's task, annotation and prediction API: /api/tasks, /api/annotations, /api/predictions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post

from app import access, audit, idempotency, web
from app.auth import require_admin, user_of
from app.errors import InputError
from app.pagination import page_params
from app.storages import resolve
from app.tasks import actions, browse, bulk, service
from app.tasks.schemas import annotation_json, prediction_json, task_json
from app.web import both

if TYPE_CHECKING:
    from app.tables import Annotation, Prediction, Project, Task

ADMIN = {"guards": [require_admin]}


@get(both("/api/tasks"))
async def task_list(request: Request) -> dict[str, Any]:
    """The data manager's task list: Label Studio's `query` (filters, ordering, selectedItems),
    `view`, `only_annotated`, `fields`, `include`; 404 past the last page, as Label Studio."""
    project_id = web.query_id(request, "project")
    if project_id is None:
        raise InputError({"project": ["Give ?project=<id>."]})
    project = await access.visible_project(user_of(request), project_id)
    page, size = page_params(request, default_size=100)
    fern = request.headers.get("x-fern-sdk-name") == "label-studio-sdk"  # its pager stops on an empty page
    return await browse.api_tasks(user_of(request), project, request.query_params, page, size, empty_past_end=fern)


@post(both("/api/tasks"), **ADMIN, opt={"audit": "task.create"})
async def task_create(request: Request, data: dict[str, Any]) -> Response:
    project = await access.visible_project(user_of(request), web.body_id(data.get("project"), "project"))
    return await idempotency.once(request, lambda: service.create_task(project, data.get("data"), data.get("meta")),
                                  lambda task: task_json(task, [], []))


@get(both("/api/tasks/{task_id:int}"))
async def task_detail(request: Request, api_task: tuple[Task, Project]) -> dict[str, Any]:
    task, project = api_task
    annotations = await service.annotations_of(user_of(request), project, [task.id])
    sees = await service.sees_all_annotations(user_of(request), project)
    row = task_json(task, annotations, await service.predictions_of([task.id]), sees)
    return (await resolve.task_rows(project.id, [row], request.query_params))[0]


@patch(both("/api/tasks/{task_id:int}"), **ADMIN, opt={"audit": "task.update"})
async def task_update(api_task: tuple[Task, Project], data: dict[str, Any]) -> dict[str, Any]:
    return task_json(await service.update_task(api_task[0], data))


@delete(both("/api/tasks/{task_id:int}"), **ADMIN, opt={"audit": "task.delete"})
async def task_delete(request: Request, api_task: tuple[Task, Project]) -> None:
    task, project = api_task
    await service.delete_tasks(project.id, [task.id])
    audit.note(request, f"Deleted task {task.id} (#{task.inner_id}) of project {project.id}", project=project.id)


@get(both("/api/tasks/{task_id:int}/annotations"))
async def annotation_list(request: Request, api_task: tuple[Task, Project]) -> list[dict[str, Any]]:
    task, project = api_task
    return [annotation_json(a) for a in await service.annotations_of(user_of(request), project, [task.id])]


@post(both("/api/tasks/{task_id:int}/annotations"), opt={"audit": None})
async def annotation_create(request: Request, api_task: tuple[Task, Project], data: dict[str, Any]) -> Response:
    """One live annotation per user and task: a second one answers 409 with the first one's id."""
    task, project = api_task
    return await idempotency.once(request, lambda: service.create_annotation(user_of(request), task, project, data),
                                  annotation_json)


@post(both("/api/annotations/bulk"), **ADMIN, opt={"audit": "annotation.bulk_create"})
async def annotations_bulk(request: Request, data: Any) -> Response:
    """One result stored as the caller's annotation on each of `tasks` (or `selected_items` of `project`)."""
    project = await bulk.project_of(user_of(request), data)
    return await idempotency.once(request, lambda: bulk.create_annotations(project, user_of(request), data),
                                  lambda ids: [{"id": i} for i in ids])


@get(both("/api/annotations/{annotation_id:int}"))
async def annotation_detail(annotation: tuple[Annotation, Task, Project]) -> dict[str, Any]:
    return annotation_json(annotation[0])


@patch(both("/api/annotations/{annotation_id:int}"), opt={"audit": "annotation.update"})
async def annotation_update(request: Request, own_annotation: tuple[Annotation, Task, Project],
                            data: dict[str, Any]) -> dict[str, Any]:
    annotation, task, project = own_annotation
    return annotation_json(await service.update_annotation(user_of(request), annotation, project, task, data))


@delete(both("/api/annotations/{annotation_id:int}"), opt={"audit": "annotation.delete"})
async def annotation_delete(request: Request, own_annotation: tuple[Annotation, Task, Project]) -> None:
    annotation, task, project = own_annotation
    await service.delete_annotation(annotation, project)
    audit.note(request, f"Deleted annotation {annotation.id} of task {task.id} (by user {annotation.completed_by})",
               project=project.id)


@get(both("/api/predictions"))
async def prediction_list(request: Request) -> list[dict[str, Any]]:
    task_id, project_id = web.query_id(request, "task"), web.query_id(request, "project")
    if task_id is not None:
        task, _ = await access.reached_task(user_of(request), task_id)
        found = await service.predictions_of([task.id])
    elif project_id is not None:
        found = await service.predictions_of_project((await access.visible_project(user_of(request), project_id)).id)
    else:
        raise InputError({"task": ["Give ?task=<id> or ?project=<id>."]})
    return [prediction_json(p) for p in found]


@post(both("/api/predictions"), **ADMIN, opt={"audit": "prediction.create"})
async def prediction_create(request: Request, data: dict[str, Any]) -> Response:
    task, project = await access.reached_task(user_of(request), web.body_id(data.get("task"), "task"))
    return await idempotency.once(request, lambda: service.create_prediction(task, project, data), prediction_json)


@get(both("/api/predictions/{prediction_id:int}"))
async def prediction_detail(prediction: tuple[Prediction, Task, Project]) -> dict[str, Any]:
    return prediction_json(prediction[0])


@patch(both("/api/predictions/{prediction_id:int}"), **ADMIN, opt={"audit": "prediction.update"})
async def prediction_update(prediction: tuple[Prediction, Task, Project], data: dict[str, Any]) -> dict[str, Any]:
    return prediction_json(await service.update_prediction(*prediction, data))


@delete(both("/api/predictions/{prediction_id:int}"), **ADMIN, opt={"audit": "prediction.delete"})
async def prediction_delete(request: Request, prediction: tuple[Prediction, Task, Project]) -> None:
    row = prediction[0]
    await service.delete_prediction(row)
    audit.note(request, f"Deleted prediction {row.id} of task {row.task}", project=row.project)


@post(both("/api/projects/{project_id:int}/import/predictions"), **ADMIN, opt={"audit": "predictions.import"})
async def predictions_import(request: Request, project: Project, data: list[dict[str, Any]]) -> Response:
    """Label Studio's bulk form: [{"task": id, "result": …, "score": …, "model_version": …}]; all or nothing."""
    return await idempotency.once(request, lambda: service.import_predictions(project, data), lambda n: {"created": n})


@get(both("/api/dm/actions"), **ADMIN)
async def dm_actions(request: Request) -> list[dict[str, Any]]:
    """Label Studio's data manager actions, with their dialogs."""
    project = await access.visible_project(user_of(request), web.parse_id(request.query_params.get("project"), "project"))
    return await actions.listed(project)


@post(both("/api/dm/actions"), **ADMIN, status_code=200, opt={"audit": "tasks.action"})
async def dm_action(request: Request) -> dict[str, Any]:
    """Run ?id=<action> on the body's selection (selectedItems, filters) and answer as Label Studio."""
    project = await access.visible_project(user_of(request), web.parse_id(request.query_params.get("project"), "project"))
    outcome = await actions.run(project, user_of(request), request.query_params.get("id"), await request.body())
    audit.note(request, outcome.summary, project=project.id, action=outcome.action)
    return outcome.answer


@delete(both("/api/projects/{project_id:int}/tasks"), **ADMIN, opt={"audit": "tasks.delete"})
async def project_tasks_delete(request: Request, project: Project) -> None:
    """Label Studio's delete-all: every task of the project, with its annotations and predictions."""
    count = await service.delete_tasks(project.id, None)
    audit.note(request, f"Deleted all {count} task(s) of project {project.id}", project=project.id)


ROUTES = [task_list, task_create, task_detail, task_update, task_delete, annotation_list, annotation_create,
          annotations_bulk, annotation_detail, annotation_update, annotation_delete, prediction_list, prediction_create,
          prediction_detail, prediction_update, prediction_delete, predictions_import, dm_actions, dm_action,
          project_tasks_delete]
