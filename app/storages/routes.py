"""The project's Storage page: its import and export storages (connect, sync with a progress bar,
remove) and what went wrong with each. Admins only, as the API: a storage holds credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit
from app.auth import require_admin, user_of
from app.errors import InputError
from app.storages import page, service, sync

if TYPE_CHECKING:
    from app.tables import Project, Storage

ADMIN = {"guards": [require_admin]}
BASE = "/projects/{project_id:int}/storage"


async def _storage(project: Project, storage_id: int) -> Storage:
    found = await service.get(storage_id)
    if found is None or found.project != project.id:
        raise NotFoundException(f"No storage {storage_id} in this project")
    return found


@get(BASE, **ADMIN)
async def storage_page(project: Project) -> Template:
    return Template("storages/storages.html", context=await page.context(project))


@post(BASE, **ADMIN, opt={"audit": "storage.create"})
async def storage_add(request: Request, project: Project) -> Template | Redirect:
    form = await request.form()
    try:
        storage = await page.connect(user_of(request), project, form)
    except InputError as exc:
        return Template("storages/storages.html", status_code=400,
                        context=await page.context(project, exc.errors, form, form.get("type")))
    audit.note(request, f"Connected {storage.kind} storage {storage.id}", project=project.id)
    flash(request, f"Storage {storage.title or storage.id} connected.", category="success")
    return Redirect(f"/projects/{project.id}/storage")


@post(BASE + "/{storage_id:int}/sync", **ADMIN, opt={"audit": "storage.sync"})
async def storage_sync_now(request: Request, project: Project, storage_id: int) -> Template | Redirect:
    try:
        await sync.start(await _storage(project, storage_id), user_of(request).id)
    except InputError as exc:
        return Template("storages/storages.html", status_code=400, context=await page.context(project, exc.errors))
    flash(request, "Sync started: it runs in the background.", category="success")
    return Redirect(f"/projects/{project.id}/storage")


@post(BASE + "/{storage_id:int}/delete", **ADMIN, opt={"audit": "storage.delete"})
async def storage_remove(request: Request, project: Project, storage_id: int) -> Redirect:
    storage = await _storage(project, storage_id)
    await service.delete(storage)
    audit.note(request, f"Removed storage {storage.id}", project=project.id)
    flash(request, f"Storage {storage.title or storage.id} removed; its tasks stay.", category="success")
    return Redirect(f"/projects/{project.id}/storage")


ROUTES = [storage_page, storage_add, storage_sync_now, storage_remove]
