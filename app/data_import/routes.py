"""Importing from the project page: files dropped or chosen, imported by the worker, with a progress
bar that polls the job (htmx) until it is done; and "Try a sample project"."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import jobs
from app.auth import require_admin, user_of
from app.data_import import samples
from app.data_import.api import save_all
from app.errors import InputError
from app.projects.api import project_or_404
from app.tables import Job


@post("/projects/{project_id:int}/import", guards=[require_admin], request_max_body_size=None, opt={"audit": "tasks.import"})
async def import_upload(request: Request, project_id: int) -> Template | Redirect:
    project = await project_or_404(user_of(request), project_id)
    form = await request.form()
    files = [v for _, v in form.multi_items() if isinstance(v, UploadFile) and v.filename]
    if not files:
        raise InputError({"file": ["Choose or drop at least one file."]})
    uploaded = await save_all(project, user_of(request).id, files)
    job = await jobs.enqueue("import", project_id=project.id, user_id=user_of(request).id,
                             params={"upload_ids": [u.id for u in uploaded], "options": {}})
    if request.htmx:
        return Template("jobs/_job.html", context={"job": job, "project": project})
    return Redirect(f"/projects/{project.id}?job={job.id}#import")


@get("/projects/{project_id:int}/jobs/{job_id:int}")
async def job_progress(request: Request, project_id: int, job_id: int) -> Template:
    project = await project_or_404(user_of(request), project_id)
    job = await Job.objects().where(Job.id == job_id, Job.project == project.id).output(load_json=True).first()
    if job is None or (job.kind.startswith("ml_") and user_of(request).role != "admin"):  # as /api/jobs/{id}
        raise NotFoundException(f"No job {job_id} in this project")
    return Template("jobs/_job.html", context={"job": job, "project": project})


@post("/projects/sample", guards=[require_admin], opt={"audit": "project.create"})
async def sample_project(request: Request) -> Redirect:
    form = await request.form()
    project = await samples.create(user_of(request), form.get("kind", "ner"))
    flash(request, f"Sample project “{project.title}” created with {project.task_number} tasks.", category="success")
    return Redirect(f"/projects/{project.id}")


ROUTES = [import_upload, job_progress, sample_project]
