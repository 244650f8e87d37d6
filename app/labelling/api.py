"""The queue for scripts: GET /api/projects/{id}/next, as Label Studio's /next/."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException

from app import rows
from app.auth import user_of
from app.labelling import queue
from app.projects.api import both, project_or_404
from app.tables import Task
from app.tasks import service as tasks
from app.tasks.api import task_json


@get(both("/api/projects/{project_id:int}/next"))
async def next_task(request: Request, project_id: int) -> dict[str, Any]:
    """The next task for the caller, locked for them as in the workspace; 404 when none is left."""
    user = user_of(request)
    project = await project_or_404(user, project_id)
    task_id = await queue.next_task(project, user)
    if task_id is None:
        raise NotFoundException("No more tasks for you in this project")
    task = await rows.one(Task, "id = {}", task_id)
    annotations = await tasks.annotations_of(user, project, [task.id])
    return task_json(task, annotations, await tasks.predictions_of([task.id]),
                     await tasks.sees_all_annotations(user_of(request), project))


ROUTES = [next_task]
