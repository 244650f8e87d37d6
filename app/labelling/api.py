"""The queue for scripts: GET /api/projects/{id}/next, as Label Studio's /next/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Response

from app.auth import user_of
from app.labelling import queue, series
from app.storages import resolve
from app.tasks import service as tasks
from app.tasks.schemas import task_json
from app.web import both

if TYPE_CHECKING:
    from app.tables import Project, Task


@get(both("/api/projects/{project_id:int}/next"))
async def next_task(request: Request, project: Project) -> dict[str, Any]:
    """The next task for the caller, locked for them as in the workspace; 404 when none is left."""
    user = user_of(request)
    task = await tasks.task_in_project(project, await queue.next_task(project, user) or 0)
    if task is None:
        raise NotFoundException("No more tasks for you in this project")
    annotations = await tasks.annotations_of(user, project, [task.id])
    row = task_json(task, annotations, await tasks.predictions_of([task.id]),
                    await tasks.sees_all_annotations(user, project))
    return (await resolve.task_rows(project.id, [row], request.query_params))[0]


@get(both("/api/tasks/{task_id:int}/timeseries/{name_of_series:str}"))
async def time_series_window(request: Request, api_task: tuple[Task, Project], name_of_series: str) -> Response:
    """A <TimeSeries>'s points in ?start=&end= reduced to ?width= pixels; bad data is a 422 naming it."""
    try:
        found = await series.window(user_of(request), *api_task, name_of_series, request.query_params)
    except series.NoSeries:
        raise NotFoundException(f"This task's project has no <TimeSeries name=\"{name_of_series}\">") from None
    except series.SeriesError as exc:
        return Response({"detail": str(exc)}, status_code=422)
    return Response(found, headers={"Cache-Control": "private, max-age=60"})


ROUTES = [next_task, time_series_window]
