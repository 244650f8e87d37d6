"""The settings area's instance page: settings stored in the database and applied live, and
where the data lives."""

from __future__ import annotations

from kombu.utils.url import sanitize_url
from litestar import Request, get, post
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app import audit, instance
from app.admin import job_queue
from app.auth import require_admin, user_of
from app.db import engine_name
from app.errors import InputError
from app.heartbeat import broker_label
from app.settings import settings


async def instance_page(request: Request, errors: dict | None = None, typed: dict | None = None) -> Template:
    values = (await instance.refresh(force=True)).__dict__
    jobs = await job_queue.state_counts()
    context = {
        "section": "instance", "fields": instance.FIELDS, "values": {**values, **(typed or {})},
        "defaults": instance.defaults(), "saved": instance.saved(), "errors": errors or {}, "jobs": jobs,
        "storage": {
            "Data folder": str(settings.data_dir),
            "Database": f"{engine_name()} · {sanitize_url(settings.database_url)}",
            "Uploads": str(settings.upload_dir),
            "Local files root": str(settings.local_files_root) if settings.local_files_root else "off",
            "Job broker": broker_label(),
        },
    }
    return Template("admin/instance.html", context=context, status_code=400 if errors else 200)


@get("/settings/instance", guards=[require_admin])
async def settings_instance(request: Request) -> Template:
    return await instance_page(request)


@post("/settings/instance", guards=[require_admin], opt={"audit": "settings.update"})
async def settings_instance_save(request: Request) -> Template | Redirect:
    form = await request.form()
    try:
        values = instance.clean(form)
    except InputError as exc:
        return await instance_page(request, exc.errors, {k: form.get(k, "") for k in instance.FIELDS})
    changed = await instance.save(values, user_of(request))
    if changed:
        audit.note(request, "Changed " + "; ".join(f"{instance.FIELDS[k].label}: {old} → {new}"
                                                   for k, (old, new) in changed.items()),
                   changed={k: list(v) for k, v in changed.items()})
        flash(request, f"Saved; in effect now: {', '.join(instance.FIELDS[k].label for k in changed)}.",
              category="success")
    else:
        flash(request, "Nothing changed.", category="info")
    return Redirect("/settings/instance")


ROUTES = [settings_instance, settings_instance_save]
