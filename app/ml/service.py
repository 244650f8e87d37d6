"""ML backends of a project: their fields as Label Studio names them, their connection state, and
who may see their jobs. Reading and storing /predict answers is in `predictions.py`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from app import rows, storable
from app.clock import iso, now
from app.db import write_tx
from app.errors import InputError
from app.ml.client import MLApi
from app.settings import settings
from app.tables import ApiToken, MLBackend

if TYPE_CHECKING:
    from app.tables import Project, User

# Label Studio's states and how its UI names them
STATES = {"CO": "Connected", "DI": "Disconnected", "ER": "Error", "TR": "Training", "PR": "Predicting"}
AUTH_METHODS = ("NONE", "BASIC_AUTH")


def backend_json(b: MLBackend) -> dict[str, Any]:
    """Label Studio's MLBackendSerializer fields; the basic auth password is never sent back."""
    return {"id": b.id, "project": b.project, "url": b.url, "title": b.title, "description": b.description,
            "state": b.state, "readable_state": STATES.get(b.state, b.state), "error_message": b.error_message,
            "is_interactive": b.is_interactive, "is_active": b.is_active, "model_version": b.model_version,
            "auth_method": b.auth_method, "basic_auth_user": b.basic_auth_user,
            "basic_auth_pass_is_set": bool(b.basic_auth_pass), "extra_params": b.extra_params, "timeout": b.timeout,
            "auto_update": b.auto_update, "created_at": iso(b.created_at), "updated_at": iso(b.updated_at)}


def clean_fields(data: Any, partial: bool) -> dict[str, Any]:
    """The writable fields of a backend, checked; every problem is named by its field."""
    if not isinstance(data, dict):
        raise InputError({"non_field_errors": ["Send a JSON object."]})
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def bad(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if "url" in data or not partial:
        url = str(data.get("url") or "").strip().rstrip("/")
        if not _usable_url(url):
            bad("url", "Give the backend's address, http(s)://host:port, at most 512 characters, with no user or "
                       "password in it (use the basic auth fields).")
        out["url"] = url
    for key, limit in (("title", 255), ("description", 10_000), ("basic_auth_user", 255), ("basic_auth_pass", 255)):
        if key in data:
            value = "" if data[key] is None else data[key]
            if not isinstance(value, str) or len(value) > limit or "\x00" in value:
                bad(key, f"Must be text of at most {limit} characters.")
            out[key] = value
    for key in ("is_interactive", "auto_update", "is_active"):
        if key in data:
            if not isinstance(data[key], bool):
                bad(key, "Must be true or false.")
            out[key] = data[key]
    if "auth_method" in data:
        if data["auth_method"] not in AUTH_METHODS:
            bad("auth_method", f"Must be one of: {', '.join(AUTH_METHODS)}.")
        out["auth_method"] = data["auth_method"]
    if "extra_params" in data:
        value = data["extra_params"]
        if isinstance(value, str):  # the settings form sends JSON text
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                value = None
        if not isinstance(value, dict):
            bad("extra_params", "Must be a JSON object, e.g. {\"threshold\": 0.5}.")
        elif storable.problem(value):
            bad("extra_params", f"It {storable.problem(value)}.")
        out["extra_params"] = value
    if "timeout" in data:
        value = data["timeout"]
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                value = None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 3600:
            bad("timeout", "Seconds to wait for a prediction: a number above 0, at most 3600.")
        out["timeout"] = value
    if out.get("basic_auth_user") and "auth_method" not in out:
        out["auth_method"] = "BASIC_AUTH"
    if errors:
        raise InputError(errors)
    return out


def _usable_url(url: str) -> bool:
    """An address httpx can call, without credentials in it (they would show in every error)."""
    try:
        parsed = httpx.URL(url)
        parsed.port  # noqa: B018 - a port that is not a number raises here, not later in a job
    except (httpx.InvalidURL, ValueError, TypeError):
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host) and not parsed.userinfo and len(url) <= 512


async def backends_of(project_id: int) -> list[MLBackend]:
    return await rows.many(MLBackend, "project = {}", project_id, tail="ORDER BY id")


async def get_backend(backend_id: int) -> MLBackend | None:
    return await rows.one(MLBackend, "id = {}", backend_id)


async def active_backend(project_id: int) -> MLBackend | None:
    found = await rows.many(MLBackend, "project = {} AND is_active = {}", project_id, True, tail="ORDER BY id LIMIT 1")
    return found[0] if found else None


