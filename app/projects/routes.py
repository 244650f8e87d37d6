"""Project pages: list, create, view, edit, delete (with confirmation), members."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit, instance
from app.accounts import service as accounts
from app.auth import require_admin, user_of
from app.errors import InputError
from app.pagination import page_params
from app.projects import service
from app.projects.api import project_or_404
from app.data_export.formats import available
from app.tables import Job
from components import ConfigError, parse_config
from components.starters import starter, starters

if TYPE_CHECKING:
    from litestar.datastructures import FormMultiDict

FORM_FIELDS = ("title", "description", "expert_instruction", "label_config", "maximum_annotations",
               "sampling", "show_skip_button", "show_instruction")


def form_data(form: FormMultiDict) -> dict[str, Any]:
    """A project form as API-shaped data: ticked boxes are true, numbers are ints."""
    data: dict[str, Any] = {key: form.get(key, "") for key in FORM_FIELDS}
    for key in service.BOOL_FIELDS:
        if key in FORM_FIELDS:
            data[key] = key in form
    value = str(data["maximum_annotations"]).strip()
    data["maximum_annotations"] = int(value) if re.fullmatch(r"[0-9]{1,6}", value) else value
    return data


def form_page(project: Any, values: dict[str, Any], errors: dict[str, list[str]] | None = None) -> Template:
    context = {"project": project, "values": values, "errors": errors or {}, "sampling": service.SAMPLING,
               "starters": starters()}
    return Template("projects/form.html", context=context, status_code=400 if errors else 200)


@get("/")
async def home() -> Redirect:
    return Redirect("/projects")


@get("/projects")
async def project_list(request: Request) -> Template:
    page, size = page_params(request, default_size=24)
    projects, count = await service.list_projects(user_of(request), page, size)
    context = {"projects": projects, "count": count, "page": page, "pages": max(1, -(-count // size))}
    return Template("projects/list.html", context=context)


@get("/projects/new", guards=[require_admin])
async def project_new(request: Request) -> Template:
    chosen = starter(request.query_params.get("starter", ""))
    return form_page(None, {"title": chosen.title if chosen else "",
                            "label_config": chosen.xml if chosen else "<View>\n</View>",
                            "maximum_annotations": instance.current().default_overlap,
                            "sampling": "Sequential sampling", "show_skip_button": True})


@post("/projects/new", guards=[require_admin], opt={"audit": "project.create"})
async def project_create(request: Request) -> Template | Redirect:
    data = form_data(await request.form())
    try:
        project = await service.create_project(user_of(request), data)
    except InputError as exc:
        return form_page(None, data, exc.errors)
    flash(request, f"Project “{project.title}” created.", category="success")
    return Redirect(f"/projects/{project.id}")


@get("/projects/{project_id:int}")
async def project_detail(request: Request, project_id: int) -> Template:
    project = await project_or_404(user_of(request), project_id)
    try:
        config = parse_config(project.label_config)
    except ConfigError as exc:  # saved before a stricter check: say so instead of failing the page
        preview, keys, config_error = None, [], str(exc)
    else:
        preview, keys, config_error = config.render(config.sample_task()["data"], readonly=True), config.data_keys(), None
    context: dict[str, Any] = {"project": project, "members": [], "users": [], "preview": preview,
                               "data_keys": keys, "config_error": config_error, "job": None,
                               "formats": available(config) if config_error is None else []}
    job_id = request.query_params.get("job", "")
    if re.fullmatch(r"[0-9]{1,9}", job_id):
        context["job"] = await Job.objects().where(Job.id == int(job_id), Job.project == project_id).output(
            load_json=True).first()
    if user_of(request).role == "admin":
        context.update(members=await service.list_members(project_id), users=await accounts.list_users())
    # review is a project role: a member reviewer sees the links, whatever their global role
    context["reviews"] = await service.member_role(user_of(request), project_id) in ("admin", "reviewer")
    return Template("projects/detail.html", context=context)


@get("/projects/{project_id:int}/edit", guards=[require_admin])
async def project_edit(request: Request, project_id: int) -> Template:
    project = await project_or_404(user_of(request), project_id)
    return form_page(project, {key: getattr(project, key) for key in FORM_FIELDS})


@post("/projects/{project_id:int}/edit", guards=[require_admin], opt={"audit": "project.update"})
async def project_update(request: Request, project_id: int) -> Template | Redirect:
    project = await project_or_404(user_of(request), project_id)
    data = form_data(await request.form())
    try:
        await service.update_project(project, data)
    except InputError as exc:
        return form_page(project, data, exc.errors)
    flash(request, "Project saved.", category="success")
    return Redirect(f"/projects/{project_id}")


@get("/projects/{project_id:int}/delete", guards=[require_admin])
async def project_delete_confirm(request: Request, project_id: int) -> Template:
    project = await project_or_404(user_of(request), project_id)
    return Template("projects/delete.html", context={"project": project})


@post("/projects/{project_id:int}/delete", guards=[require_admin], opt={"audit": "project.delete"})
async def project_delete(request: Request, project_id: int) -> Template | Redirect:
    project = await project_or_404(user_of(request), project_id)
    form = await request.form()
    if form.get("confirm_title", "").strip() != project.title:
        context = {"project": project, "error": "Type the project's title exactly to confirm."}
        return Template("projects/delete.html", context=context, status_code=400)
    await service.delete_project(project)
    audit.note(request, f"Deleted project “{project.title}” with {project.task_number} tasks", title=project.title)
    flash(request, f"Project “{project.title}” and all its tasks were deleted.", category="success")
    return Redirect("/projects")


@post("/projects/{project_id:int}/members", guards=[require_admin], opt={"audit": "member.set"})
async def member_set(request: Request, project_id: int) -> Redirect:
    await project_or_404(user_of(request), project_id)
    form = await request.form()
    user_id = form.get("user", "")
    try:
        await service.set_member(project_id, int(user_id) if re.fullmatch(r"[0-9]{1,9}", user_id) else user_id,
                                 form.get("role"))
    except InputError as exc:
        audit.refused(request, str(exc))
    return Redirect(f"/projects/{project_id}#members")


@post("/projects/{project_id:int}/members/{user_id:int}/remove", guards=[require_admin], opt={"audit": "member.remove"})
async def member_remove(request: Request, project_id: int, user_id: int) -> Redirect:
    await project_or_404(user_of(request), project_id)
    if not await service.remove_member(project_id, user_id):
        raise NotFoundException("Not a member")
    return Redirect(f"/projects/{project_id}#members")


ROUTES = [home, project_list, project_new, project_create, project_detail, project_edit, project_update,
          project_delete_confirm, project_delete, member_set, member_remove]
