"""Pre-labelling on demand: when an annotator opens a task the model has not predicted, a job asks
the model, and the workspace polls until the prediction is there (or the model gave up). The
annotator is never held up: they can start at once, and choose to take the prediction later."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from app import jobs
from app.clock import now
from app.ml import service
from app.tables import Job

if TYPE_CHECKING:
    from app.tables import Project, User

KIND = "ml_suggest"
PATIENCE = dt.timedelta(minutes=2)  # a job not done by then (no worker, a long queue) is given up on


async def on_open(project: Project, task_id: int, user: User) -> Job | None:
    """Queue a prediction of this task, unless the project does not want one or the model's
    current version is not the one annotators are shown (its answer would never appear)."""
    if not (project.evaluate_predictions_automatically and project.show_collab_predictions):
        return None
    backend = await service.active_backend(project.id)
    if backend is None or backend.state != "CO":
        # a backend found down or failing is asked again only after a check or a retrieval
        # succeeds; otherwise every task opened would queue a job bound to fail
        return None
    if project.model_version and backend.model_version and project.model_version != backend.model_version:
        return None
    # one job per task at a time: a reload or a second annotator joins the one already queued,
    # and a task the model just failed on is not asked about again on every open
    recent = now() - PATIENCE
    for job in await Job.objects().where(Job.project == project.id, Job.kind == KIND, Job.created_at > recent,
                                         Job.state != "done").output(load_json=True):
        if job.params.get("tasks") == [task_id]:
            return job if job.state in ("queued", "running") else None
    # quiet: a broker that is down leaves a failed job, and the page opens without a suggestion
    return await jobs.enqueue(KIND, project_id=project.id, user_id=user.id,
                              params={"backend": backend.id, "tasks": [task_id]}, quiet=True)


async def outcome(project: Project, task_id: int, job_id: int) -> str | None:
    """Why no prediction is coming (the poll stops), or None while the job is still under way.
    Annotators see a plain reason; the backend's own message is for the Model page."""
    job = await Job.objects().where(Job.id == job_id, Job.project == project.id, Job.kind == KIND).output(
        load_json=True).first()
    if job is None or job.params.get("tasks") != [task_id]:
        return "there is no request for it"
    if job.state == "failed":
        return "the model is unavailable or answered something unusable"
    if job.state == "done":
        return "the model's answer was not for the version shown here" if not (job.result or {}).get("errors") \
            else "the model's answer did not fit this project"
    if job.created_at < now() - PATIENCE:
        return "the model is taking too long"
    return None
