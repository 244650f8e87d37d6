"""Predictions from a backend: the tasks sent to /predict, reading its answer (both SDK shapes, one
result for a batch, several predictions per task), checking every prediction against the config,
and storing them in one transaction that skips (task, version) pairs already stored."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from app.clock import iso, now
from app.data_import.normalize import ItemError, Rules, checked
from app.db import insert_rows, write_tx
from app.ml import service
from app.rows import raw
from app.tables import Prediction, Task
from app.tasks import counters

if TYPE_CHECKING:
    from components import LabelConfig


def _ints(ids: list[int]) -> str:
    return ", ".join(str(int(i)) for i in ids) or "0"  # ints only: safe to inline


async def stored_versions(project_id: int) -> set[str]:
    """The model versions this project has predictions of."""
    found = await Prediction.select(Prediction.model_version).where(Prediction.project == project_id).distinct()
    return {r["model_version"] for r in found}


async def version_counts(project: Any, extended: bool, live: bool, admin: bool) -> dict[str, Any]:
    """Label Studio's /model-versions: {version: predictions} with the project's own version (0 if it
    has none); extended: {"static": [{model_version, count, latest}] newest first, "live": the
    backends (admins only, when include_live_models asks; else null)}."""
    found = await raw("SELECT model_version, COUNT(*) AS count, MAX(created_at) AS latest FROM lw_prediction "
                      "WHERE project = {} GROUP BY model_version", project.id)
    if not extended:
        counts = {r["model_version"]: int(r["count"]) for r in found}
        if project.model_version and project.model_version not in counts:
            counts[project.model_version] = 0
        return counts
    static = sorted(({"model_version": r["model_version"], "count": int(r["count"]), "latest": _moment(r["latest"])}
                     for r in found), key=lambda v: v["latest"] or "", reverse=True)
    backends = [service.backend_json(b) for b in await service.backends_of(project.id)] if live and admin else None
    return {"static": static, "live": backends}


def _moment(value: Any) -> str | None:
    """A timestamp from raw SQL: a datetime on PostgreSQL, text on SQLite."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return iso(value) if value is not None else None


async def task_ids_except(project_id: int, excluded: set[int]) -> list[int]:
    """Every task of the project but these."""
    return [r["id"] for r in await Task.select(Task.id).where(Task.project == project_id) if r["id"] not in excluded]


def task_payload(task: dict[str, Any]) -> dict[str, Any]:
    """A task as Label Studio's TaskSimpleSerializer sends it in /predict."""
    return {"id": task["id"], "data": task["data"], "meta": task["meta"], "created_at": task["created_at"],
            "updated_at": task["updated_at"], "is_labeled": bool(task["is_labeled"]), "overlap": task["overlap"],
            "inner_id": task["inner_id"], "total_annotations": task["total_annotations"],
            "cancelled_annotations": task["cancelled_annotations"], "total_predictions": task["total_predictions"],
            "project": task["project"], "file_upload": task["file_upload"], "annotations": [], "predictions": [],
            "comment_count": 0, "unresolved_comment_count": 0, "last_comment_updated_at": None,
            "updated_by": task["updated_by"], "comment_authors": []}


async def tasks_for(project_id: int, task_ids: list[int]) -> list[dict[str, Any]]:
    """The tasks to send, as plain dicts."""
    found = await raw(
        "SELECT id, project, inner_id, data, meta, created_at, updated_at, is_labeled, overlap, total_annotations, "
        "cancelled_annotations, total_predictions, file_upload, updated_by "
        f"FROM lw_task WHERE project = {{}} AND id IN ({_ints(task_ids)}) ORDER BY inner_id", project_id)
    out = []
    for row in found:
        for key in ("data", "meta"):
            if isinstance(row[key], str):
                row[key] = orjson.loads(row[key])
        for key in ("created_at", "updated_at"):
            if isinstance(row[key], dt.datetime):
                row[key] = row[key].isoformat()
        out.append(row)
    return out


async def missing_version(project_id: int, task_ids: list[int] | None, version: str) -> list[int]:
    """Tasks (all of the project's, or of `task_ids`) with no prediction of `version`, in order."""
    where = ""
    if task_ids is not None:
        where = f"AND t.id IN ({_ints(task_ids)})"
    found = await raw(
        f"SELECT t.id FROM lw_task t WHERE t.project = {{}} {where} AND NOT EXISTS "
        "(SELECT 1 FROM lw_prediction p WHERE p.task = t.id AND p.model_version = {}) ORDER BY t.inner_id",
        project_id, version)
    return [r["id"] for r in found]


