"""The admin settings page: users and their roles (instance settings come later)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import service as accounts
from app.auth import require_admin
from app.errors import InputError
from app.tables import ROLES


async def settings_page(request: Request, errors: dict | None = None, values: dict | None = None) -> Template:
    users = await accounts.list_users(request.query_params.get("q", ""))
    context = {"users": users, "roles": ROLES, "errors": errors or {}, "values": values or {}}
    return Template("admin/settings.html", context=context, status_code=400 if errors else 200)


@get("/settings", guards=[require_admin])
async def settings_view(request: Request) -> Template:
    return await settings_page(request)


@post("/settings/users", guards=[require_admin])
async def settings_user_create(request: Request) -> Template | Redirect:
    form = await request.form()
    values = {key: form.get(key, "") for key in ("email", "first_name", "last_name", "password", "role")}
    try:
        user = await accounts.create_user(values)
    except InputError as exc:
        return await settings_page(request, exc.errors, values)
    flash(request, f"User {user.email} created.", category="success")
    return Redirect("/settings")


@post("/settings/users/{user_id:int}", guards=[require_admin])
async def settings_user_update(request: Request, user_id: int) -> Template | Redirect:
    user = await accounts.get_user(user_id)
    if user is None:
        raise NotFoundException(f"No user with id {user_id}")
    form = await request.form()
    try:
        await accounts.update_user(user, {"role": form.get("role", user.role), "is_active": "is_active" in form})
    except InputError as exc:
        flash(request, str(exc), category="error")
    else:
        flash(request, f"{user.email} updated.", category="success")
    return Redirect("/settings")


ROUTES = [settings_view, settings_user_create, settings_user_update]
