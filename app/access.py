"""Who may reach what a path names, checked in one place: Litestar dependencies that load the
project, task, annotation, prediction, ML backend or user of a route's path parameters, or answer
404 (403 for a write by someone who may only read). A handler asks for one by its name:
`async def task_list(project: Project)`. Registered on the app in app/asgi.py."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import Provide
from litestar.exceptions import NotFoundException, PermissionDeniedException

from app import jobs
from app.accounts import service as accounts
from app.auth import user_of
from app.ml import service as ml
from app.projects import service as projects
from app.tables import Annotation, Job, MLBackend, Prediction, Project, Task, User
from app.tasks import service as tasks


async def visible_project(user: User, project_id: int) -> Project:
    project = await projects.get_project(user, project_id)
    if project is None:
        raise NotFoundException(f"No project with id {project_id}")
    return project


async def reached_task(user: User, task_id: int) -> tuple[Task, Project]:
    found = await tasks.task_in_reach(user, task_id)
    if found is None:
        raise NotFoundException(f"No task with id {task_id}")
    return found


async def provide_project(request: Request, project_id: int) -> Project:
    """/projects/{project_id}/…: the project, if the user may see it."""
    return await visible_project(user_of(request), project_id)


async def provide_task(project: Project, task_id: int) -> Task:
    """/projects/{project_id}/…/{task_id}: a task of that project."""
    task = await tasks.task_in_project(project, task_id)
    if task is None:
        raise NotFoundException(f"No task {task_id} in this project")
    return task


async def provide_api_task(request: Request, task_id: int) -> tuple[Task, Project]:
    """/api/tasks/{task_id}: the task and its project, if the user may see the project."""
    return await reached_task(user_of(request), task_id)


async def _annotation(request: Request, annotation_id: int, write: bool) -> tuple[Annotation, Task, Project]:
    user = user_of(request)
    annotation = await tasks.get_annotation(annotation_id)
    found = await tasks.task_in_reach(user, annotation.task) if annotation else None
    if found is None or annotation is None:
        raise NotFoundException(f"No annotation with id {annotation_id}")
    task, project = found
    own = annotation.completed_by == user.id
    if not own and not await tasks.sees_all_annotations(user, project):
        raise NotFoundException(f"No annotation with id {annotation_id}")
    if write and not own and user.role != "admin":
        raise PermissionDeniedException("Only its author or an admin can change an annotation")
    return annotation, task, project


async def provide_annotation(request: Request, annotation_id: int) -> tuple[Annotation, Task, Project]:
    """An annotation the user may read (their own, or any where the project shows others' work)."""
    return await _annotation(request, annotation_id, write=False)


async def provide_own_annotation(request: Request, annotation_id: int) -> tuple[Annotation, Task, Project]:
    """An annotation the user may change: their own, or any for an admin."""
    return await _annotation(request, annotation_id, write=True)


async def provide_prediction(request: Request, prediction_id: int) -> tuple[Prediction, Task, Project]:
    prediction = await tasks.get_prediction(prediction_id)
    found = await tasks.task_in_reach(user_of(request), prediction.task) if prediction else None
    if prediction is None or found is None:
        raise NotFoundException(f"No prediction with id {prediction_id}")
    return prediction, *found


async def provide_backend(request: Request, backend_id: int) -> tuple[MLBackend, Project]:
    backend = await ml.get_backend(backend_id)
    if backend is None:
        raise NotFoundException(f"No ML backend with id {backend_id}")
    return backend, await visible_project(user_of(request), backend.project)


async def provide_job(request: Request, job_id: int) -> Job:
    """/api/jobs/{job_id}, /projects/{project_id}/jobs/{job_id}: a job the user may follow (of that
    project, when the path names one)."""
    user = user_of(request)
    job = await jobs.get(job_id, request.path_params.get("project_id"))
    if job is None or not jobs.shown_to(user, job) or (
            job.project and await projects.get_project(user, job.project) is None):
        raise NotFoundException(f"No job with id {job_id}")
    return job


async def provide_person(user_id: int) -> User:
    """/…/users/{user_id} (admins only, by the route's guard): any user."""
    user = await accounts.get_user(user_id)
    if user is None:
        raise NotFoundException(f"No user with id {user_id}")
    return user


DEPENDENCIES: dict[str, Any] = {
    "project": Provide(provide_project), "task": Provide(provide_task), "api_task": Provide(provide_api_task),
    "annotation": Provide(provide_annotation),
    "own_annotation": Provide(provide_own_annotation), "prediction": Provide(provide_prediction),
    "backend": Provide(provide_backend), "job": Provide(provide_job), "person": Provide(provide_person),
}
# the types handlers name in their signatures, for Litestar to resolve (controllers import them
# only for type checking: tables stay behind the services)
SIGNATURE_TYPES: dict[str, Any] = {"Project": Project, "Task": Task, "Annotation": Annotation,
                                   "Prediction": Prediction, "MLBackend": MLBackend, "Job": Job, "User": User}