async def create_backend(project: Project, data: Any) -> MLBackend:
    fields = clean_fields(data, partial=False)
    if not fields.get("title"):
        fields["title"] = urlsplit(fields["url"]).netloc
    backend = MLBackend(project=project.id, **{**fields, "is_active": False})
    async with write_tx():
        await backend.save()
    # the first backend of a project (or one added as active) is the one used
    if fields.get("is_active", True) and (fields.get("is_active") or await active_backend(project.id) is None):
        await activate(backend)
    return await check_state(await get_backend(backend.id), project)


async def update_backend(backend: MLBackend, project: Project, data: Any) -> MLBackend:
    fields = clean_fields(data, partial=True)
    active = fields.pop("is_active", None)
    if fields:
        fields["updated_at"] = now()
        async with write_tx():
            await MLBackend.update({getattr(MLBackend, k): v for k, v in fields.items()}).where(MLBackend.id == backend.id)
    if active is True:
        await activate(backend)
    elif active is False:
        async with write_tx():
            await MLBackend.update({MLBackend.is_active: False}).where(MLBackend.id == backend.id)
    backend = await get_backend(backend.id)
    if {"url", "auth_method", "basic_auth_user", "basic_auth_pass", "extra_params"} & fields.keys():
        backend = await check_state(backend, project)
    return backend


async def activate(backend: MLBackend) -> None:
    """One active backend per project: the one predictions are retrieved from."""
    async with write_tx():
        await MLBackend.update({MLBackend.is_active: False}).where(MLBackend.project == backend.project)
        await MLBackend.update({MLBackend.is_active: True}).where(MLBackend.id == backend.id)


async def delete_backend(backend: MLBackend) -> None:
    """Predictions stay (they are the project's data); they just no longer name their backend."""
    async with write_tx():
        await MLBackend.delete().where(MLBackend.id == backend.id)
        if backend.is_active:
            rest = await MLBackend.select(MLBackend.id).where(MLBackend.project == backend.project).order_by(
                MLBackend.id).first()
            if rest:
                await MLBackend.update({MLBackend.is_active: True}).where(MLBackend.id == rest["id"])


def project_uid(project: Project) -> str:
    """Label Studio's `<id>.<created timestamp>`; 2.x backends key their cache by the part before the dot."""
    return f"{project.id}.{int(project.created_at.timestamp())}"


async def access_token(project: Project) -> str:
    """The token a backend uses to fetch task files back: the project owner's, as Label Studio
    sends. Never someone else's: without an owner's token the backend gets none."""
    if not project.created_by:
        return ""
    found = await ApiToken.select(ApiToken.key).where(ApiToken.user == project.created_by,
                                                      ApiToken.user.is_active.eq(True)).first()
    return found["key"] if found else ""


async def send_setup(api: MLApi, project: Project) -> Any:
    # the owner's token goes only to what answered /health as a label_studio_ml backend
    token = await access_token(project) if api.speaks_ml else ""
    return await api.setup(project_uid(project), project.label_config, settings.hostname, token)


async def check_state(backend: MLBackend, project: Project, api: MLApi | None = None) -> MLBackend:
    """Label Studio's update_state: /health, then /setup (which also tells the model version).
    Connected, Error (with the backend's message) or Disconnected is stored and returned."""
    own = api is None
    api = api or MLApi(backend)
    try:
        health = await api.health()
        if health.status is None:
            state, message, version = "DI", health.error, backend.model_version
        elif not health.ok:
            state, message, version = "ER", f"/health: {health.error}", backend.model_version
        else:
            setup = await send_setup(api, project)
            if not setup.ok:
                state, message, version = "ER", f"/setup: {setup.error}", backend.model_version
            else:
                answer = setup.body.get("model_version") if isinstance(setup.body, dict) else None
                # 1.0.9 answers an integer (its last training job id) once it has trained
                version = "undefined" if answer in (None, "") else str(answer)
                state, message = "CO", ""
    finally:
        if own:
            await api.__aexit__()
    async with write_tx():
        await MLBackend.update({MLBackend.state: state, MLBackend.error_message: message[:2000],
                                MLBackend.model_version: version[:255], MLBackend.updated_at: now()}).where(
            MLBackend.id == backend.id)
    backend.state, backend.error_message, backend.model_version = state, message, version
    return backend

