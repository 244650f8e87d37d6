"""Who annotates and who reviews each project, as the settings area shows and changes it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from app.accounts import service as accounts
from app.projects import service as projects
from app.tables import PROJECT_ROLES, Project, ProjectMember, User

__all__ = ["PROJECT_ROLES", "overview", "of_user", "pair", "set_role"]


async def overview() -> dict[str, Any]:
    """The projects page: every project, its members by role, and the users who could join."""
    rows = await ProjectMember.select(
        ProjectMember.project, ProjectMember.role, ProjectMember.user.id.as_alias("user"),
        ProjectMember.user.email.as_alias("email"), ProjectMember.user.is_active.as_alias("is_active"),
    ).order_by(ProjectMember.user.email)
    members: dict[int, dict[str, list[dict]]] = defaultdict(lambda: {role: [] for role in PROJECT_ROLES})
    for row in rows:
        members[row["project"]][row["role"]].append(row)
    return {
        "projects": await Project.select(Project.id, Project.title, Project.task_number,
                                         Project.maximum_annotations).order_by(Project.title),
        "members": members,
        "users": await User.select(User.id, User.email).where(User.is_active.eq(True), User.role != "admin")
        .order_by(User.email),
        "project_roles": PROJECT_ROLES,
    }


async def of_user(user_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The projects a user is in (with the role), and the others, each by title."""
    memberships = await ProjectMember.select(
        ProjectMember.project.id.as_alias("id"), ProjectMember.project.title.as_alias("title"), ProjectMember.role,
    ).where(ProjectMember.user == user_id).order_by(ProjectMember.project.title)
    member_of = {m["id"] for m in memberships}
    projects_by_title = await Project.select(Project.id, Project.title).order_by(Project.title)
    return memberships, [p for p in projects_by_title if p["id"] not in member_of]


async def pair(user_id: int | None, project_id: int | None) -> tuple[User | None, dict[str, Any] | None]:
    """The user and the project (id and title) a membership form names, each None if there is none."""
    user = await accounts.get_user(user_id) if user_id is not None else None
    project = None if project_id is None else await Project.select(Project.id, Project.title).where(
        Project.id == project_id).first()
    return user, project


async def set_role(user: User, project: dict[str, Any], role: str) -> tuple[str, str]:
    """Add the user to the project, change their role in it, or (role "none") take them out.
    Returns the audit log's summary and the admin's message; a bad role raises InputError."""
    where = f"“{project['title']}”"
    if role == "none":
        await projects.remove_member(project["id"], user.id)
        return f"Took {user.email} out of {where}", f"{user.email} is no longer in {where}."
    await projects.set_member(project["id"], user.id, role)
    return f"Made {user.email} {role} of {where}", f"{user.email} is now {role} in {where}."
