"""Label Studio's project API: /api/projects[/{id}] with or without the trailing slash, members,
jobs, and config validation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post
from litestar.exceptions import NotFoundException

from app import audit, idempotency, jobs
from app.auth import require_admin, user_of
from app.pagination import page_params, paginated
from app.projects import config_check, service
from app.projects.schemas import project_json, user_simple
from app.web import both

if TYPE_CHECKING:
    from app.tables import Job, Project

ADMIN = {"guards": [require_admin]}


@get(both("/api/projects"))
async def project_list(request: Request) -> dict[str, Any]:
    page, size = page_params(request)
    projects, count = await service.list_projects(user_of(request), page, size)
    return paginated(request, [project_json(p) for p in projects], count, page, size)


@get(both("/api/projects/counts"))
async def project_counts(request: Request) -> dict[str, Any]:
    page, size = page_params(request)
    counts, total = await service.counts_page(user_of(request), page, size)
    return paginated(request, counts, total, page, size)


@get(both("/api/projects/{project_id:int}/annotators"), **ADMIN)
async def project_annotators(project: Project) -> list[dict[str, Any]]:
    return [user_simple(u) for u in await service.annotators(project)]


@post(both("/api/projects"), **ADMIN, opt={"audit": "project.create"})
async def project_create(request: Request, data: dict[str, Any]) -> Response:
    return await idempotency.once(request, lambda: service.create_project(user_of(request), data), project_json)


@get(both("/api/projects/{project_id:int}"))
async def project_detail(project: Project) -> dict[str, Any]:
    return project_json(project)


@patch(both("/api/projects/{project_id:int}"), **ADMIN, opt={"audit": "project.update"})
async def project_update(project: Project, data: dict[str, Any]) -> dict[str, Any]:
    return project_json(await service.update_project(project, data))


@delete(both("/api/projects/{project_id:int}"), **ADMIN, opt={"audit": "project.delete"})
async def project_delete(request: Request, project: Project) -> None:
    await service.delete_project(project)
    audit.note(request, f"Deleted project “{project.title}” with {project.task_number} tasks", title=project.title)


@get(both("/api/projects/{project_id:int}/members"), **ADMIN)
async def member_list(project: Project) -> list[dict[str, Any]]:
    return await service.list_members(project.id)


@post(both("/api/projects/{project_id:int}/members"), **ADMIN, opt={"audit": "member.set"})
async def member_set(project: Project, data: dict[str, Any]) -> list[dict[str, Any]]:
    await service.set_member(project.id, data.get("user"), data.get("role", "annotator"))
    return await service.list_members(project.id)


@delete(both("/api/projects/{project_id:int}/members/{user_id:int}"), **ADMIN, opt={"audit": "member.remove"})
async def member_remove(request: Request, project: Project, user_id: int) -> None:
    if not await service.remove_member(project.id, user_id):
        raise NotFoundException(f"User {user_id} is not a member of project {project.id}")
    audit.note(request, f"Took user {user_id} out of project {project.id}")


ROUTES = [project_counts, project_annotators, project_list, project_create, project_detail, project_update, project_delete,
          member_list, member_set, member_remove]


@post(both("/api/projects/{project_id:int}/recount"), **ADMIN, status_code=202, opt={"audit": "project.recount"})
async def project_recount(request: Request, project: Project) -> dict[str, Any]:
    """Queue a job that recomputes the project's counters from its rows."""
    return jobs.job_json(await jobs.enqueue("recount", project_id=project.id, user_id=user_of(request).id))


@get(both("/api/jobs/{job_id:int}"))
async def job_detail(job: Job) -> dict[str, Any]:
    return jobs.job_json(job)


@get(both("/api/projects/{project_id:int}/jobs"), **ADMIN)
async def project_jobs(request: Request, project: Project) -> list[dict[str, Any]]:
    """The project's 50 newest background jobs (imports, exports, predictions, webhooks), newest first."""
    return [jobs.job_json(j) for j in await jobs.recent(project.id, request.query_params.get("kind", ""))]


@post(both("/api/projects/validate"), **ADMIN, status_code=200, opt={"audit": None})
async def config_validate(data: dict[str, Any]) -> Response:
    body, status = await config_check.validation(str(data.get("label_config") or ""), None)
    return Response(body, status_code=status)


@post(both("/api/projects/{project_id:int}/validate"), **ADMIN, status_code=200, opt={"audit": None})
async def project_config_validate(project: Project, data: dict[str, Any]) -> Response:
    body, status = await config_check.validation(str(data.get("label_config") or ""), project)
    return Response(body, status_code=status)


ROUTES += [project_recount, job_detail, project_jobs, config_validate, project_config_validate]
