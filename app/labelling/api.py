"""The queue for scripts: GET /api/projects/{id}/next, as Label Studio's /next/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get
from litestar.exceptions import NotFoundException

from app.auth import user_of
from app.labelling import queue
from app.tasks import service as tasks
from app.tasks.schemas import task_json
from app.web import both

if TYPE_CHECKING:
    from app.tables import Project


@get(both("/api/projects/{project_id:int}/next"))
async def next_task(request: Request, project: Project) -> dict[str, Any]:
    """The next task for the caller, locked for them as in the workspace; 404 when none is left."""
    user = user_of(request)
    task = await tasks.task_in_project(project, await queue.next_task(project, user) or 0)
    if task is None:
        raise NotFoundException("No more tasks for you in this project")
    annotations = await tasks.annotations_of(user, project, [task.id])
    return task_json(task, annotations, await tasks.predictions_of([task.id]),
                     await tasks.sees_all_annotations(user, project))


ROUTES = [next_task]
