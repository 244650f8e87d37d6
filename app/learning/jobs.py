"""The built-in model's job: a training run, then predictions for the tasks no one has annotated."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.jobs import JobFailed, handler
from app.learning import service, training
from app.tables import Project

if TYPE_CHECKING:
    from app.tables import Job


@handler(service.JOB_KIND)
async def train(job: Job) -> dict[str, Any]:
    project = await Project.objects().where(Project.id == job.project).first()
    if project is None:
        raise JobFailed("The project was deleted before the model trained.", {})
    return await training.run(project, job.id)
