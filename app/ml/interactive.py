"""POST /api/ml/{id}/interactive-annotating: a model's answer for one task and the annotator's
context, without storing it (Label Studio's smart tools). The backend is asked by a worker job, as
every ML call is; the request waits for that job, at most as long as the backend's timeout."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from app import jobs
from app.errors import InputError
from app.tables import Job, Task
from app.web import body_id

if TYPE_CHECKING:
    from app.tables import MLBackend, Project, User

# seconds between looks at the job: quick at first (a smart tool's answer is wanted within a
# fraction of a second), then slower, so a slow backend costs a few queries a second, not twenty
FIRST_POLL, LAST_POLL = 0.02, 0.5
LONGEST = 120.0  # seconds a request waits, whatever the backend's timeout says


class ModelUnavailable(Exception):
    """The model failed or did not answer in time: a 502 or 504 naming why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def annotate(project: Project, backend: MLBackend, user: User, data: Any) -> dict[str, Any]:
    if not backend.is_interactive:
        raise InputError({"errors": ["Model is not set for interactive preannotations"]})
    if not isinstance(data, dict):
        raise InputError({"task": ["Give {\"task\": <id>, \"context\": {…}}."]})
    task_id = body_id(data.get("task"), "task")
    if not await Task.exists().where(Task.id == task_id, Task.project == project.id):
        raise InputError({"task": [f"No task {task_id} in project {project.id}."]})
    context = data.get("context", {})
    if not isinstance(context, dict):
        raise InputError({"context": ["Must be an object, such as {\"result\": [<the region just drawn>]}."]})
    job = await jobs.enqueue("ml_interactive", project_id=project.id, user_id=user.id,
                             params={"backend": backend.id, "task": task_id, "context": context})
    return await _wait(job.id, min(float(backend.timeout or 100.0) + 5, LONGEST))


async def _wait(job_id: int, patience: float) -> dict[str, Any]:
    deadline, pause = time.monotonic() + patience, FIRST_POLL
    while time.monotonic() < deadline:
        state = await Job.select(Job.state).where(Job.id == job_id).first()
        if state is not None and state["state"] == "done":
            job = await Job.objects().where(Job.id == job_id).output(load_json=True).first()
            return job.result
        if state is None or state["state"] == "failed":
            job = await Job.objects().where(Job.id == job_id).first()
            raise ModelUnavailable(502, f"The model gave no answer: {job.error if job else 'the job vanished'}")
        await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(LAST_POLL, pause * 1.5)
    raise ModelUnavailable(504, f"The model did not answer within {patience:g} s.")
