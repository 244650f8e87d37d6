"""The built-in model of a project: its switch and counters, its versions, starting a training run
(after every N new or updated annotations, or from the button), and what the Model page and the
API show of it. Training itself is in `training.py`; the learners in `learners.py`."""

from __future__ import annotations

import pickle
import re
from typing import TYPE_CHECKING, Any

from app import jobs, rows
from app.clock import now
from app.db import write_tx
from app.errors import InputError
from app.learning.targets import targets
from app.ml.predictions import json_value
from app.rows import raw
from app.tables import BuiltinModel, Job, ModelRun, Project
from app.tasks import counters
from components import parse_config

if TYPE_CHECKING:
    from app.learning.learners import Fitted

JOB_KIND = "builtin_train"
TRAIN_EVERY_MAX = 1_000_000
PREFIX = "builtin-"
VERSION_FIELDS = "id, project, number, version, examples, available, seconds, quality, learned, created_at"


async def settings_of(project_id: int) -> BuiltinModel:
    """The project's row; a project that never turned the model on gets the defaults (unsaved)."""
    found = await rows.one(BuiltinModel, "project = {}", project_id)
    return found if found is not None else BuiltinModel(project=project_id)


def clean(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InputError({"non_field_errors": ["Send a JSON object."]})
    out, errors = {}, {}
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            errors["enabled"] = ["Must be true or false."]
        out["enabled"] = data["enabled"]
    if "train_every" in data:
        value = data["train_every"]
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,9}", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= TRAIN_EVERY_MAX:
            errors["train_every"] = [f"Annotations between training runs: a whole number from 1 to "
                                     f"{TRAIN_EVERY_MAX:,}."]
        out["train_every"] = value
    if errors:
        raise InputError(errors)
    return out


async def configure(project: Project, data: Any) -> BuiltinModel:
    """Turn the model on or off, or change how often it trains. Turning it on makes its active
    version (if it has one) the predictions annotators start from."""
    fields = clean(data)
    async with write_tx():
        await configure_row(project.id)
        if fields:
            await BuiltinModel.update({**{getattr(BuiltinModel, k): v for k, v in fields.items()},
                                       BuiltinModel.updated_at: now()}).where(BuiltinModel.project == project.id)
        row = await settings_of(project.id)
        if fields.get("enabled") and row.active_version:
            await _follow(project.id, row.active_version)
    return row


async def _follow(project_id: int, version: str) -> None:
    # the project's model_version is which predictions the workspace and the queue read
    await Project.update({Project.model_version: version, Project.updated_at: now()}).where(Project.id == project_id)


async def annotation_saved(project: Project) -> None:
    """Count a new or updated annotation; the Nth since the last run starts the next one. A read
    first: a project without the model costs its annotators no write."""
    row = await rows.one(BuiltinModel, "project = {} AND enabled = {}", project.id, True)
    if row is None:
        return
    async with write_tx():
        found = await raw("UPDATE lw_builtin_model SET pending = pending + 1 WHERE project = {} "
                          "RETURNING pending, train_every", project.id)
        due = bool(found) and found[0]["pending"] >= found[0]["train_every"] and not await _training(project.id)
        if due:
            await raw("UPDATE lw_builtin_model SET pending = 0 WHERE project = {}", project.id)
    if due:
        # quiet: the annotation is saved; a broker that is down must not turn that into an error
        await jobs.enqueue(JOB_KIND, project_id=project.id, user_id=None, params={"reason": "annotations"}, quiet=True)


async def _training(project_id: int) -> bool:
    """A run is queued or under way: the annotations that come meanwhile wait for the next one."""
    found = await raw("SELECT 1 FROM lw_job WHERE project = {} AND kind = {} AND state IN ('queued', 'running') "
                      "LIMIT 1", project_id, JOB_KIND)
    return bool(found)


async def start_training(project: Project, user_id: int | None) -> Job:
    """The Train button (or a training event to `model serve`): a run now, whatever the count (the
    count starts again). A run still waiting in the queue is that run: pressing twice queues one."""
    async with write_tx():
        await raw("UPDATE lw_builtin_model SET pending = 0 WHERE project = {}", project.id)
        waiting = await raw("SELECT id FROM lw_job WHERE project = {} AND kind = {} AND state = 'queued' "
                            "ORDER BY id LIMIT 1", project.id, JOB_KIND)
    if waiting:
        return await jobs.get(waiting[0]["id"])
    return await jobs.enqueue(JOB_KIND, project_id=project.id, user_id=user_id, params={"reason": "button"})


async def versions(project_id: int) -> list[dict[str, Any]]:
    """The versions trained, oldest first, without the models themselves."""
    found = await raw(f"SELECT {VERSION_FIELDS} FROM lw_model_run WHERE project = {{}} ORDER BY number", project_id)
    for row in found:
        for key in ("quality", "learned"):
            row[key] = json_value(row[key])
    return found


