"""What the labelling workspace shows: a task's page, the model's suggestion as it arrives, and
the form re-rendered after a draft save."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import instance
from app.labelling import hotkeys, queue, service
from app.ml import suggest
from app.storages import resolve
from app.tasks import service as tasks
from app.uploads.service import media_of
from components import parse_config
from components.variables import resolve as resolve_value

if TYPE_CHECKING:
    from app.tables import Project, Task, User
    from components.config import LabelConfig


async def page(project: Project, user: User, task: Task, key: str) -> dict[str, Any] | None:
    """The workspace's context, or None when another annotator holds the task."""
    state = await service.start(project, user, task)
    if state.annotation is None and not await queue.claim(project, user, task.id, page=key):
        return None
    config = parse_config(project.label_config)
    return {
        "project": project, "task": task, "state": state, "key": key,
        "form": await _render(project, task, state.results, config), "keymap": hotkeys.keymap(user),
        "actions": hotkeys.ACTIONS, "previous": await service.previous_task(project, user, state.annotation),
        # from the project's counters: counting what is left for this user would scan every task
        "remaining": max(0, project.task_number - project.finished_task_number),
        "stats": await service.stats(project, user),
        "lock_seconds": instance.current().task_lock.total_seconds(),
        "updating": state.annotation is not None and not state.annotation.was_cancelled,
        # nothing to start from yet: the model is asked now, and the page polls for its answer
        "suggestion": await suggest.on_open(project, task.id, user) if state.source == "new" else None,
        # the next task's pictures are asked for after the page is shown (see `preload`)
        "preload": bool(config.image_values()),
    }


async def preload(project: Project, user: User, task: Task) -> list[str]:
    """The addresses of the images the next task will show, for the browser to fetch into its cache
    now: a big image from a bucket is then on screen at once when the annotator moves on. Asked by
    the open page, so opening it costs no more than a text task."""
    images = parse_config(project.label_config).image_values()
    following = await queue.likely_next(project, user, task.id) if images else None
    upcoming = await tasks.task_in_project(project, following) if following else None
    if upcoming is None or not isinstance(upcoming.data, dict):
        return []
    data = await resolve.for_browser(project.id, upcoming.id, upcoming.data)
    found = [resolve_value(value, data) for value in images]
    return [url for url in found if isinstance(url, str) and url.startswith(("/", "https://", "http://"))][:4]


async def suggestion(project: Project, task: Task, job_id: int | None) -> tuple[dict[str, Any], bool]:
    """The model's prediction rendered into the form, or why there is none; True when the page
    should stop asking."""
    # the job before the prediction: it is marked done only after its prediction is stored, so
    # a prediction that lands between the two reads is never missed
    reason = await suggest.outcome(project, task.id, job_id) if job_id is not None else "no request"
    prediction = await service.starting_prediction(project, task.id)
    context: dict[str, Any] = {"prediction": prediction, "error": None}
    if prediction is not None:
        results = [{**item, "origin": "prediction"} for item in prediction.result if isinstance(item, dict)]
        context["form"] = await _render(project, task, results)
        return context, True
    context["error"] = reason
    return context, reason is not None


async def form(project: Project, task: Task, results: list[dict[str, Any]]) -> str:
    return await _render(project, task, results)


async def _render(project: Project, task: Task, results: list[dict[str, Any]], config: LabelConfig | None = None) -> str:
    """The config's form over the task, its storage URIs made addresses the browser can load."""
    data = await resolve.for_browser(project.id, task.id, task.data)
    config = config or parse_config(project.label_config)
    return config.render(data, results, workspace=True, media=await media_of(task.data))
