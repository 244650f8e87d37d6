"""The personal access tokens page (/account/tokens): make one (its text shown once), see the
live ones by their last characters, revoke one."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.auth import user_of
from app.personal_tokens import service


async def _page(request: Request, **extra: Any) -> Template:
    tokens = [service.listed(row) for row in await service.list_of(user_of(request))]
    status = extra.pop("status", 200)
    return Template("personal_tokens/tokens.html", context={"tokens": tokens, "made": None, "error": None, **extra},
                    status_code=status)


@get("/account/tokens")
async def tokens_page(request: Request) -> Template:
    return await _page(request)


@post("/account/tokens", opt={"audit": "token.create"})
async def token_make(request: Request) -> Template:
    try:
        return await _page(request, made=await service.create(user_of(request)))
    except service.TokenError as exc:
        return await _page(request, error=str(exc), status=400)


@post("/account/tokens/{token_id:int}/revoke", opt={"audit": "token.revoke"})
async def token_revoke(request: Request, token_id: int) -> Redirect:
    if await service.revoke_id(user_of(request), token_id):
        flash(request, "The token was revoked: scripts using it stop at once.", category="success")
    return Redirect("/account/tokens")


ROUTES = [tokens_page, token_make, token_revoke]