async def store_version(project: Project, fitted: list[Fitted], examples: int, available: int, seconds: float,
                        quality: dict[str, Any]) -> str:
    """Write a version whole, in one transaction: a run killed before this leaves no version. The
    run makes it active once it has predicted (`activate`). Returns the version's name."""
    blob = pickle.dumps({"format": 1, "models": fitted}, protocol=pickle.HIGHEST_PROTOCOL)
    learned = [m.target.describe() for m in fitted]
    async with write_tx():
        await configure_row(project.id)
        found = await raw("UPDATE lw_builtin_model SET next_number = next_number + 1, message = '' "
                          "WHERE project = {} RETURNING next_number", project.id)
        number = found[0]["next_number"] - 1
        version = f"{PREFIX}{number}"
        await ModelRun(project=project.id, number=number, version=version, examples=examples, available=available,
                       seconds=seconds, quality=quality, learned=learned, model=blob, created_at=now()).save()
    return version


async def activate(project_id: int, version: str) -> None:
    """The version predictions come from; while the model is on, also the project's model version
    (the predictions annotators start from and the queue orders by)."""
    async with write_tx():
        await BuiltinModel.update({BuiltinModel.active_version: version, BuiltinModel.updated_at: now()}).where(
            BuiltinModel.project == project_id)
        if await rows.one(BuiltinModel, "project = {} AND enabled = {}", project_id, True):
            await _follow(project_id, version)


async def earlier_run(project_id: int, job_id: int) -> bool:
    """Another run of this project, started before this one, is still running."""
    return bool(await raw("SELECT 1 FROM lw_job WHERE project = {} AND kind = {} AND state = 'running' AND id < {} "
                          "LIMIT 1", project_id, JOB_KIND, job_id))


async def run_again_soon(project_id: int) -> None:
    """A run that gave way to another: the next annotation saved starts the next run."""
    async with write_tx():
        await raw("UPDATE lw_builtin_model SET pending = CASE WHEN pending < train_every - 1 THEN train_every - 1 "
                  "ELSE pending END WHERE project = {}", project_id)


async def configure_row(project_id: int) -> None:
    """The project's row, made with the defaults if it has none yet (the Train button works before
    the model is turned on: it trains, and turning it on later starts from that version)."""
    await raw("INSERT INTO lw_builtin_model (project, enabled, train_every, pending, next_number, active_version, "
              "message, updated_at) VALUES ({}, {}, {}, 0, 1, '', '', {}) ON CONFLICT (project) DO NOTHING",
              project_id, False, 20, now())


async def say(project_id: int, message: str) -> None:
    """Why the last run did not train, for the Model page."""
    async with write_tx():
        await configure_row(project_id)
        await BuiltinModel.update({BuiltinModel.message: message[:2000], BuiltinModel.updated_at: now()}).where(
            BuiltinModel.project == project_id)


async def supersede(project_id: int, version: str, task_ids: list[int]) -> None:
    """Drop older built-in predictions of tasks `version` has just predicted and no one has
    annotated yet: no annotator saw them, and a million-task project would otherwise gain a million
    rows every run. Those of annotated tasks stay: they are what Model quality compares."""
    if not task_ids:
        return
    ids = ", ".join(str(int(t)) for t in task_ids)
    async with write_tx():
        await counters.lock_tasks(task_ids)
        # not a task someone has open: their page may submit with the prediction it started from
        gone = await raw(
            f"DELETE FROM lw_prediction WHERE task IN ({ids}) AND ml_backend IS NULL AND model_version <> {{}} "
            f"AND model_version LIKE {{}} AND task IN (SELECT t.id FROM lw_task t WHERE t.id IN ({ids}) "
            "AND t.total_annotations = 0 AND NOT EXISTS (SELECT 1 FROM lw_task_lock l WHERE l.task = t.id "
            "AND l.expire_at > {}) AND EXISTS (SELECT 1 FROM lw_prediction n WHERE n.task = t.id "
            "AND n.model_version = {})) RETURNING task", version, PREFIX + "%", now(), version)
        await counters.refresh(project_id, sorted({r["task"] for r in gone}))


async def active_model(project_id: int) -> tuple[str, list[Fitted]] | None:
    """The active version's name and fitted models (for the worker and `labelwell model serve`)."""
    found = await raw("SELECT r.version, r.model FROM lw_model_run r JOIN lw_builtin_model b ON b.project = r.project "
                      "AND b.active_version = r.version WHERE r.project = {}", project_id)
    if not found:
        return None
    # our own pickle, written by store_version above: nothing from outside is ever unpickled
    return found[0]["version"], pickle.loads(bytes(found[0]["model"]))["models"]


async def overview(project: Project) -> dict[str, Any]:
    """What the Model page and GET /api/projects/<id>/builtin-model show."""
    row = await settings_of(project.id)
    learns, cannot = targets(parse_config(project.label_config))
    last = await Job.objects().where(Job.project == project.id, Job.kind == JOB_KIND).order_by(
        Job.id, ascending=False).first().output(load_json=True)
    return {"enabled": row.enabled, "train_every": row.train_every, "pending": row.pending,
            "active_version": row.active_version, "message": row.message,
            "learns": [t.describe() for t in learns], "cannot": cannot, "versions": await versions(project.id),
            "last_job": None if last is None else {"id": last.id, "state": last.state, "error": last.error,
                                                   "result": last.result}}
