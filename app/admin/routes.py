"""The settings area's pages: people (the user list, one user's page with role, password, sessions,
API token and projects; adding users by invitation or with a password), project members,
instance settings, and the audit log with its CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Stream, Template

from app import audit, instance
from app.accounts import invites, service as accounts, sessions
from app.admin import installation, memberships
from app.auth import require_admin, user_of
from app.clock import now
from app.errors import InputError
from app.pagination import page_params
from app.web import id_or_none

if TYPE_CHECKING:
    from app.tables import User

PAGE_SIZE = 50
ADMIN = {"guards": [require_admin]}
USER_FIELDS = ("email", "first_name", "last_name", "password", "role")


def link(request: Request, token: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/invite/{token}"


def safe_back(request: Request, fallback: str) -> str:
    """Back to the settings page the form was on (the list or the user's page), never elsewhere."""
    target = request.headers.get("referer", "")
    path = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else ""
    return path if path.startswith("/settings") and not path.startswith("//") else fallback


# -- people ----------------------------------------------------------------------------------------

async def users_page(request: Request, errors: dict | None = None, values: dict | None = None) -> Template:
    search = request.query_params.get("q", "")
    page, size = page_params(request, PAGE_SIZE)
    users = await accounts.list_users(search, offset=(page - 1) * size, limit=size)
    count = await accounts.count_users(search)
    context = {"section": "users", "users": users, "activity": await accounts.activity([u.id for u in users]),
               "roles": accounts.ROLES, "errors": errors or {}, "values": values or {}, "search": search,
               "page": page, "pages": max(1, -(-count // size)), "count": count}
    return Template("admin/settings.html", context=context, status_code=400 if errors else 200)


@get("/settings", **ADMIN)
async def settings_view(request: Request) -> Template:
    return await users_page(request)


@post("/settings/users", **ADMIN, opt={"audit": "user.create"})
async def settings_user_create(request: Request) -> Template | Redirect:
    """With a password: the account is ready. Without: an invitation link to pass on, valid 7 days."""
    form = await request.form()
    values = {key: form.get(key, "") for key in USER_FIELDS}
    try:
        user, token = await invites.add_user(values, user_of(request))
    except InputError as exc:
        values.pop("password")
        return await users_page(request, exc.errors, values)
    audit.note(request, f"Added {user.email} as {user.role}" + (" by invitation" if token else ""), user=user.id)
    message = (f"Invitation for {user.email} (valid 7 days, works once): {link(request, token)}" if token
               else f"User {user.email} created.")
    flash(request, message, category="success")
    return Redirect(f"/settings/users/{user.id}")


@get("/settings/users/{user_id:int}", **ADMIN)
async def settings_user_detail(request: Request, person: User) -> Template:
    member_of, others = await memberships.of_user(person.id)
    context = {
        "section": "users", "person": person, "roles": accounts.ROLES, "project_roles": memberships.PROJECT_ROLES,
        "activity": (await accounts.activity([person.id]))[person.id], "token": await accounts.token_info(person.id),
        "sessions": await sessions.of_user(person.id), "invites": await invites.pending(person.id),
        "memberships": member_of, "other_projects": others, "is_self": person.id == user_of(request).id,
    }
    return Template("admin/user.html", context=context)


def user_changes(person: User, form: Any) -> dict[str, Any]:
    """The user page's form: role and active always (an unticked box is absent), names when sent."""
    changes: dict[str, Any] = {"role": form.get("role", person.role), "is_active": "is_active" in form}
    return {**changes, **{key: form[key] for key in ("first_name", "last_name") if key in form}}


@post("/settings/users/{user_id:int}", **ADMIN, opt={"audit": "user.update"})
async def settings_user_update(request: Request, person: User) -> Redirect:
    changes = user_changes(person, await request.form())
    back = safe_back(request, f"/settings/users/{person.id}")
    if person.id == user_of(request).id and changes["is_active"] is False:
        audit.refused(request, "You cannot deactivate yourself.")
        return Redirect(back)
    before = accounts.snapshot(person)
    try:
        await accounts.update_user(person, changes)
    except InputError as exc:
        audit.refused(request, str(exc))
    else:
        audit.note_changes(request, person.email, before, accounts.snapshot(person))
        flash(request, f"{person.email} updated.", category="success")
    return Redirect(back)


@post("/settings/users/{user_id:int}/password", **ADMIN, opt={"audit": "user.password_reset"})
async def settings_user_password(request: Request, person: User) -> Redirect:
    """A new password typed by the admin, or (left empty) a one-time reset link. Either way the
    user's sessions end when the password changes."""
    password, back = (await request.form()).get("password", ""), f"/settings/users/{person.id}"
    if not password:
        token = await invites.issue(person, user_of(request), "reset")
        audit.note(request, f"Issued a password reset link for {person.email}")
        flash(request, f"Reset link for {person.email} (valid 24 hours, works once): {link(request, token)}",
              category="success")
        return Redirect(back)
    try:
        await accounts.update_user(person, {"password": password})
    except InputError as exc:
        audit.refused(request, str(exc))
        return Redirect(back)
    audit.note(request, f"Set a new password for {person.email}")
    flash(request, f"Password of {person.email} changed; their sessions were ended.", category="success")
    return Redirect(back)


@post("/settings/users/{user_id:int}/sessions/end", **ADMIN, opt={"audit": "user.sign_out"})
async def settings_user_sign_out(request: Request, person: User) -> Redirect:
    ended = await sessions.end_all(person.id)
    count = f"{ended} session{'s' if ended != 1 else ''}"
    audit.note(request, f"Signed {person.email} out everywhere ({count})")
    flash(request, f"{person.email} was signed out everywhere ({count} ended).", category="success")
    return Redirect(f"/settings/users/{person.id}")


@post("/settings/users/{user_id:int}/token/{what:str}", **ADMIN, opt={"audit": "token.change"})
async def settings_user_token(request: Request, person: User, what: str) -> Redirect:
    if what == "revoke":
        await accounts.revoke_token(person)
        audit.note(request, f"Revoked the API token of {person.email}")
        flash(request, f"The API token of {person.email} no longer works.", category="success")
    elif what == "regenerate":
        key = await accounts.reset_token(person)
        audit.note(request, f"Regenerated the API token of {person.email}")
        flash(request, f"New API token for {person.email} (the old one no longer works): {key}", category="success")
    else:
        raise NotFoundException(f"No token action {what!r}: use revoke or regenerate")
    return Redirect(f"/settings/users/{person.id}#token")


# -- project members -------------------------------------------------------------------------------

@get("/settings/projects", **ADMIN)
async def settings_projects() -> Template:
    return Template("admin/projects.html", context={"section": "projects", **await memberships.overview()})


@post("/settings/memberships", **ADMIN, opt={"audit": "member.set"})
async def settings_membership(request: Request) -> Redirect:
    """Add a user to a project, change their role in it, or (role "none") take them out."""
    form = await request.form()
    user, project = await memberships.pair(id_or_none(form.get("user")), id_or_none(form.get("project")))
    back = safe_back(request, f"/settings/users/{user.id}" if user else "/settings/projects")
    if user is None or project is None:
        audit.refused(request, "Choose a user and a project that exist.")
        return Redirect(back)
    try:
        summary, message = await memberships.set_role(user, project, form.get("role", ""))
    except InputError as exc:
        audit.refused(request, str(exc))
        return Redirect(back)
    audit.note(request, summary, project=project["id"], user=user.id)
    flash(request, message, category="success")
    return Redirect(back)


# -- instance settings -----------------------------------------------------------------------------

@get("/settings/instance", **ADMIN)
async def settings_instance() -> Template:
    return Template("admin/instance.html", context=await installation.context())


@post("/settings/instance", **ADMIN, opt={"audit": "settings.update"})
async def settings_instance_save(request: Request) -> Template | Redirect:
    form = await request.form()
    try:
        values = instance.clean(form)
    except InputError as exc:
        context = await installation.context(exc.errors, {key: form.get(key, "") for key in instance.FIELDS})
        return Template("admin/instance.html", context=context, status_code=400)
    changed = await instance.save(values, user_of(request))
    if not changed:
        flash(request, "Nothing changed.", category="info")
        return Redirect("/settings/instance")
    labels = {key: instance.FIELDS[key].label for key in changed}
    audit.note(request, "Changed " + "; ".join(f"{labels[k]}: {old} → {new}" for k, (old, new) in changed.items()),
               changed={k: list(v) for k, v in changed.items()})
    flash(request, f"Saved; in effect now: {', '.join(labels.values())}.", category="success")
    return Redirect("/settings/instance")


# -- the audit log ---------------------------------------------------------------------------------

@get("/settings/audit", **ADMIN)
async def audit_log(request: Request) -> Template:
    filters = audit.read_filters(request.query_params)
    page, size = page_params(request, audit.PAGE_SIZE)
    events, count = await audit.page_of(filters, page, size)
    context = {"section": "audit", "events": events, "count": count, "page": page, "pages": max(1, -(-count // size)),
               "typed": filters.typed, "actions": await audit.actions(),
               "query": urlencode({k: v for k, v in filters.typed.items() if v})}
    return Template("admin/audit.html", context=context)


@get("/settings/audit.csv", **ADMIN)
async def audit_log_csv(request: Request) -> Stream:
    filters = audit.read_filters(request.query_params)  # a bad filter is a 400, before the first byte
    stamp = now().strftime("%Y%m%d-%H%M%S")
    return Stream(audit.csv_lines(filters), media_type="text/csv; charset=utf-8",
                  headers={"Content-Disposition": f'attachment; filename="labelwell-audit-{stamp}.csv"'})


ROUTES = [settings_view, settings_user_create, settings_user_detail, settings_user_update, settings_user_password,
          settings_user_sign_out, settings_user_token, settings_projects, settings_membership, settings_instance,
          settings_instance_save, audit_log, audit_log_csv]
