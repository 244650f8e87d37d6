"""GET /api/projects/{id}/export?exportType=… (Label Studio's easy export, streamed) and the list of
formats the project's config allows. The records written are counted against the records expected."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import File, Redirect, Stream, Template

from app import jobs

from app.auth import user_of
from app.db import read_snapshot
from app.data_export import records
from app.data_export.formats import FORMATS, available
from app.data_export.jobs import export_path, filters_to_params
from app.errors import InputError
from app.projects import service as projects
from app.projects.api import both, project_or_404
from app.tables import Job, Project
from components import parse_config

log = logging.getLogger("labelwell.export")
TRUE = ("1", "true", "yes", "on")


class ExportIncomplete(RuntimeError):
    """Fewer (or more) records were written than the query promised: the download must fail, loudly."""


def ints(values: list[str], name: str) -> list[int]:
    out = []
    for value in (v.strip() for raw in values for v in raw.split(",") if v.strip()):
        if not re.fullmatch(r"[0-9]{1,10}", value) or int(value) >= 2**31:
            raise InputError({name: [f"{value!r} is not an id."]})
        out.append(int(value))
    return out


def filters_from(query: Any) -> records.Filters:
    """Filters from the query string (or a form): both are multi-dicts."""
    since = query.get("since")
    try:
        moment = dt.datetime.fromisoformat(since) if since else None
        if moment is not None:  # in UTC now: year 1 at +01:00 is a moment no database holds
            moment = moment.astimezone(dt.timezone.utc) if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError):
        raise InputError({"since": ["Use a date such as 2026-11-01 or 2026-11-01T12:00."]}) from None
    return records.Filters(
        all_tasks=query.get("download_all_tasks", "").lower() in TRUE,
        ids=ints(query.getall("ids", []) + query.getall("ids[]", []), "ids"),
        annotators=ints(query.getall("annotators", []), "annotators"),
        since=moment,
        only_ground_truth=query.get("only_ground_truth", "").lower() in TRUE,
        only_reviewed=query.get("only_reviewed", "").lower() in TRUE,
        only_accepted=query.get("only_accepted", "").lower() in TRUE,
    )


async def exportable(request: Request, project_id: int) -> Project:
    project = await project_or_404(user_of(request), project_id)
    if await projects.member_role(user_of(request), project.id) not in ("admin", "reviewer"):
        raise PermissionDeniedException("Only reviewers and admins export a project")
    return project


class Counted:
    """Opens the records (a format may read them twice) and counts what the last reading gave."""

    def __init__(self, project_id: int, filters: records.Filters) -> None:
        self.project_id, self.filters, self.count = project_id, filters, 0

    def open(self) -> AsyncIterator[dict[str, Any]]:
        self.count = 0
        return self._read()

    async def _read(self) -> AsyncIterator[dict[str, Any]]:
        async for record in records.tasks(self.project_id, self.filters):
            self.count += 1
            yield record


async def export_stream(project: Project, name: str, filters: records.Filters) -> tuple[AsyncIterator[Any], int, Counted]:
    config = parse_config(project.label_config)
    fmt = FORMATS.get(name)
    if fmt is None or fmt not in available(config):
        allowed = ", ".join(f.name for f in available(config))
        raise InputError({"exportType": [f"{name!r} is not available for this project; use one of: {allowed}."]})
    expected = await records.expected_count(project.id, filters)  # for the header; may move while we write
    counted = Counted(project.id, filters)
    extra = {"data_keys": await records.data_keys(project.id)} if fmt.wants_data_keys else {}

    async def body() -> AsyncIterator[Any]:
        # one snapshot for the count and the records: annotating during an export changes neither
        async with read_snapshot():
            promised = await records.expected_count(project.id, filters)
            async for chunk in fmt.writer(counted.open, config, **extra):
                yield chunk
        if counted.count != promised:
            log.error("export of project %s wrote %s of %s records", project.id, counted.count, promised)
            raise ExportIncomplete(f"wrote {counted.count} of {promised} records")

    return body(), expected, counted


@get(both("/api/projects/{project_id:int}/export"))
async def project_export(request: Request, project_id: int) -> Stream:
    project = await exportable(request, project_id)
    name = request.query_params.get("exportType", request.query_params.get("export_type", "JSON")).upper()
    body, expected, _ = await export_stream(project, name, filters_from(request.query_params))
    fmt = FORMATS[name]
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S")
    return Stream(body, media_type=fmt.media_type, headers={
        "Content-Disposition": f'attachment; filename="project-{project.id}-at-{stamp}.{fmt.extension}"',
        "X-Labelwell-Records": str(expected)})


@get(both("/api/projects/{project_id:int}/export/formats"))
async def export_formats(request: Request, project_id: int) -> list[dict[str, Any]]:
    project = await exportable(request, project_id)
    allowed = available(parse_config(project.label_config))
    return [{"name": f.name, "title": f.title, "disabled": f not in allowed} for f in FORMATS.values()]


@post(both("/api/projects/{project_id:int}/exports"), status_code=202, opt={"audit": None})
async def export_job_create(request: Request, project_id: int) -> dict[str, Any]:
    """A big export as a background job: answers at once; the file is downloaded when the job is done."""
    project = await exportable(request, project_id)
    return jobs.job_json(await queue_export(request, project, request.query_params))


async def queue_export(request: Request, project: Project, params: Any) -> Job:
    name = params.get("exportType", "JSON").upper()
    filters = filters_from(params)
    if FORMATS.get(name) not in available(parse_config(project.label_config)):
        await export_stream(project, name, filters)  # raises, saying which formats the config allows
    return await jobs.enqueue("export", project_id=project.id, user_id=user_of(request).id,
                              params={"format": name, "filters": filters_to_params(filters)})


@post("/projects/{project_id:int}/exports", opt={"audit": None})
async def export_job_page(request: Request, project_id: int) -> Template | Redirect:
    project = await exportable(request, project_id)
    job = await queue_export(request, project, await request.form())
    if not request.htmx:
        return Redirect(f"/projects/{project.id}?job={job.id}#export")
    return Template("jobs/_job.html", context={"job": job, "project": project})


@get(both("/api/projects/{project_id:int}/exports/{job_id:int}/download"))
async def export_job_download(request: Request, project_id: int, job_id: int) -> File:
    project = await exportable(request, project_id)
    job = await Job.objects().where(Job.id == job_id, Job.project == project.id, Job.kind == "export").output(
        load_json=True).first()
    if job is None or job.state != "done" or not export_path(job).is_file():
        raise NotFoundException("No finished export with that id")
    fmt = FORMATS[job.params["format"]]
    return File(path=export_path(job), media_type=fmt.media_type, filename=export_path(job).name)


ROUTES = [project_export, export_formats, export_job_create, export_job_download, export_job_page]
