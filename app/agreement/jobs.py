"""Recomputing a whole project's agreement in the worker: after an import brought annotations,
or when the control weights change."""

from __future__ import annotations

from typing import Any

from app.agreement import report, store
from app.jobs import JobFailed, handler
from app.tables import Job, Project


@handler("agreement")
async def recompute(job: Job) -> dict[str, Any]:
    project = await Project.objects().where(Project.id == job.project).output(load_json=True).first()
    if project is None:
        raise JobFailed("The project was deleted before the job ran.", {})
    return {"tasks": await store.refresh_project(project)}


@handler("agreement_summary")
async def summarize(job: Job) -> dict[str, Any]:
    project = await Project.objects().where(Project.id == job.project).output(load_json=True).first()
    if project is None:
        raise JobFailed("The project was deleted before the job ran.", {})
    data = await report.store_summary(project)
    return {"tasks": data["tasks"]}
