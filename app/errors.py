"""Domain errors, and how pages and the API show them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar import MediaType, Response
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_500_INTERNAL_SERVER_ERROR

if TYPE_CHECKING:
    from litestar import Request

log = logging.getLogger("labelwell")


class InputError(Exception):
    """Bad input from a form or an API body: field -> list of messages."""

    def __init__(self, errors: dict[str, list[str]] | str):
        self.errors = errors if isinstance(errors, dict) else {"__all__": [errors]}
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))


class Unavailable(Exception):
    """Something the server needs does not answer (the media bucket): a 503 naming it, never a 500."""


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _json(status: int, detail: str, **extra: Any) -> Response:
    return Response({"status_code": status, "detail": detail, **extra}, status_code=status, media_type=MediaType.JSON)


def http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if is_api(request):
        extra = {"validation_errors": exc.extra} if exc.extra and status == HTTP_400_BAD_REQUEST else {}
        if isinstance(exc.extra, dict) and status == 401:
            extra = exc.extra  # e.g. {"code": "token_not_valid"}, which SimpleJWT clients read
        return _json(status, exc.detail, **extra)
    if isinstance(exc, NotAuthorizedException):
        return Redirect(f"/login?next={request.url.path}")
    return Template("errors/error.html", context={"status": status, "detail": exc.detail}, status_code=status)


def input_error(request: Request, exc: InputError) -> Response:
    if is_api(request):
        return _json(HTTP_400_BAD_REQUEST, "Validation error", validation_errors=exc.errors)
    return Template(
        "errors/error.html", context={"status": 400, "detail": str(exc)}, status_code=HTTP_400_BAD_REQUEST
    )


def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if is_api(request):
        return _json(HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error: the details are in the server log")
    return Template(
        "errors/error.html",
        context={"status": 500, "detail": "Something went wrong on our side."},
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


def unavailable(request: Request, exc: Unavailable) -> Response:
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    if is_api(request):
        return _json(503, str(exc))
    return Template("errors/error.html", context={"status": 503, "detail": str(exc)}, status_code=503)


def recursion_error(request: Request, exc: RecursionError) -> Response:
    # msgspec decodes a request's JSON with Python's recursion limit: a body nested about 1000
    # deep fails before any handler runs, and is the client's error
    if "while deserializing" in str(exc):
        return input_error(request, InputError({"body": ["The JSON is nested too deeply."]}))
    return server_error(request, exc)


EXCEPTION_HANDLERS = {HTTPException: http_error, InputError: input_error, RecursionError: recursion_error,
                      Unavailable: unavailable, Exception: server_error}
