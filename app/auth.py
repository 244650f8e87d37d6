"""Who is asking: a session cookie (pages), `Authorization: Token <key>` (scripts, the legacy key) or
`Authorization: Bearer <access token>` (a personal access token, app/personal_tokens); and role guards."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from app import instance
from app.accounts import service as accounts
from app.accounts import sessions
from app.csrf import SessionCSRF
from app.personal_tokens import service as personal_tokens

if TYPE_CHECKING:
    from litestar.config.csrf import CSRFConfig
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler
    from litestar.types import ASGIApp, Receive, Scope, Send

    from app.tables import User

SESSION_COOKIE = "lw_session"
SESSION_COOKIE_RE = re.compile(rf"(^|;\s*){SESSION_COOKIE}(-\d+)?=")
PUBLIC = {"exclude_from_auth": True}  # handler opt for routes anyone may open


async def user_for_header(value: str) -> User | None:
    scheme, _, key = value.partition(" ")
    if scheme.lower() not in ("token", "bearer") or not key.strip():
        raise NotAuthorizedException("Use 'Authorization: Token <key>' or 'Authorization: Bearer <access token>'")
    # the admin's switches (Label Studio's JWT settings): a kind turned off is refused, saying so
    if scheme.lower() == "bearer":
        if not instance.current().api_tokens_enabled:
            raise NotAuthorizedException("Personal access tokens are turned off on this instance.")
        return await personal_tokens.user_for_access(key.strip())
    if not instance.current().legacy_tokens_enabled:
        raise NotAuthorizedException("Legacy API keys are turned off on this instance: "
                                     "use a personal access token (Authorization: Bearer <access token>).")
    return await accounts.user_for_token(key.strip())


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header:
            user = await user_for_header(header)
            if user is None:
                raise NotAuthorizedException("Invalid token")
            return AuthenticationResult(user=user, auth="token")
        session = connection.scope.get("session") or {}
        user = await sessions.user_for(session.get("sid"))
        if user is None:
            raise NotAuthorizedException("Authentication credentials were not provided")
        return AuthenticationResult(user=user, auth="session")


class CSRFUnlessToken:
    """CSRF on every unsafe request that could ride the browser's cookie.

    A request with an Authorization header cannot be forged cross-site, and an API request
    carrying no session cookie has no ambient authority to abuse (it gets 401 from auth). The
    others need the token of their session (app/csrf.py)."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        self.app = app
        self.csrf = SessionCSRF(app, config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._cannot_be_forged(scope):
            await self.app(scope, receive, send)
        else:
            await self.csrf(scope, receive, send)

    @staticmethod
    def _cannot_be_forged(scope: Scope) -> bool:
        headers = dict(scope["headers"])
        if b"authorization" in headers:
            return True
        cookies = headers.get(b"cookie", b"").decode("latin-1")
        # Litestar splits a big session into lw_session-0, lw_session-1, …
        return scope["path"].startswith("/api/") and not SESSION_COOKIE_RE.search(cookies)


def user_of(connection: ASGIConnection) -> User:
    return connection.scope["user"]


def current_user_or_none(connection: ASGIConnection) -> User | None:
    return connection.scope.get("user")


def require_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if user_of(connection).role != "admin":
        raise PermissionDeniedException("Only admins can do this")

