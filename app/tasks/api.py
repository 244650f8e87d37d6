"""Label Studio's task, annotation and prediction API: /api/tasks, /api/annotations, /api/predictions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app import audit
from app.accounts.api import iso
from app.auth import require_admin, user_of
from app.errors import InputError
from app.pagination import page_params
from app.projects.api import both, project_or_404
from app.tables import Annotation, Prediction
from app.tasks import service

if TYPE_CHECKING:
    from app.tables import Project, Task, User


def task_json(task: Task, annotations: list | None = None, predictions: list | None = None,
              agreement: bool = True) -> dict[str, Any]:
    """`agreement=False` for annotators working blind: a task's agreement tells them what the
    others did (two people, yes or no: 0.0 means the other said the opposite)."""
    out = {"id": task.id, "data": task.data, "meta": task.meta, "inner_id": task.inner_id, "project": task.project,
           "created_at": iso(task.created_at), "updated_at": iso(task.updated_at), "is_labeled": task.is_labeled,
           "overlap": task.overlap, "total_annotations": task.total_annotations,
           "cancelled_annotations": task.cancelled_annotations, "total_predictions": task.total_predictions,
           "file_upload": task.file_upload, "agreement": task.agreement if agreement else None}
    if annotations is not None:
        out["annotations"] = [annotation_json(a) for a in annotations if a.task == task.id]
    if predictions is not None:
        out["predictions"] = [prediction_json(p) for p in predictions if p.task == task.id]
    return out


def annotation_json(a: Annotation) -> dict[str, Any]:
    return {"id": a.id, "task": a.task, "project": a.project, "completed_by": a.completed_by, "result": a.result,
            "was_cancelled": a.was_cancelled, "ground_truth": a.ground_truth, "lead_time": a.lead_time,
            "created_at": iso(a.created_at), "updated_at": iso(a.updated_at), "unique_id": a.unique_id,
            "parent_prediction": a.parent_prediction, "result_count": len(a.result or []),
            "review_state": a.review_state, "review_comment": a.review_comment}


def prediction_json(p: Prediction) -> dict[str, Any]:
    return {"id": p.id, "task": p.task, "project": p.project, "result": p.result, "score": p.score,
            "model_version": p.model_version, "created_at": iso(p.created_at), "updated_at": iso(p.updated_at)}


async def task_or_404(user: User, task_id: int) -> tuple[Task, Project]:
    found = await service.task_in_reach(user, task_id)
    if found is None:
        raise NotFoundException(f"No task with id {task_id}")
    return found


def int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if not re.fullmatch(r"[0-9]{1,10}", value) or int(value) > 2**31 - 1:
        raise InputError({name: ["Must be a whole number (an id)."]})
    return int(value)


@get(both("/api/tasks"))
async def task_list(request: Request) -> dict[str, Any]:
    project_id = int_param(request, "project")
    if project_id is None:
        raise InputError({"project": ["Give ?project=<id>."]})
    user, project = user_of(request), await project_or_404(user_of(request), project_id)
    page, size = page_params(request, default_size=100)
    tasks = await service.list_tasks(project, page, size, int_param(request, "after"))
    ids = [t.id for t in tasks]
    full = request.query_params.get("fields", "all") == "all"
    annotations = await service.annotations_of(user, project, ids) if full else None
    predictions = await service.predictions_of(ids) if full else None
    sees = await service.sees_all_annotations(user, project)
    return {"tasks": [task_json(t, annotations, predictions, sees) for t in tasks], "total": project.task_number,
            "total_annotations": project.total_annotations_number,
            "total_predictions": project.total_predictions_number}


@post(both("/api/tasks"), guards=[require_admin], opt={"audit": "task.create"})
async def task_create(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("project"), bool) or not isinstance(data.get("project"), int) or not 0 < data["project"] < 2**31:
        raise InputError({"project": ["Give the project's id."]})
    project = await project_or_404(user_of(request), data["project"])
    return task_json(await service.create_task(project, data.get("data"), data.get("meta")), [], [])


@get(both("/api/tasks/{task_id:int}"))
async def task_detail(request: Request, task_id: int) -> dict[str, Any]:
    task, project = await task_or_404(user_of(request), task_id)
    annotations = await service.annotations_of(user_of(request), project, [task.id])
    sees = await service.sees_all_annotations(user_of(request), project)
    return task_json(task, annotations, await service.predictions_of([task.id]), sees)


@patch(both("/api/tasks/{task_id:int}"), guards=[require_admin], opt={"audit": "task.update"})
async def task_update(request: Request, task_id: int, data: dict[str, Any]) -> dict[str, Any]:
    task, _ = await task_or_404(user_of(request), task_id)
    return task_json(await service.update_task(task, data))


@delete(both("/api/tasks/{task_id:int}"), guards=[require_admin], opt={"audit": "task.delete"})
async def task_delete(request: Request, task_id: int) -> None:
    task, project = await task_or_404(user_of(request), task_id)
    await service.delete_tasks(project.id, [task.id])
    audit.note(request, f"Deleted task {task.id} (#{task.inner_id}) of project {project.id}", project=project.id)


@get(both("/api/tasks/{task_id:int}/annotations"))
async def annotation_list(request: Request, task_id: int) -> list[dict[str, Any]]:
    task, project = await task_or_404(user_of(request), task_id)
    return [annotation_json(a) for a in await service.annotations_of(user_of(request), project, [task.id])]


@post(both("/api/tasks/{task_id:int}/annotations"), opt={"audit": None})
async def annotation_create(request: Request, task_id: int, data: dict[str, Any]) -> dict[str, Any]:
    task, project = await task_or_404(user_of(request), task_id)
    return annotation_json(await service.create_annotation(user_of(request), task, project, data))


async def annotation_or_404(user: User, annotation_id: int, *, write: bool = False) -> tuple[Annotation, Task, Project]:
    annotation = await Annotation.objects().where(Annotation.id == annotation_id).output(load_json=True).first()
    found = await service.task_in_reach(user, annotation.task) if annotation else None
    if found is None or annotation is None:
        raise NotFoundException(f"No annotation with id {annotation_id}")
    task, project = found
    own = annotation.completed_by == user.id
    if not own and not await service.sees_all_annotations(user, project):
        raise NotFoundException(f"No annotation with id {annotation_id}")
    if write and not own and user.role != "admin":
        raise PermissionDeniedException("Only its author or an admin can change an annotation")
    return annotation, task, project


@get(both("/api/annotations/{annotation_id:int}"))
async def annotation_detail(request: Request, annotation_id: int) -> dict[str, Any]:
    return annotation_json((await annotation_or_404(user_of(request), annotation_id))[0])


@patch(both("/api/annotations/{annotation_id:int}"), opt={"audit": "annotation.update"})
async def annotation_update(request: Request, annotation_id: int, data: dict[str, Any]) -> dict[str, Any]:
    annotation, task, project = await annotation_or_404(user_of(request), annotation_id, write=True)
    return annotation_json(await service.update_annotation(user_of(request), annotation, project, task, data))


@delete(both("/api/annotations/{annotation_id:int}"), opt={"audit": "annotation.delete"})
async def annotation_delete(request: Request, annotation_id: int) -> None:
    annotation, task, project = await annotation_or_404(user_of(request), annotation_id, write=True)
    await service.delete_annotation(annotation, project)
    audit.note(request, f"Deleted annotation {annotation.id} of task {task.id} (by user {annotation.completed_by})",
               project=project.id)


@get(both("/api/predictions"))
async def prediction_list(request: Request) -> list[dict[str, Any]]:
    task_id, project_id = int_param(request, "task"), int_param(request, "project")
    if task_id is not None:
        task, _ = await task_or_404(user_of(request), task_id)
        rows = await service.predictions_of([task.id])
    elif project_id is not None:
        project = await project_or_404(user_of(request), project_id)
        rows = await Prediction.objects().where(Prediction.project == project.id).order_by(Prediction.id).limit(
            10_000).output(load_json=True)
    else:
        raise InputError({"task": ["Give ?task=<id> or ?project=<id>."]})
    return [prediction_json(p) for p in rows]


@post(both("/api/predictions"), guards=[require_admin], opt={"audit": "prediction.create"})
async def prediction_create(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    if isinstance(data.get("task"), bool) or not isinstance(data.get("task"), int) or not 0 < data["task"] < 2**31:
        raise InputError({"task": ["Give the task's id."]})
    task, project = await task_or_404(user_of(request), data["task"])
    return prediction_json(await service.create_prediction(task, project, data))


async def prediction_or_404(user: User, prediction_id: int) -> Prediction:
    row = await Prediction.objects().where(Prediction.id == prediction_id).output(load_json=True).first()
    if row is None or await service.task_in_reach(user, row.task) is None:
        raise NotFoundException(f"No prediction with id {prediction_id}")
    return row


@get(both("/api/predictions/{prediction_id:int}"))
async def prediction_detail(request: Request, prediction_id: int) -> dict[str, Any]:
    return prediction_json(await prediction_or_404(user_of(request), prediction_id))


@patch(both("/api/predictions/{prediction_id:int}"), guards=[require_admin], opt={"audit": "prediction.update"})
async def prediction_update(request: Request, prediction_id: int, data: dict[str, Any]) -> dict[str, Any]:
    row = await prediction_or_404(user_of(request), prediction_id)
    task, project = await task_or_404(user_of(request), row.task)
    return prediction_json(await service.update_prediction(row, task, project, data))


@delete(both("/api/predictions/{prediction_id:int}"), guards=[require_admin], opt={"audit": "prediction.delete"})
async def prediction_delete(request: Request, prediction_id: int) -> None:
    prediction = await prediction_or_404(user_of(request), prediction_id)
    await service.delete_prediction(prediction)
    audit.note(request, f"Deleted prediction {prediction.id} of task {prediction.task}", project=prediction.project)


@post(both("/api/projects/{project_id:int}/import/predictions"), guards=[require_admin], opt={"audit": "predictions.import"})
async def predictions_import(request: Request, project_id: int, data: list[dict[str, Any]]) -> Response:
    """Label Studio's bulk form: [{"task": id, "result": …, "score": …, "model_version": …}]; all or nothing."""
    project = await project_or_404(user_of(request), project_id)
    return Response({"created": await service.import_predictions(project, data)}, status_code=201)


ROUTES = [task_list, task_create, task_detail, task_update, task_delete, annotation_list, annotation_create,
          annotation_detail, annotation_update, annotation_delete, prediction_list, prediction_create,
          prediction_detail, prediction_update, prediction_delete, predictions_import]
