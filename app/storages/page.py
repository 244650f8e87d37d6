"""What the project's Storage page shows: its import (source) and export (target) storages, each
with its sync's state and progress, the errors of its last sync or of its export writes, and the
forms to connect one of each kind (credentials never filled in)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app import jobs
from app.storages import fields, service, sync
from app.storages.kinds import KINDS, TITLES

if TYPE_CHECKING:
    from app.tables import Project, Storage, User

ROLES = {"import": "Source: tasks from the storage", "export": "Target: annotations written to the storage"}


async def _progress(storage: Any) -> dict[str, int] | None:
    if storage.status not in ("queued", "in_progress") or not (storage.last_sync_job or "").isdigit():
        return None
    job = await jobs.get(int(storage.last_sync_job))
    return {"done": job.progress or 0, "total": job.total or 0} if job else None


async def context(project: Project, errors: dict | None = None, values: Any = None,
                  failed_kind: str | None = None) -> dict[str, Any]:
    listed = []
    for role in ("import", "export"):
        for storage in await service.storages_of(project.id, role):
            listed.append({"storage": storage, "json": service.storage_json(storage),
                           "progress": await _progress(storage), "errors": (storage.traceback or "").splitlines()})
    forms = {name: fields.form_layout(kind, "import")[0]["fields"] + [
        f for f in fields.form_layout(kind, "export")[0]["fields"] if f["name"] == "can_delete_objects"]
        for name, kind in KINDS.items()}
    return {"project": project, "listed": listed, "forms": forms, "titles": TITLES, "roles": ROLES,
            "running": any(item["progress"] is not None for item in listed), "errors": errors or {},
            "values": values, "failed_kind": failed_kind, "labels": fields.LABELS}


async def connect(user: User, project: Project, form: Any) -> Storage:
    """The page's Connect: checked as the API checks it; an export storage writes what is there at once."""
    kind, role = form.get("type", ""), "export" if form.get("role") == "export" else "import"
    storage = await service.create(user, project.id, role, kind,
                                   fields.from_form(service.kind_named(kind), role, form))
    return await sync.start(storage, user.id) if role == "export" else storage
