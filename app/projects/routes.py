"""Project pages: list, create, view, edit, delete (with confirmation), members, and the config
editor's live preview."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import access, audit, instance, web
from app.auth import require_admin, user_of
from app.errors import InputError
from app.pagination import page_params
from app.projects import config_check, overview, service
from components import reference
from components.starters import gallery, starter

if TYPE_CHECKING:
    from litestar.datastructures import FormMultiDict

    from app.tables import Project

FORM_FIELDS = ("title", "description", "expert_instruction", "label_config", "maximum_annotations",
               "sampling", "show_skip_button", "show_instruction")
ADMIN = {"guards": [require_admin]}
# the editor's tag reference panel (components/reference.py, the source of docs/tags.md too)
REFERENCE = {"reference": reference.by_section(), "paragraphs": reference.paragraphs, "inline": reference.inline,
             "result_json": reference.result_json}


def form_data(form: FormMultiDict) -> dict[str, Any]:
    """A project form as API-shaped data: ticked boxes are true, numbers are ints."""
    data: dict[str, Any] = {key: form.get(key, "") for key in FORM_FIELDS}
    for key in service.BOOL_FIELDS:
        if key in FORM_FIELDS:
            data[key] = key in form
    value = str(data["maximum_annotations"]).strip()
    # not a small whole number: passed on as typed, and the service names the field
    data["maximum_annotations"] = web.small_int(value, 6) if web.small_int(value, 6) is not None else value
    return data


def form_page(project: Any, values: dict[str, Any], errors: dict[str, list[str]] | None = None) -> Template:
    context = {"project": project, "values": values, "errors": errors or {}, "sampling": service.SAMPLING,
               "gallery": gallery(), **REFERENCE}
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


@get("/projects/new", **ADMIN)
async def project_new(request: Request) -> Template:
    chosen = starter(request.query_params.get("starter", ""))
    return form_page(None, {"title": chosen.title if chosen else "", "starter": chosen.slug if chosen else "",
                            "label_config": chosen.xml if chosen else "<View>\n</View>",
                            "maximum_annotations": instance.current().default_overlap,
                            "sampling": "Sequential sampling", "show_skip_button": True})


@post("/projects/new", **ADMIN, opt={"audit": "project.create"})
async def project_create(request: Request) -> Template | Redirect:
    data = form_data(await request.form())
    try:
        project = await service.create_project(user_of(request), data)
    except InputError as exc:
        return form_page(None, data, exc.errors)
    flash(request, f"Project “{project.title}” created.", category="success")
    return Redirect(f"/projects/{project.id}")


@get("/projects/{project_id:int}")
async def project_detail(request: Request, project: Project) -> Template:
    job_id = web.id_or_none(request.query_params.get("job", ""))
    return Template("projects/detail.html", context=await overview.page(user_of(request), project, job_id))


@get("/projects/{project_id:int}/edit", **ADMIN)
async def project_edit(project: Project) -> Template:
    return form_page(project, {key: getattr(project, key) for key in FORM_FIELDS})


@post("/projects/{project_id:int}/edit", **ADMIN, opt={"audit": "project.update"})
async def project_update(request: Request, project: Project) -> Template | Redirect:
    data = form_data(await request.form())
    try:
        await service.update_project(project, data)
    except InputError as exc:
        return form_page(project, data, exc.errors)
    flash(request, "Project saved.", category="success")
    return Redirect(f"/projects/{project.id}")


@get("/projects/{project_id:int}/delete", **ADMIN)
async def project_delete_confirm(project: Project) -> Template:
    return Template("projects/delete.html", context={"project": project})


@post("/projects/{project_id:int}/delete", **ADMIN, opt={"audit": "project.delete"})
async def project_delete(request: Request, project: Project) -> Template | Redirect:
    form = await request.form()
    if form.get("confirm_title", "").strip() != project.title:
        context = {"project": project, "error": "Type the project's title exactly to confirm."}
        return Template("projects/delete.html", context=context, status_code=400)
    await service.delete_project(project)
    audit.note(request, f"Deleted project “{project.title}” with {project.task_number} tasks", title=project.title)
    flash(request, f"Project “{project.title}” and all its tasks were deleted.", category="success")
    return Redirect("/projects")


@post("/projects/{project_id:int}/members", **ADMIN, opt={"audit": "member.set"})
async def member_set(request: Request, project: Project) -> Redirect:
    form = await request.form()
    user_id = form.get("user", "")
    try:
        await service.set_member(project.id, web.id_or_none(user_id) or user_id, form.get("role"))
    except InputError as exc:
        audit.refused(request, str(exc))
    return Redirect(f"/projects/{project.id}#members")


@post("/projects/{project_id:int}/members/{user_id:int}/remove", **ADMIN, opt={"audit": "member.remove"})
async def member_remove(project: Project, user_id: int) -> Redirect:
    if not await service.remove_member(project.id, user_id):
        raise NotFoundException("Not a member")
    return Redirect(f"/projects/{project.id}#members")


@post("/projects/config/preview", **ADMIN, opt={"audit": None})
async def config_preview(request: Request) -> Template:
    """The editor posts the config as it is typed (debounced); the answer is the errors or a preview."""
    form = await request.form()
    project_id = web.id_or_none(form.get("project_id", ""))
    project = await access.visible_project(user_of(request), project_id) if project_id else None
    context = await config_check.preview(form.get("label_config", ""), project)
    return Template("projects/_config_preview.html", context={**context, "referenced": reference.tags()})


ROUTES = [home, project_list, project_new, project_create, project_detail, project_edit, project_update,
          project_delete_confirm, project_delete, member_set, member_remove, config_preview]