async def final_results(project_id: int) -> dict[int, list[dict]]:
    """Each annotated task's final result, what predictions are compared with and the built-in
    model learns from: its ground truth if one is marked, else the newest annotation (skips are
    not an answer)."""
    found = await raw("SELECT task, result, ground_truth FROM lw_annotation WHERE project = {} AND was_cancelled = {} "
                      "ORDER BY ground_truth, updated_at, id", project_id, False)
    # ordered so that the last row per task is the one that counts
    return {row["task"]: json_value(row["result"]) or [] for row in found}


def json_value(value: Any) -> Any:
    """A JSON column read with raw SQL: text on SQLite, already decoded on PostgreSQL."""
    return orjson.loads(value) if isinstance(value, str) else value


@dataclass
class Parsed:
    """A /predict answer, sorted out: the predictions to store, and what was wrong per task."""

    good: list[dict[str, Any]] = field(default_factory=list)  # {"task", "result", "score", "model_version"}
    errors: dict[int, str] = field(default_factory=dict)
    one_for_many: bool = False  # one result for several tasks: the backend does not batch
    split: bool = False  # the batch failed as a whole: ask again one task per request


def _score(value: Any) -> float | None:
    """Label Studio's safe_float: a number, else nothing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def parse_answer(body: Any, tasks: list[dict[str, Any]], config: LabelConfig, fallback_version: str) -> Parsed:
    """Check every prediction against the config. A task's predictions are kept whole or not at all."""
    out = Parsed()
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        for task in tasks:
            out.errors[task["id"]] = "the answer has no `results` list"
        return out
    results = body["results"]
    if len(results) == 1 and len(tasks) > 1:
        out.one_for_many = True
        return out
    if len(results) != len(tasks):
        for task in tasks:
            out.errors[task["id"]] = f"the backend answered {len(results)} results for {len(tasks)} tasks"
        return out
    # 1.0.9 puts the version at the top as well as in each result; 2.x only in each result
    top = body.get("model_version")
    default_version = fallback_version if top in (None, "") else str(top)
    rules = Rules(config, [], set(), {}, 0)
    for task, element in zip(tasks, results):
        found = element if isinstance(element, list) else [element]  # a list: several predictions for one task
        kept = []
        try:
            if not found:
                raise ItemError("the backend returned no prediction")
            for index, item in enumerate(found):
                where = f"prediction {index}" if len(found) > 1 else "prediction"
                if not isinstance(item, dict) or not isinstance(item.get("result"), list):
                    raise ItemError(f"{where} has no `result` list")
                result = checked(item["result"], where, task["data"], rules, None)
                version = item.get("model_version")
                kept.append({"task": task["id"], "result": result, "score": _score(item.get("score")),
                             "model_version": (default_version if version in (None, "") else str(version))[:255]})
        except ItemError as exc:
            out.errors[task["id"]] = str(exc)
            continue
        out.good.extend(kept)
    return out


async def store(project_id: int, backend_id: int, predictions: list[dict[str, Any]]) -> set[int]:
    """Store predictions, except where that task already has one of the same version (a task
    retrieved twice, or by two jobs at once): nothing is stored twice. Returns the tasks stored."""
    if not predictions:
        return set()
    task_ids = sorted({p["task"] for p in predictions})
    stamp = now()
    async with write_tx():
        await counters.lock_tasks(task_ids)
        have = {(r["task"], r["model_version"]) for r in await raw(
            f"SELECT task, model_version FROM lw_prediction WHERE task IN ({_ints(task_ids)})")}
        # several predictions of one version for one task in a single answer are all kept
        fresh = [(p["task"], project_id, backend_id, orjson.dumps(p["result"]).decode(), p["score"],
                  p["model_version"], stamp, stamp) for p in predictions if (p["task"], p["model_version"]) not in have]
        await insert_rows("lw_prediction", ["task", "project", "ml_backend", "result", "score", "model_version",
                                            "created_at", "updated_at"], fresh)
        stored = sorted({row[0] for row in fresh})
        if stored:
            # only the prediction count moves: one statement, not counters.refresh's row per task
            await raw("UPDATE lw_task SET total_predictions = (SELECT COUNT(*) FROM lw_prediction p "
                      f"WHERE p.task = lw_task.id) WHERE id IN ({_ints(stored)})")
            await counters.shift(project_id, total_predictions_number=len(fresh))
    return {row[0] for row in fresh}
