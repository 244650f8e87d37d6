"""Label Studio's storage API: /api/storages/?project= (all import kinds), /api/storages/export
(all export kinds), /api/storages/types, and per kind (s3, localfiles), for import storages under
/api/storages/<kind> and export storages under /api/storages/export/<kind>: list/create,
read/change/delete, sync, validate, files (a preview of what sync takes) and form. Admins only,
as for webhooks: a storage holds credentials. Answers never carry a credential."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, Response, delete, get, patch, post, put
from litestar.exceptions import NotFoundException

from app import access, audit
from app.auth import require_admin, user_of
from app.errors import InputError
from app.storages import fields, service, sync
from app.storages.kinds import KINDS, TITLES
from app.web import both, id_or_none, parse_id

if TYPE_CHECKING:
    from app.tables import Storage

ADMIN = {"guards": [require_admin]}
KIND_PATHS = [f"/api/storages/{role}{k}" for role in ("", "export/") for k in KINDS]
ONE = [f"{p}/{{storage_id:int}}" for p in KIND_PATHS]


def _role(request: Request) -> str:
    return "export" if request.url.path.startswith("/api/storages/export/") else "import"


def _kind(request: Request) -> str:
    return request.url.path.split("/")[4 if _role(request) == "export" else 3]


async def _project_id(request: Request, value: Any) -> int:
    if value in (None, ""):
        raise InputError({"project": ['query parameter "project" is required']})
    return (await access.visible_project(user_of(request), parse_id(value, "project"))).id


async def _storage(request: Request, storage_id: int | None) -> Storage:
    found = await service.get(storage_id, _role(request), _kind(request)) if storage_id else None
    if found is None:
        raise NotFoundException(f"No {_kind(request)} {_role(request)} storage with id {storage_id}")
    await access.visible_project(user_of(request), found.project)
    return found


@get([*both("/api/storages"), *both("/api/storages/export")], **ADMIN)
async def storage_all(request: Request) -> list[dict[str, Any]]:
    project_id = await _project_id(request, request.query_params.get("project"))
    role = "export" if request.url.path.rstrip("/").endswith("/export") else "import"
    return [service.storage_json(s) for s in await service.storages_of(project_id, role)]


@get([*both("/api/storages/types"), *both("/api/storages/export/types")], **ADMIN)
async def storage_types() -> list[dict[str, str]]:
    return [{"name": name, "title": TITLES.get(name, name)} for name in KINDS]


@get([p + s for p in KIND_PATHS for s in ("", "/")], **ADMIN)
async def storage_list(request: Request) -> list[dict[str, Any]]:
    project_id = await _project_id(request, request.query_params.get("project"))
    return [service.storage_json(s) for s in await service.storages_of(project_id, _role(request))
            if s.kind == _kind(request)]


@post([p + s for p in KIND_PATHS for s in ("", "/")], **ADMIN, opt={"audit": "storage.create"})
async def storage_create(request: Request, data: Any) -> dict[str, Any]:
    project_id = await _project_id(request, data.get("project") if isinstance(data, dict) else None)
    storage = await service.create(user_of(request), project_id, _role(request), _kind(request), data)
    if storage.role == "export":  # as in Label Studio: what is there is written at once
        storage = await sync.start(storage, user_of(request).id)
    audit.note(request, f"Connected {_kind(request)} storage {storage.id}", project=project_id)
    return service.storage_json(storage)


@get(ONE, **ADMIN)
async def storage_detail(request: Request, storage_id: int) -> dict[str, Any]:
    return service.storage_json(await _storage(request, storage_id))


@patch(ONE, **ADMIN, opt={"audit": "storage.update"})
async def storage_update(request: Request, storage_id: int, data: Any) -> dict[str, Any]:
    storage = await service.update(await _storage(request, storage_id), data)
    audit.note(request, f"Changed storage {storage.id}", project=storage.project)
    return service.storage_json(storage)


@put(ONE, **ADMIN, opt={"audit": "storage.update"})
async def storage_replace(request: Request, storage_id: int, data: Any) -> dict[str, Any]:
    storage = await service.update(await _storage(request, storage_id), data)
    audit.note(request, f"Changed storage {storage.id}", project=storage.project)
    return service.storage_json(storage)


@delete(ONE, **ADMIN, opt={"audit": "storage.delete"})
async def storage_delete(request: Request, storage_id: int) -> None:
    storage = await _storage(request, storage_id)
    await service.delete(storage)
    audit.note(request, f"Removed storage {storage.id}", project=storage.project)


@post([f"{p}/sync" for p in ONE], **ADMIN, status_code=200, opt={"audit": "storage.sync"})
async def storage_sync(request: Request, storage_id: int) -> dict[str, Any]:
    """The storage JSON, status queued: the worker syncs (or, for export, re-exports) it; GET it again to follow."""
    storage = await sync.start(await _storage(request, storage_id), user_of(request).id)
    audit.note(request, f"Synced storage {storage.id}", project=storage.project)
    return service.storage_json(storage)


@post([f"{p}/validate" for p in KIND_PATHS], **ADMIN, status_code=200, opt={"audit": None})
async def storage_validate(request: Request, data: Any) -> Response:
    """200 with an empty body, or 400 saying what is wrong. `id` reuses that storage's credentials."""
    wanted = id_or_none(data.get("id")) if isinstance(data, dict) else None
    stored = await _storage(request, wanted) if wanted else None
    await service.validate(_role(request), _kind(request), data, stored)
    return Response(b"", status_code=200)


@post([f"{p}/files" for p in KIND_PATHS], **ADMIN, status_code=200, opt={"audit": None}, include_in_schema=False)
async def storage_files(request: Request, data: Any) -> dict[str, Any]:
    wanted = id_or_none(data.get("id")) if isinstance(data, dict) else None
    stored = await _storage(request, wanted) if wanted else None
    return await service.preview(_role(request), _kind(request), data, stored)


@get([f"{p}/form" for p in KIND_PATHS], **ADMIN)
async def storage_form(request: Request) -> list[dict[str, Any]]:
    return fields.form_layout(KINDS[_kind(request)], _role(request))


ROUTES = [storage_all, storage_types, storage_list, storage_create, storage_detail, storage_update,
          storage_replace, storage_delete, storage_sync, storage_validate, storage_files, storage_form]
