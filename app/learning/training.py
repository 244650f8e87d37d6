"""One run of the built-in model, in the worker: read the project's final annotations (a capped,
stratified sample of a huge project), cross-validate and fit each control it can learn, store the
version and make it active, then predict the tasks no one has annotated, batch by batch.

Fitting and predicting are CPU work: they run in a thread, so the job's event loop (its heartbeat
and progress writes) keeps going meanwhile."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio

from app.jobs import set_progress
from app.learning import learners, service
from app.learning.targets import Target, targets
from app.ml import predictions
from app.rows import raw
from app.settings import settings
from components import parse_config

if TYPE_CHECKING:
    from app.tables import Project

PREDICT_BATCH = 500
TRIES = 2  # a prediction batch that fails is tried once more, then listed and passed
MAX_LISTED_ERRORS = 200
DATA_CHUNK = 1000  # task ids per query when reading task data


async def run(project: Project, job_id: int) -> dict[str, Any]:
    if await service.earlier_run(project.id, job_id):
        # runs of a project take turns: two at once would race for the active version
        await service.run_again_soon(project.id)
        return {"trained": False, "reason": "Another training run of this project was under way; the next new or "
                                            "updated annotation starts a run after it."}
    config = parse_config(project.label_config)
    found, cannot = targets(config)
    if not found:
        why = "; ".join(f"{c['control']}: {c['why']}" for c in cannot) or "the config has no controls"
        return await _not_trained(project, f"Nothing in this config can be learnt by the built-in model ({why}).")
    finals = await predictions.final_results(project.id)
    available = len(finals)
    chosen = _sample(found[0], finals)
    datas = await _task_data(project.id, chosen)
    started = time.monotonic()
    fitted, quality, reasons, examples = await anyio.to_thread.run_sync(
        _fit_all, found, config, [(task, finals[task], datas[task]) for task in chosen if task in datas])
    if not fitted:
        return await _not_trained(project, " ".join(reasons))
    seconds = time.monotonic() - started
    sampled = len(chosen) < available
    version = await service.store_version(project, fitted, examples, available, seconds,
                                          {"controls": quality, "not_trained": reasons, "sampled": sampled})
    report = {"trained": True, "model_version": version, "examples": examples, "available": available,
              "sampled": sampled, "seconds": round(seconds, 3), "quality": quality, "not_trained": reasons}
    predicted = await predict_unlabelled(project, version, fitted, job_id)
    # active only now that it has predicted: until then annotators keep the previous version's
    # pre-labels, and the queue its order
    await service.activate(project.id, version)
    await _supersede_all(project.id, version)
    return {**report, **predicted}


async def _supersede_all(project_id: int, version: str) -> None:
    after = 0
    while batch := await raw(f"SELECT id FROM lw_task WHERE project = {{}} AND total_annotations = 0 AND id > {{}} "
                             f"ORDER BY id LIMIT {PREDICT_BATCH}", project_id, after):
        after = batch[-1]["id"]
        await service.supersede(project_id, version, [r["id"] for r in batch])


async def _not_trained(project: Project, message: str) -> dict[str, Any]:
    # not a failure: the page says what is missing, and the next run tries again
    await service.say(project.id, message)
    return {"trained": False, "reason": message}


def _sample(first: Target, finals: dict[int, list[dict]]) -> list[int]:
    """The tasks to learn from: all of them, or LABELWELL_LEARNING_SAMPLE keeping each answer's share (the
    first control's choices decide the strata; for spans, whether a task has any)."""
    tasks = sorted(finals)
    strata = [_stratum(first, finals[t]) for t in tasks]
    return [tasks[i] for i in learners.sample(tasks, strata, settings.learning_sample)]


def _stratum(target: Target, result: list[dict]) -> str:
    mine = [r for r in result if isinstance(r, dict) and r.get("from_name") == target.control]
    values = [v for r in mine if isinstance(r.get("value"), dict)
              for v in r["value"].get("choices") or r["value"].get("labels") or []]
    return "|".join(sorted(map(str, values)))


