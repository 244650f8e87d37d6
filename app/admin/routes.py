"""The settings area's people pages: the user list, one user's page (role, password, sessions,
API token, projects), adding users by invitation or with a password."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit, security
from app.accounts import invites, service as accounts, sessions
from app.auth import require_admin, user_of
from app.errors import InputError
from app.pagination import page_params
from app.projects import service as projects
from app.tables import PROJECT_ROLES, ROLES, Project, ProjectMember, User

PAGE_SIZE = 50
ADMIN = {"guards": [require_admin]}


async def user_or_404(user_id: int) -> User:
    user = await accounts.get_user(user_id)
    if user is None:
        raise NotFoundException(f"No user with id {user_id}")
    return user


def link(request: Request, token: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/invite/{token}"


async def users_page(request: Request, errors: dict | None = None, values: dict | None = None) -> Template:
    search = request.query_params.get("q", "")
    page, size = page_params(request, PAGE_SIZE)
    users = await accounts.list_users(search, offset=(page - 1) * size, limit=size)
    count = await accounts.count_users(search)
    context = {"section": "users", "users": users, "activity": await accounts.activity([u.id for u in users]),
               "roles": ROLES, "errors": errors or {}, "values": values or {}, "search": search, "page": page,
               "pages": max(1, -(-count // size)), "count": count}
    return Template("admin/settings.html", context=context, status_code=400 if errors else 200)


@get("/settings", **ADMIN)
async def settings_view(request: Request) -> Template:
    return await users_page(request)


@post("/settings/users", **ADMIN, opt={"audit": "user.create"})
async def settings_user_create(request: Request) -> Template | Redirect:
    """With a password: the account is ready. Without: an invitation link to pass on, valid 7 days."""
    form = await request.form()
    values = {key: form.get(key, "") for key in ("email", "first_name", "last_name", "password", "role")}
    inviting = not values["password"]
    try:
        if inviting:  # a password nobody knows until the link sets one
            values["password"] = security.new_password() + security.new_password()
        user = await accounts.create_user(values)
    except InputError as exc:
        values.pop("password")
        return await users_page(request, exc.errors, values)
    audit.note(request, f"Added {user.email} as {user.role}" + (" by invitation" if inviting else ""), user=user.id)
    if inviting:
        token = await invites.issue(user, user_of(request), "invite")
        flash(request, f"Invitation for {user.email} (valid 7 days, works once): {link(request, token)}",
              category="success")
    else:
        flash(request, f"User {user.email} created.", category="success")
    return Redirect(f"/settings/users/{user.id}")


@get("/settings/users/{user_id:int}", **ADMIN)
async def settings_user_detail(request: Request, user_id: int) -> Template:
    user = await user_or_404(user_id)
    memberships = await ProjectMember.select(
        ProjectMember.project.id.as_alias("id"), ProjectMember.project.title.as_alias("title"), ProjectMember.role,
    ).where(ProjectMember.user == user.id).order_by(ProjectMember.project.title)
    member_of = {m["id"] for m in memberships}
    others = [p for p in await Project.select(Project.id, Project.title).order_by(Project.title) if p["id"] not in member_of]
    context = {
        "section": "users", "person": user, "roles": ROLES, "project_roles": PROJECT_ROLES,
        "activity": (await accounts.activity([user.id]))[user.id], "token": await accounts.token_info(user.id),
        "sessions": await sessions.of_user(user.id), "invites": await invites.pending(user.id),
        "memberships": memberships, "other_projects": others, "is_self": user.id == user_of(request).id,
    }
    return Template("admin/user.html", context=context)


@post("/settings/users/{user_id:int}", **ADMIN, opt={"audit": "user.update"})
async def settings_user_update(request: Request, user_id: int) -> Redirect:
    user = await user_or_404(user_id)
    form = await request.form()
    before = accounts.snapshot(user)
    changes: dict[str, Any] = {"role": form.get("role", user.role), "is_active": "is_active" in form}
    for key in ("first_name", "last_name"):
        if key in form:
            changes[key] = form[key]
    if user.id == user_of(request).id and changes["is_active"] is False:
        audit.refused(request, "You cannot deactivate yourself.")
        return Redirect(safe_back(request, f"/settings/users/{user.id}"))
    try:
        await accounts.update_user(user, changes)
    except InputError as exc:
        audit.refused(request, str(exc))
    else:
        audit.note_changes(request, user.email, before, accounts.snapshot(user))
        flash(request, f"{user.email} updated.", category="success")
    return Redirect(safe_back(request, f"/settings/users/{user.id}"))


def safe_back(request: Request, fallback: str) -> str:
    """Back to the settings page the form was on (the list or the user's page), never elsewhere."""
    target = request.headers.get("referer", "")
    path = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else ""
    return path if path.startswith("/settings") and not path.startswith("//") else fallback


@post("/settings/users/{user_id:int}/password", **ADMIN, opt={"audit": "user.password_reset"})
async def settings_user_password(request: Request, user_id: int) -> Redirect:
    """A new password typed by the admin, or (left empty) a one-time reset link. Either way the
    user's sessions end when the password changes."""
    user = await user_or_404(user_id)
    form = await request.form()
    password = form.get("password", "")
    if password:
        try:
            await accounts.update_user(user, {"password": password})
        except InputError as exc:
            audit.refused(request, str(exc))
            return Redirect(f"/settings/users/{user.id}")
        audit.note(request, f"Set a new password for {user.email}")
        flash(request, f"Password of {user.email} changed; their sessions were ended.", category="success")
    else:
        token = await invites.issue(user, user_of(request), "reset")
        audit.note(request, f"Issued a password reset link for {user.email}")
        flash(request, f"Reset link for {user.email} (valid 24 hours, works once): {link(request, token)}",
              category="success")
    return Redirect(f"/settings/users/{user.id}")


@post("/settings/users/{user_id:int}/sessions/end", **ADMIN, opt={"audit": "user.sign_out"})
async def settings_user_sign_out(request: Request, user_id: int) -> Redirect:
    user = await user_or_404(user_id)
    ended = await sessions.end_all(user.id)
    count = f"{ended} session{'s' if ended != 1 else ''}"
    audit.note(request, f"Signed {user.email} out everywhere ({count})")
    flash(request, f"{user.email} was signed out everywhere ({count} ended).", category="success")
    return Redirect(f"/settings/users/{user.id}")


@post("/settings/users/{user_id:int}/token/{what:str}", **ADMIN, opt={"audit": "token.change"})
async def settings_user_token(request: Request, user_id: int, what: str) -> Redirect:
    user = await user_or_404(user_id)
    if what == "revoke":
        await accounts.revoke_token(user)
        audit.note(request, f"Revoked the API token of {user.email}")
        flash(request, f"The API token of {user.email} no longer works.", category="success")
    elif what == "regenerate":
        key = await accounts.reset_token(user)
        audit.note(request, f"Regenerated the API token of {user.email}")
        flash(request, f"New API token for {user.email} (the old one no longer works): {key}", category="success")
    else:
        raise NotFoundException(f"No token action {what!r}: use revoke or regenerate")
    return Redirect(f"/settings/users/{user.id}#token")


@post("/settings/memberships", **ADMIN, opt={"audit": "member.set"})
async def settings_membership(request: Request) -> Redirect:
    """Add a user to a project, change their role in it, or (role "none") take them out."""
    form = await request.form()
    user = await accounts.get_user(number(form.get("user", "")))
    project = await Project.select(Project.id, Project.title).where(Project.id == number(form.get("project", ""))).first()
    back = safe_back(request, f"/settings/users/{user.id}" if user else "/settings/projects")
    if user is None or project is None:
        audit.refused(request, "Choose a user and a project that exist.")
        return Redirect(back)
    role = form.get("role", "")
    if role == "none":
        await projects.remove_member(project["id"], user.id)
        audit.note(request, f"Took {user.email} out of “{project['title']}”", project=project["id"], user=user.id)
        flash(request, f"{user.email} is no longer in “{project['title']}”.", category="success")
        return Redirect(back)
    try:
        await projects.set_member(project["id"], user.id, role)
    except InputError as exc:
        audit.refused(request, str(exc))
        return Redirect(back)
    audit.note(request, f"Made {user.email} {role} of “{project['title']}”", project=project["id"], user=user.id)
    flash(request, f"{user.email} is now {role} in “{project['title']}”.", category="success")
    return Redirect(back)


def number(raw: str) -> int:
    return int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else -1  # ASCII digits only: "³".isdigit()


ROUTES = [settings_view, settings_user_create, settings_user_detail, settings_user_update, settings_user_password,
          settings_user_sign_out, settings_user_token, settings_membership]
