"""The label_studio_ml protocol's routes, for `labelwell model serve --project N` (an app of its
own, built by app/asgi.py's `model_server`): /health, /setup, /predict and /webhook."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from app.learning import served


def _project(request: Request) -> int:
    return request.app.state.project


@get(["/", "/health"])
async def model_health() -> dict[str, Any]:
    return {"status": "UP", "model_class": served.MODEL_CLASS}


@post("/setup", status_code=200)
async def model_setup(request: Request) -> dict[str, Any]:
    """{"model_version": the active builtin-<n>}; the schema sent is not needed: the model is the project's."""
    return await served.setup(_project(request))


@post("/predict", status_code=200)
async def model_predict(request: Request, data: Any) -> dict[str, Any]:
    return await served.predict(_project(request), data)


@post("/webhook")
async def model_webhook(request: Request, data: Any) -> Response:
    status, body = await served.webhook(_project(request), data)
    return Response(body, status_code=status)


ROUTES = [model_health, model_setup, model_predict, model_webhook]
