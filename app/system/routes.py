"""The settings area's system pages: health, and the broker and worker with their jobs."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.audit import note
from app.auth import require_admin
from app.system import health, job_queue


@get("/settings/health", guards=[require_admin])
async def health_view() -> Template:
    return Template("admin/health.html", context={"status": await health.system_status()})


@get("/settings/jobs", guards=[require_admin])
async def jobs_view(request: Request) -> Template:
    overview = await job_queue.overview(request.query_params.get("state", ""), request.query_params.get("kind", ""))
    return Template("admin/jobs.html", context=overview)


@post("/settings/jobs/{job_id:int}/retry", guards=[require_admin], opt={"audit": "job.retry"})
async def job_retry(request: Request, job_id: int) -> Redirect:
    job = await job_queue.retry(job_id)
    note(request, f"Job {job_id} ({job.kind}) retried as job {job.id}", project=job.project, retry=job.id)
    if job.state == "failed":
        flash(request, f"Job {job_id} could not be retried: {job.error}", category="error")
    else:
        flash(request, f"Job {job_id} ({job.kind}) queued again as job {job.id}.", category="success")
    form = await request.form()  # the list's filters, so the admin lands where they were
    back = urlencode({key: form[key] for key in ("state", "kind") if form.get(key)})
    return Redirect(f"/settings/jobs?{back}" if back else "/settings/jobs")


ROUTES = [health_view, jobs_view, job_retry]
