"""Pages: log in, log out, and the user's own account (API token, password, workspace keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import instance
from app.accounts import invites, organization, service, sessions
from app.auth import PUBLIC, current_user_or_none, user_of
from app.errors import InputError
from app.labelling import hotkeys

if TYPE_CHECKING:
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
    return Template("accounts/login.html", context={"next": request.query_params.get("next", ""), "email": "",
                                                    "allow_signup": instance.current().allow_signup})


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def sign_in(request: Request, user: User) -> None:
    """A new session for this browser: a fresh key, nothing carried over from before."""
    await sessions.end((request.session or {}).get("sid"))
    request.clear_session()
    key = await sessions.start(user, client_ip(request), request.headers.get("user-agent", ""))
    request.set_session({"sid": key})


def login_page_with(form: Any, error: str, status: int) -> Template:
    context = {"next": form.get("next", ""), "email": form.get("email", ""), "error": error,
               "allow_signup": instance.current().allow_signup}
    return Template("accounts/login.html", context=context, status_code=status)


@post("/login", opt={**PUBLIC, "audit": None})
async def login_submit(request: Request) -> Template | Redirect:
    form = await request.form()
    email, password, ip = form.get("email", ""), form.get("password", ""), client_ip(request)
    wait = await sessions.locked_for(email, ip)
    if wait is not None:
        # refused before the password is even checked: guessing on gets nowhere while locked
        minutes = max(1, round(wait.total_seconds() / 60))
        return login_page_with(form, f"Too many failed logins. Try again in {minutes} minute"
                                     f"{'s' if minutes != 1 else ''}, or ask an admin to reset your password.", 429)
    user = await service.authenticate(email, password)
    if user is None:
        await sessions.failed(email, ip)
        return login_page_with(form, "Wrong email or password.", 400)
    await sessions.succeeded(email, ip)
    await sign_in(request, user)
    return Redirect(safe_next(form.get("next")))


@post("/logout", opt={**PUBLIC, "audit": None})
async def logout(request: Request) -> Redirect:
    await sessions.end((request.session or {}).get("sid"))
    request.clear_session()
    return Redirect("/login")


async def account_context(request: Request, **extra: Any) -> dict[str, Any]:
    user = user_of(request)
    return {"token": await service.token_of(user), "errors": {}, "keymap": hotkeys.keymap(user),
            "actions": hotkeys.ACTIONS, **extra}


@get("/account")
async def account_page(request: Request) -> Template:
    return Template("accounts/account.html", context=await account_context(request))


@post("/account/token", opt={"audit": "token.regenerate"})
async def account_token_reset(request: Request) -> Template | Redirect:
    await service.reset_token(user_of(request))
    flash(request, "A new API token was generated; the old one no longer works.", category="success")
    return Redirect("/account")


@post("/account/password", opt={"audit": "password.change"})
async def account_password(request: Request) -> Template | Redirect:
    form = await request.form()
    try:
        user = await service.change_password(user_of(request), form.get("current_password", ""),
                                             form.get("new_password", ""), form.get("new_password2", ""))
    except InputError as exc:
        context = await account_context(request, errors=exc.errors)
        return Template("accounts/account.html", context=context, status_code=400)
    await sign_in(request, user)  # the other sessions ended with the change; this one goes on
    flash(request, "Password changed. Other sessions were signed out.", category="success")
    return Redirect("/account")


@post("/account/hotkeys", opt={"audit": None})
async def account_hotkeys(request: Request) -> Template | Redirect:
    form = await request.form()
    try:
        cleaned = {} if form.get("reset") else hotkeys.clean(form)
    except InputError as exc:
        # show what was typed, so the clash can be fixed where it is
        typed = {action: str(form.get(action, "")) for action in hotkeys.ACTIONS}
        context = await account_context(request, errors=exc.errors, keymap=typed)
        return Template("accounts/account.html", context=context, status_code=400)
    await service.save_hotkeys(user_of(request), cleaned)
    message = "Workspace keys are back to their defaults." if form.get("reset") else "Workspace keys saved."
    flash(request, message, category="success")
    return Redirect("/account#hotkeys")


async def signup_allowed(token: Any) -> bool:
    """Open sign-up, or the organization's invitation link (GET /api/invite)."""
    return instance.current().allow_signup or await organization.invite_valid(token)


@get(["/signup", "/user/signup", "/user/signup/"], opt=PUBLIC)
async def signup_page(request: Request) -> Template | Redirect:
    if current_user_or_none(request) is not None:
        return Redirect("/projects")
    token = request.query_params.get("token", "")
    if not await signup_allowed(token):
        raise NotFoundException("Sign-up is off here: ask an admin for an invitation.")
    return Template("accounts/signup.html", context={"values": {}, "errors": {}, "token": token})


@post("/signup", opt={**PUBLIC, "audit": None})
async def signup_submit(request: Request) -> Template | Redirect:
    form = await request.form()
    token = str(form.get("token", ""))
    if not await signup_allowed(token):
        raise NotFoundException("Sign-up is off here: ask an admin for an invitation.")
    values = {key: form.get(key, "") for key in ("email", "first_name", "last_name", "password")}
    try:
        # always an annotator, in no project: an admin decides what they may work on
        user = await service.create_user({**values, "role": "annotator"})
    except InputError as exc:
        values.pop("password")
        context = {"values": values, "errors": exc.errors, "token": token}
        return Template("accounts/signup.html", context=context, status_code=400)
    await sign_in(request, user)
    flash(request, "Welcome! An admin will add you to a project.", category="success")
    return Redirect("/projects")


def link_gone() -> HTTPException:
    return HTTPException(status_code=410, detail="This link has expired or was already used: ask an admin for a new one.")


async def link_or_410(token: str) -> tuple[Any, User]:
    found = await invites.find(token)
    if found is None:
        raise link_gone()
    return found


@get("/invite/{token:str}", opt=PUBLIC)
async def invite_page(request: Request, token: str) -> Template:
    invite, user = await link_or_410(token)
    return Template("accounts/invite.html", context={"invite": invite, "invitee": user, "errors": {}})


@post("/invite/{token:str}", opt={**PUBLIC, "audit": None})
async def invite_submit(request: Request, token: str) -> Template | Redirect:
    invite, user = await link_or_410(token)
    form = await request.form()
    try:
        redeemed = await invites.redeem(token, form.get("password", ""), form.get("password2", ""))
    except InputError as exc:
        return Template("accounts/invite.html", context={"invite": invite, "invitee": user, "errors": exc.errors},
                        status_code=400)
    if redeemed is None:  # spent by another request since this one found it
        raise link_gone()
    await sign_in(request, redeemed)
    flash(request, "Your password is set. Welcome!", category="success")
    return Redirect("/projects")


ROUTES = [login_page, login_submit, logout, signup_page, signup_submit, invite_page, invite_submit, account_page, account_token_reset, account_password, account_hotkeys]
