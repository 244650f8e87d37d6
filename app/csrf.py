"""CSRF tokens bound to the session: double submit (a form field or header that must match) where
the token a signed-in browser must send is derived from its session key. Signing in or out starts
a new session, so the token changes with it: one taken before login (or leaked from an old
session) forges nothing after. Before signing in (the login and sign-up forms) the token is a
random, signed value kept in the cookie, as Litestar's own CSRF middleware does."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from hmac import compare_digest
from typing import TYPE_CHECKING, Any

from litestar.datastructures.cookie import Cookie
from litestar.datastructures.headers import MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.exceptions import PermissionDeniedException
from litestar.utils.scope.state import ScopeState

if TYPE_CHECKING:
    from litestar.config.csrf import CSRFConfig
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

FORM_FIELD = "_csrf_token"


def _sign(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def session_token(secret: str, sid: str) -> str:
    return "s" + _sign(secret, "session", sid)


def anonymous_token(secret: str) -> str:
    nonce = secrets.token_hex(16)
    return f"a{nonce}{_sign(secret, 'anonymous', nonce)}"


def valid_anonymous(secret: str, token: str | None) -> bool:
    if not token or not token.startswith("a") or len(token) != 1 + 32 + 64:
        return False
    return compare_digest(token[33:].encode(), _sign(secret, "anonymous", token[1:33]).encode())


class SessionCSRF:
    """The check for requests that ride the browser's cookies (see app.auth.CSRFUnlessToken)."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        self.app, self.config = app, config

    @staticmethod
    def sid(scope: Scope) -> str | None:
        session = scope.get("session")
        return str(session["sid"]) if isinstance(session, dict) and session.get("sid") else None

    def expected(self, scope: Scope, cookie: str | None) -> str:
        sid = self.sid(scope)
        if sid:
            return session_token(self.config.secret, sid)
        return cookie if valid_anonymous(self.config.secret, cookie) else anonymous_token(self.config.secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        cookie = request.cookies.get(self.config.cookie_name)
        token = self.expected(scope, cookie)
        if request.method not in self.config.safe_methods:
            sent = request.headers.get(self.config.header_name)
            if not sent and request.content_type[0] in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
                sent = (await request.form()).get(FORM_FIELD)  # cached: the handler reads the same form
            if not sent or not compare_digest(str(sent).encode(), token.encode()) or (token.startswith("a") and sent != cookie):
                raise PermissionDeniedException("CSRF token verification failed")
        ScopeState.from_scope(scope).csrf_token = token
        await self.app(scope, receive, self._keep_cookie(scope, send, cookie, token))

    def _keep_cookie(self, scope: Scope, send: Send, cookie: str | None, token: str) -> Send:
        """The page's scripts read the token from the cookie: send the current one, the new
        session's when this request signed in or out."""
        sid = self.sid(scope)

        async def wrapped(message: Message) -> None:
            nonlocal token
            if message["type"] == "http.response.start" and self.sid(scope) != sid:
                token = self.expected(scope, None)
            if message["type"] == "http.response.start" and token != cookie:
                fresh = Cookie(key=self.config.cookie_name, value=token, path=self.config.cookie_path,
                                secure=self.config.cookie_secure, httponly=self.config.cookie_httponly,
                                samesite=self.config.cookie_samesite, domain=self.config.cookie_domain)
                MutableScopeHeaders.from_message(message).add("set-cookie", fresh.to_header(header=""))
            await send(message)

        return wrapped