async def _task_data(project_id: int, task_ids: list[int]) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for i in range(0, len(task_ids), DATA_CHUNK):
        ids = ", ".join(str(int(t)) for t in task_ids[i:i + DATA_CHUNK])
        for row in await raw(f"SELECT id, data FROM lw_task WHERE project = {{}} AND id IN ({ids})", project_id):
            out[row["id"]] = predictions.json_value(row["data"])
    return out


def _fit_all(found: list[Target], config: Any, examples: list[tuple[int, list, dict]]
             ) -> tuple[list[learners.Fitted], dict[str, Any], list[str], int]:
    """Cross-validate and fit each control that has enough to learn from; why not, for the others."""
    fitted, quality, reasons, used = [], {}, [], 0
    for target in found:
        texts, answers = [], []
        for _, result, data in examples:
            try:
                text = learners.text_checked(target, config, data)
            except ValueError:
                continue  # a task without this text teaches nothing about it
            answer = learners.answers_of(target, result, text)
            if answer is not None:
                texts.append(text)
                answers.append(answer)
        why = learners.not_ready(target, answers)
        if why:
            reasons.append(why)
            continue
        quality[target.control] = {**learners.cross_validate(target, texts, answers), "examples": len(texts)}
        fitted.append(learners.fit(target, texts, answers))
        used = max(used, len(texts))
    return fitted, quality, reasons, used


async def predict_unlabelled(project: Project, version: str, fitted: list[learners.Fitted],
                             job_id: int | None) -> dict[str, Any]:
    """Predictions of `version` for every task without a human annotation and without one of this
    version yet, PREDICT_BATCH at a time; a batch that fails twice is listed and passed."""
    config = parse_config(project.label_config)
    total = (await raw("SELECT COUNT(*) AS n FROM lw_task WHERE project = {} AND total_annotations = 0",
                       project.id))[0]["n"]
    report: dict[str, Any] = {"predicted": 0, "failed": 0, "errors": []}
    after, done = 0, 0
    while True:
        batch = await _unpredicted(project.id, version, after)
        if not batch:
            break
        after = batch[-1]["id"]
        for attempt in range(TRIES):
            try:
                stored, errors = await _predict_batch(project.id, config, version, fitted, batch)
                break
            except Exception as exc:  # noqa: BLE001 - listed in the job's result, and the next batch goes on
                if attempt + 1 == TRIES:
                    stored, errors = 0, {t["id"]: f"{type(exc).__name__}: {exc}" for t in batch}
        report["predicted"] += stored
        report["failed"] += len(errors)
        room = MAX_LISTED_ERRORS - len(report["errors"])
        report["errors"] += [{"task": t, "error": e} for t, e in list(errors.items())[:max(0, room)]]
        done += len(batch)
        if job_id is not None:
            await set_progress(job_id, min(done, total), total)
    return report


async def _unpredicted(project_id: int, version: str, after: int) -> list[dict[str, Any]]:
    found = await raw(
        "SELECT t.id, t.data FROM lw_task t WHERE t.project = {} AND t.total_annotations = 0 AND t.id > {} "
        "AND NOT EXISTS (SELECT 1 FROM lw_prediction p WHERE p.task = t.id AND p.model_version = {}) "
        f"ORDER BY t.id LIMIT {PREDICT_BATCH}", project_id, after, version)
    for row in found:
        row["data"] = predictions.json_value(row["data"])
    return found


async def _predict_batch(project_id: int, config: Any, version: str, fitted: list[learners.Fitted],
                         batch: list[dict[str, Any]]) -> tuple[int, dict[int, str]]:
    answers = await anyio.to_thread.run_sync(learners.predict_tasks, fitted, config, [t["data"] for t in batch])
    good, errors = [], {}
    for task, answer in zip(batch, answers):
        if isinstance(answer, str):
            errors[task["id"]] = answer
        else:
            good.append({"task": task["id"], "result": answer[0], "score": round(answer[1], 6),
                         "model_version": version})
    return len(await predictions.store(project_id, None, good)), errors
