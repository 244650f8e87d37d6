"""The ML jobs the worker runs: retrieving predictions in batches, and delivering webhooks.

Both retry what is worth retrying (no answer, a timeout, the backend's 5xx) with a growing pause,
and keep going past a task that fails: its reason goes into the job's error list."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from app.jobs import JobFailed, handler, set_progress
from app.ml import predictions, service
from app.ml.client import Answer, MLApi
from app.settings import settings
from app.tables import Project
from components import parse_config

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from app.tables import Job, MLBackend

TRIES = 3  # a call is sent at most this often
BACKOFF = 0.5  # seconds before the second try, doubled for each further one
MAX_LISTED_ERRORS = 200  # per-task errors kept in the job's result (all are counted)
# batches in flight at once: the next request travels while the last answer is checked and
# stored; more would only crowd a model that predicts one batch at a time
CONCURRENT_BATCHES = 2
PROGRESS_EVERY = 0.3  # seconds between progress writes


async def with_retries(call: Callable[[], Awaitable[Answer]], before_retry: Callable[[], Awaitable[Any]] | None = None,
                       after_timeout: bool = True) -> Answer:
    """`after_timeout=False` for calls that must not run twice: a 2.x backend trains inside
    /webhook, so a slow answer means training is under way, not lost."""
    answer = await call()
    attempt = 1
    while attempt < TRIES and not answer.ok and answer.retryable and (after_timeout or not answer.timed_out):
        await asyncio.sleep(BACKOFF * 2 ** (attempt - 1))
        if before_retry is not None:
            await before_retry()
        answer = await call()
        attempt += 1
    if attempt > 1 and not answer.ok:
        answer.error += f" (tried {attempt} times)"
    return answer


async def _job_context(job: Job) -> tuple[Project, MLBackend]:
    project = await Project.objects().where(Project.id == job.project).first()
    backend = await service.get_backend(job.params.get("backend") or 0)
    if project is None or backend is None or backend.project != project.id:
        raise JobFailed("The ML backend was removed before the job ran.", {})
    return project, backend


@handler("ml_suggest")  # the same, for the one task an annotator just opened
@handler("ml_predict")
async def retrieve_predictions(job: Job) -> dict[str, Any]:
    """Predictions of the backend's current model version for the job's tasks (or all the tasks
    without one), `LABELWELL_ML_BATCH_SIZE` tasks per /predict request."""
    project, backend = await _job_context(job)
    config = parse_config(project.label_config)
    uid = service.project_uid(project)
    async with MLApi(backend) as api:
        # /setup first, every time: a 1.0.9 backend refuses /predict until it has been set up,
        # and /setup tells the model version to skip tasks by
        backend = await service.check_state(backend, project, api)
        if backend.state != "CO":
            raise JobFailed(f"The ML backend is not reachable: {backend.error_message}", {"backend": backend.id})
        wanted = job.params.get("tasks")
        todo = await predictions.missing_version(project.id, wanted, backend.model_version)
        report: dict[str, Any] = {"backend": backend.id, "model_version": backend.model_version,
                                  "tasks": len(todo) if wanted is None else len(wanted),
                                  "skipped": 0 if wanted is None else len(wanted) - len(todo),
                                  "predicted": 0, "failed": 0, "errors": []}
        await set_progress(job.id, 0, len(todo))
        chunks = [todo[i:i + settings.ml_batch_size] for i in range(0, len(todo), settings.ml_batch_size)]
        # one_by_one: the backend answered one result for a batch; shown: when progress was last written
        state = {"one_by_one": False, "done": 0, "shown": time.monotonic()}
        gate = asyncio.Semaphore(CONCURRENT_BATCHES)

        async def run_chunk(chunk: list[int]) -> None:
            async with gate:
                tasks = await predictions.tasks_for(project.id, chunk)
                # (tasks, retry): tasks asked again one by one after a failed batch are not retried,
                # or a model that fails on everything would cost three tries per task
                groups = [([t], True) for t in tasks] if state["one_by_one"] else [(tasks, True)]
                while groups:
                    group, retry = groups.pop(0)
                    parsed = await _predict(api, project, uid, config, group, retry)
                    if parsed.one_for_many:
                        state["one_by_one"] = True  # as Label Studio: ask again, one task per request
                    if parsed.one_for_many or parsed.split:
                        groups = [([t], not parsed.split) for t in group] + groups
                        continue
                    stored = await predictions.store(project.id, backend.id, parsed.good)
                    report["predicted"] += len(stored)
                    report["skipped"] += len({p["task"] for p in parsed.good} - stored)
                    report["failed"] += len(parsed.errors)
                    room = MAX_LISTED_ERRORS - len(report["errors"])
                    report["errors"].extend({"task": t, "error": e} for t, e in list(parsed.errors.items())[:max(0, room)])
                state["done"] += len(chunk)
                if time.monotonic() - state["shown"] > PROGRESS_EVERY:  # a write per batch would cost more than the batch
                    state["shown"] = time.monotonic()
                    await set_progress(job.id, state["done"], len(todo))

        # a batch that fails (the backend removed mid-job, say) cancels the others at once
        try:
            async with asyncio.TaskGroup() as group:
                for chunk in chunks:
                    group.create_task(run_chunk(chunk))
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the job's error names the cause, not the group
    if report["failed"] and not report["predicted"]:
        first = report["errors"][0]["error"] if report["errors"] else "no prediction came back"
        raise JobFailed(f"No prediction was stored: {report['failed']} task(s) failed, e.g. {first}", report)
    return report


async def _predict(api: MLApi, project: Project, uid: str, config: Any, tasks: list[dict[str, Any]],
                   retry: bool = True) -> predictions.Parsed:
    payload = [predictions.task_payload(t) for t in tasks]

    async def setup_again() -> None:
        # a 1.0.9 backend that restarted has forgotten its model until /setup runs again. Only
        # /setup: a full state check would mark the backend down after one slow /health
        await service.send_setup(api, project)

    call = lambda: api.predict(payload, uid, project.label_config)  # noqa: E731
    answer = await (with_retries(call, setup_again) if retry else call())
    if not answer.ok and len(tasks) > 1 and answer.status is not None and answer.status >= 500:
        return predictions.Parsed(split=True)  # the model may choke on one task: the others go one by one
    if not answer.ok:
        parsed = predictions.Parsed()
        for task in tasks:
            parsed.errors[task["id"]] = f"/predict: {answer.error}"
        return parsed
    return predictions.parse_answer(answer.body, tasks, config, api.backend.model_version)


@handler("ml_webhook")
async def deliver_webhook(job: Job) -> dict[str, Any]:
    """One event to the backend's /webhook (training on annotations, or START_TRAINING)."""
    _, backend = await _job_context(job)
    payload = job.params["payload"]
    async with MLApi(backend) as api:
        answer = await with_retries(lambda: api.webhook(payload), after_timeout=False)
    if not answer.ok:
        raise JobFailed(f"{payload.get('action')} was not delivered: {answer.error}",
                        {"backend": backend.id, "action": payload.get("action"), "status": answer.status})
    return {"backend": backend.id, "action": payload.get("action"), "status": answer.status, "response": answer.body}


@handler("ml_interactive")
async def interactive_prediction(job: Job) -> dict[str, Any]:
    """Label Studio's interactive pre-annotation: one task and the annotator's context (the region
    just drawn) to /predict; the backend's answer goes back to the caller, stored nowhere."""
    project, backend = await _job_context(job)
    tasks = await predictions.tasks_for(project.id, [job.params["task"]])
    if not tasks:
        raise JobFailed("The task was deleted before the model was asked.", {})
    async with MLApi(backend) as api:
        answer = await api.predict([predictions.task_payload(tasks[0])], service.project_uid(project),
                                   project.label_config, context=job.params.get("context") or {})
    if not answer.ok:
        raise JobFailed(f"/predict: {answer.error}", {"backend": backend.id, "status": answer.status})
    return {"data": answer.body}
