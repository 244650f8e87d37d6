"""Pre-labelling on demand: when an annotator opens a task the model has not predicted, a job asks
the model, and the workspace polls until the prediction is there (or the model gave up). The
annotator is never held up: they can start at once, and choose to take the prediction later."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app import jobs
from app.ml import service
from app.tables import Job

if TYPE_CHECKING:
    from app.tables import Project, User


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
    # one job per task at a time: a reload or a second annotator joins the job already queued
    for job in await Job.objects().where(Job.project == project.id, Job.kind == "ml_predict",
                                         Job.state.is_in(["queued", "running"])).output(load_json=True):
        if job.params.get("tasks") == [task_id]:
            return job
    return await jobs.enqueue("ml_predict", project_id=project.id, user_id=user.id,
                              params={"backend": backend.id, "tasks": [task_id], "opened": True})


async def job_of(project: Project, job_id: int) -> Job | None:
    return await Job.objects().where(Job.id == job_id, Job.project == project.id).output(load_json=True).first()
