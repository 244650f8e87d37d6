"""Importing from the project page: files dropped or chosen, imported by the worker, with a progress
bar that polls the job (htmx) until it is done; and "Try a sample project"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.auth import require_admin, user_of
from app.data_import import from_uploads, samples
from app.errors import InputError
from app.uploads import service as uploads
from app.web import flag

if TYPE_CHECKING:
    from app.tables import Job, Project


@post("/projects/{project_id:int}/import", guards=[require_admin], request_max_body_size=None, opt={"audit": "tasks.import"})
async def import_upload(request: Request, project: Project) -> Template | Redirect:
    form = await request.form()
    files = [v for _, v in form.multi_items() if isinstance(v, UploadFile) and v.filename]
    if not files:
        raise InputError({"file": ["Choose or drop at least one file."]})
    uploaded = await uploads.save_all(project.id, user_of(request).id, files)
    # "Treat CSV/TSV as Time Series": each such file one task, its data value the file's address
    options = {"files_as_tasks_list": not flag(form.get("one_task_per_file", ""))}
    job = await from_uploads.queue_import(project, user_of(request).id, uploaded, options)
    if request.htmx:
        return Template("jobs/_job.html", context={"job": job, "project": project})
    return Redirect(f"/projects/{project.id}?job={job.id}#import")


@get("/projects/{project_id:int}/jobs/{job_id:int}")
async def job_progress(project: Project, job: Job) -> Template:
    return Template("jobs/_job.html", context={"job": job, "project": project})


@post("/projects/sample", guards=[require_admin], opt={"audit": "project.create"})
async def sample_project(request: Request) -> Redirect:
    form = await request.form()
    project = await samples.create(user_of(request), form.get("kind", "ner"))
    flash(request, f"Sample project “{project.title}” created with {project.task_number} tasks.", category="success")
    return Redirect(f"/projects/{project.id}")


ROUTES = [import_upload, job_progress, sample_project]
