"""The settings area's project page: who annotates and who reviews each project."""

from __future__ import annotations

from collections import defaultdict

from litestar import Request, get
from litestar.response import Template

from app.auth import require_admin
from app.tables import PROJECT_ROLES, Project, ProjectMember, User


@get("/settings/projects", guards=[require_admin])
async def settings_projects(request: Request) -> Template:
    projects = await Project.select(Project.id, Project.title, Project.task_number,
                                    Project.maximum_annotations).order_by(Project.title)
    rows = await ProjectMember.select(
        ProjectMember.project, ProjectMember.role, ProjectMember.user.id.as_alias("user"),
        ProjectMember.user.email.as_alias("email"), ProjectMember.user.is_active.as_alias("is_active"),
    ).order_by(ProjectMember.user.email)
    members: dict[int, dict[str, list[dict]]] = defaultdict(lambda: {role: [] for role in PROJECT_ROLES})
    for row in rows:
        members[row["project"]][row["role"]].append(row)
    users = await User.select(User.id, User.email).where(User.is_active.eq(True), User.role != "admin").order_by(User.email)
    context = {"section": "projects", "projects": projects, "members": members, "users": users,
               "project_roles": PROJECT_ROLES}
    return Template("admin/projects.html", context=context)


ROUTES = [settings_projects]
