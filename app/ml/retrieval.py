"""Retrieving predictions on request: which tasks (the data manager's selection, the task list's
or the Model page's form) and the job that asks the project's active backend for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import jobs
from app.errors import InputError
from app.ml import predictions, service
from app.tasks import service as tasks
from app.tasks.filters import filters_of, list_params
from app.web import parse_id, parse_ids

if TYPE_CHECKING:
    from app.tables import Project, User

ACTIONS = [{"id": "retrieve_tasks_predictions", "title": "Retrieve Predictions", "order": 90,
            "dialog": {"text": "Send the selected tasks to the project's active ML backend and store its predictions."}}]


async def retrieve(project: Project, user: User, task_ids: list[int] | None) -> dict[str, Any]:
    """Queue a job fetching predictions for these tasks (None: every task without one of the
    current model version)."""
    backend = await service.active_backend(project.id)
    if backend is None:
        raise InputError({"ml_backend": ["This project has no ML backend: add one under Settings → Model."]})
    job = await jobs.enqueue("ml_predict", project_id=project.id, user_id=user.id,
                             params={"backend": backend.id, "tasks": task_ids})
    return jobs.job_json(job)


def check_action(action: str | None) -> None:
    if action != "retrieve_tasks_predictions":
        raise InputError({"id": [f"Unknown action; this server has: {', '.join(a['id'] for a in ACTIONS)}."]})


async def selected_tasks(project: Project, data: Any) -> list[int] | None:
    """The data manager's selection: {"selectedItems": {"all": false, "included": [ids]}} or
    {"all": true, "excluded": [ids]}; no selection means every task (None)."""
    selected = (data or {}).get("selectedItems", {"all": True, "excluded": []}) if isinstance(data, dict) else None
    if not isinstance(selected, dict):
        raise InputError({"selectedItems": ["Give {\"all\": true, \"excluded\": [...]} or {\"all\": false, \"included\": [...]}."]})
    for key in ("included", "excluded"):
        if not isinstance(selected.get(key) or [], list):
            raise InputError({f"selectedItems.{key}": ["Give a list of task ids."]})
    if selected.get("all"):
        excluded = {parse_id(i, "selectedItems.excluded") for i in selected.get("excluded") or []}
        return await predictions.task_ids_except(project.id, excluded) if excluded else None
    task_ids = sorted({parse_id(i, "selectedItems.included") for i in selected.get("included") or []})
    if not task_ids:
        raise InputError({"selectedItems": ["No tasks were selected."]})
    return task_ids


async def form_tasks(project: Project, form: Any, query: Any) -> list[int] | None:
    """The task list's selection (the ids, or "all matching" its filters in `query`), or None
    from the Model page: every task without a prediction of the current version."""
    if form.get("scope") == "matching":
        return await tasks.ids_filtered(project.id, filters_of(list_params(query)))
    if "ids" in form:
        return parse_ids(form.getall("ids"), "ids")
    return None
