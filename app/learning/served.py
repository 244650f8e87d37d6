"""The built-in model as a `label_studio_ml` backend (`labelwell model serve --project N`): what
its /setup, /predict and /webhook answer, in the shapes docs/ml-backend.md records for the 2.x
SDK, so Label Studio (or another Labelwell) can point at it like at any backend."""

from __future__ import annotations

from typing import Any

import anyio

from app.errors import InputError
from app.learning import learners, service
from app.tables import Project
from components import parse_config

MODEL_CLASS = "LabelwellBuiltin"
MAX_TASKS = 10_000  # per /predict
TRAINING_EVENTS = ("START_TRAINING", "ANNOTATION_CREATED", "ANNOTATION_UPDATED")
_loaded: dict[int, tuple[str, list[learners.Fitted]]] = {}  # project -> the version in memory


async def _project(project_id: int) -> Project:
    project = await Project.objects().where(Project.id == project_id).first()
    if project is None:
        raise InputError({"project": [f"Project {project_id} does not exist (any more)."]})
    return project


async def _model(project_id: int) -> tuple[str, list[learners.Fitted]] | None:
    """The active version, loaded once and again only when a newer one becomes active."""
    active = (await service.settings_of(project_id)).active_version
    if not active:
        return None
    if _loaded.get(project_id, ("",))[0] != active:
        found = await service.active_model(project_id)
        if found is None:
            return None
        _loaded[project_id] = found
    return _loaded[project_id]


async def setup(project_id: int) -> dict[str, Any]:
    await _project(project_id)
    found = await _model(project_id)
    return {"model_version": found[0] if found else "untrained"}


async def predict(project_id: int, body: Any) -> dict[str, Any]:
    """One result per task, in order. A task whose text is missing gets an empty result (no guess)."""
    tasks = body.get("tasks") if isinstance(body, dict) else None
    if not isinstance(tasks, list) or len(tasks) > MAX_TASKS:
        raise InputError({"tasks": [f"Send {{\"tasks\": [...]}} with at most {MAX_TASKS:,} tasks."]})
    project = await _project(project_id)
    found = await _model(project_id)
    if found is None:
        return {"results": [{"result": [], "score": None, "model_version": "untrained"} for _ in tasks]}
    version, models = found
    datas = [t.get("data") if isinstance(t, dict) and isinstance(t.get("data"), dict) else {} for t in tasks]
    answers = await anyio.to_thread.run_sync(learners.predict_tasks, models, parse_config(project.label_config), datas)
    return {"model_version": version, "results": [
        {"result": [], "score": None, "model_version": version} if isinstance(a, str) else
        {"result": a[0], "score": round(a[1], 6), "model_version": version} for a in answers]}


async def webhook(project_id: int, body: Any) -> tuple[int, dict[str, Any]]:
    """Training events start a run of the project's built-in model (201, as the 2.x SDK answers
    one it trained on); any other event is answered as the SDK does."""
    action = body.get("action") if isinstance(body, dict) else None
    if not isinstance(action, str):
        raise InputError({"action": ["Send the webhook's JSON with its `action`."]})
    if action not in TRAINING_EVENTS:
        return 200, {"status": "Unknown event"}
    job = await service.start_training(await _project(project_id), None)
    return 201, {"status": "ok", "result": {"job_id": job.id}}
