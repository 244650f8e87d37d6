"""Pages: log in, log out, and the user's own account (API token, password, workspace keys)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts import service
from app.auth import PUBLIC, current_user_or_none, user_of
from app.db import write_tx
from app.errors import InputError
from app.labelling import hotkeys
from app.tables import User


def safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would be a phishing aid."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/projects"


@get("/login", opt=PUBLIC)
async def login_page(request: Request) -> Template | Redirect:
    if current_user_or_none(request) is not None:
        return Redirect(safe_next(request.query_params.get("next")))
    return Template("accounts/login.html", context={"next": request.query_params.get("next", ""), "email": ""})


@post("/login", opt=PUBLIC)
async def login_submit(request: Request) -> Template | Redirect:
    form = await request.form()
    email, password = form.get("email", ""), form.get("password", "")
    user = await service.authenticate(email, password)
    if user is None:
        context = {"next": form.get("next", ""), "email": email, "error": "Wrong email or password."}
        return Template("accounts/login.html", context=context, status_code=400)
    # a fresh session, so nothing from before the login carries over
    request.clear_session()
    request.set_session({"uid": user.id, "epoch": user.session_epoch})
    return Redirect(safe_next(form.get("next")))


@post("/logout", opt=PUBLIC)
async def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect("/login")


async def account_context(request: Request, **extra: Any) -> dict[str, Any]:
    user = user_of(request)
    return {"token": await service.token_of(user), "errors": {}, "keymap": hotkeys.keymap(user),
            "actions": hotkeys.ACTIONS, **extra}


@get("/account")
async def account_page(request: Request) -> Template:
    return Template("accounts/account.html", context=await account_context(request))


@post("/account/token")
async def account_token_reset(request: Request) -> Template | Redirect:
    await service.reset_token(user_of(request))
    flash(request, "A new API token was generated; the old one no longer works.", category="success")
    return Redirect("/account")


@post("/account/password")
async def account_password(request: Request) -> Template | Redirect:
    form = await request.form()
    user = user_of(request)
    if await service.authenticate(user.email, form.get("current_password", "")) is None:
        errors = {"current_password": ["That is not your current password."]}
    elif form.get("new_password", "") != form.get("new_password2", ""):
        errors = {"new_password2": ["The two new passwords differ."]}
    else:
        try:
            user = await service.update_user(user, {"password": form.get("new_password", "")})
        except InputError as exc:
            errors = exc.errors
        else:
            request.set_session({"uid": user.id, "epoch": user.session_epoch})
            flash(request, "Password changed. Other sessions were signed out.", category="success")
            return Redirect("/account")
    return Template("accounts/account.html", context=await account_context(request, errors=errors), status_code=400)


@post("/account/hotkeys")
async def account_hotkeys(request: Request) -> Template | Redirect:
    form = await request.form()
    user = user_of(request)
    if form.get("reset"):
        cleaned: dict[str, str] = {}
        message = "Workspace keys are back to their defaults."
    else:
        try:
            cleaned = hotkeys.clean(form)
        except InputError as exc:
            # show what was typed, so the clash can be fixed where it is
            typed = {action: str(form.get(action, "")) for action in hotkeys.ACTIONS}
            context = await account_context(request, errors=exc.errors, keymap=typed)
            return Template("accounts/account.html", context=context, status_code=400)
        message = "Workspace keys saved."
    async with write_tx():
        await User.update({User.hotkeys: cleaned}).where(User.id == user.id)
    flash(request, message, category="success")
    return Redirect("/account#hotkeys")


ROUTES = [login_page, login_submit, logout, account_page, account_token_reset, account_password, account_hotkeys]
