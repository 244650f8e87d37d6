"""Label Studio's project API: /api/projects[/{id}] with or without the trailing slash, and members."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, delete, get, patch, post
from litestar.exceptions import NotFoundException

from app import audit, jobs
from app.accounts.api import iso
from app.auth import require_admin, user_of
from app.pagination import page_params, paginated
from app.projects import service
from app.tables import Job

if TYPE_CHECKING:
    from app.tables import Project, User

READ_ONLY = ("task_number", "finished_task_number", "total_annotations_number", "skipped_annotations_number",
             "total_predictions_number")


def project_json(project: Project) -> dict[str, Any]:
    out = {"id": project.id, "title": project.title}
    out.update({key: getattr(project, key) for key in service.EDITABLE if key != "title"})
    out.update({key: getattr(project, key) for key in READ_ONLY})
    out.update(
        created_by={"id": project.created_by} if project.created_by else None,
        created_at=iso(project.created_at),
        updated_at=iso(project.updated_at),
        num_tasks_with_annotations=project.finished_task_number,
        is_published=True,
        is_draft=False,
    )
    return out


async def project_or_404(user: User, project_id: int) -> Project:
    project = await service.get_project(user, project_id)
    if project is None:
        raise NotFoundException(f"No project with id {project_id}")
    return project


def both(path: str) -> list[str]:
    return [path, path + "/"]


@get(both("/api/projects"))
async def project_list(request: Request) -> dict[str, Any]:
    page, size = page_params(request)
    projects, count = await service.list_projects(user_of(request), page, size)
    return paginated(request, [project_json(p) for p in projects], count, page, size)


@post(both("/api/projects"), guards=[require_admin], opt={"audit": "project.create"})
async def project_create(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    return project_json(await service.create_project(user_of(request), data))


@get(both("/api/projects/{project_id:int}"))
async def project_detail(request: Request, project_id: int) -> dict[str, Any]:
    return project_json(await project_or_404(user_of(request), project_id))


@patch(both("/api/projects/{project_id:int}"), guards=[require_admin], opt={"audit": "project.update"})
async def project_update(request: Request, project_id: int, data: dict[str, Any]) -> dict[str, Any]:
    project = await project_or_404(user_of(request), project_id)
    return project_json(await service.update_project(project, data))


@delete(both("/api/projects/{project_id:int}"), guards=[require_admin], opt={"audit": "project.delete"})
async def project_delete(request: Request, project_id: int) -> None:
    project = await project_or_404(user_of(request), project_id)
    await service.delete_project(project)
    audit.note(request, f"Deleted project “{project.title}” with {project.task_number} tasks", title=project.title)


@get(both("/api/projects/{project_id:int}/members"), guards=[require_admin])
async def member_list(request: Request, project_id: int) -> list[dict[str, Any]]:
    await project_or_404(user_of(request), project_id)
    return await service.list_members(project_id)


@post(both("/api/projects/{project_id:int}/members"), guards=[require_admin], opt={"audit": "member.set"})
async def member_set(request: Request, project_id: int, data: dict[str, Any]) -> list[dict[str, Any]]:
    await project_or_404(user_of(request), project_id)
    await service.set_member(project_id, data.get("user"), data.get("role", "annotator"))
    return await service.list_members(project_id)


@delete(both("/api/projects/{project_id:int}/members/{user_id:int}"), guards=[require_admin], opt={"audit": "member.remove"})
async def member_remove(request: Request, project_id: int, user_id: int) -> None:
    await project_or_404(user_of(request), project_id)
    if not await service.remove_member(project_id, user_id):
        raise NotFoundException(f"User {user_id} is not a member of project {project_id}")
    audit.note(request, f"Took user {user_id} out of project {project_id}")


ROUTES = [project_list, project_create, project_detail, project_update, project_delete,
          member_list, member_set, member_remove]


@post(both("/api/projects/{project_id:int}/recount"), guards=[require_admin], status_code=202, opt={"audit": "project.recount"})
async def project_recount(request: Request, project_id: int) -> dict[str, Any]:
    """Queue a job that recomputes the project's counters from its rows."""
    await project_or_404(user_of(request), project_id)
    job = await jobs.enqueue("recount", project_id=project_id, user_id=user_of(request).id)
    return jobs.job_json(job)


@get(both("/api/jobs/{job_id:int}"))
async def job_detail(request: Request, job_id: int) -> dict[str, Any]:
    job = await Job.objects().where(Job.id == job_id).output(load_json=True).first()
    if job is None or (job.project and await service.get_project(user_of(request), job.project) is None):
        raise NotFoundException(f"No job with id {job_id}")
    if job.kind.startswith("ml_") and user_of(request).role != "admin":
        # ML jobs carry the backend's own answers, which belong with its (admin-only) settings
        raise NotFoundException(f"No job with id {job_id}")
    return jobs.job_json(job)


@get(both("/api/projects/{project_id:int}/jobs"), guards=[require_admin])
async def project_jobs(request: Request, project_id: int) -> list[dict[str, Any]]:
    """The project's 50 newest background jobs (imports, exports, predictions, webhooks), newest first."""
    project = await project_or_404(user_of(request), project_id)
    query = Job.objects().where(Job.project == project.id)
    if request.query_params.get("kind"):
        query = query.where(Job.kind == request.query_params["kind"])
    return [jobs.job_json(j) for j in await query.order_by(Job.id, ascending=False).limit(50).output(load_json=True)]


ROUTES += [project_recount, job_detail, project_jobs]
