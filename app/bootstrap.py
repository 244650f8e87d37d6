"""What a start does before serving: migrate, open the pool, make sure there is a first admin."""

from __future__ import annotations

import logging

from app import db, instance
from app.accounts import service as accounts
from app.settings import settings

log = logging.getLogger("labelwell")


def admin_lines(created: tuple | None) -> list[str]:
    """What a person reads about the first admin, when this start made one."""
    if created is None:
        return []
    user, generated = created
    if not generated:
        return [f"  Admin:     {user.email} (created now, with LABELWELL_PASSWORD)"]
    # shown this once and never stored in clear: set LABELWELL_PASSWORD to choose it yourself
    return [f"  Admin:     {user.email}, password {generated} (shown only now: change it on the Account page)"]


async def first_admin() -> tuple | None:
    return await accounts.ensure_first_admin(settings.admin_username, settings.admin_password, settings.admin_token)


async def on_startup() -> None:
    """Also run when the app is served some other way than `labelwell serve` (which did all this
    before the server started, and printed it)."""
    await db.migrate()
    await db.open_pool()
    await instance.refresh(force=True)
    for line in admin_lines(await first_admin()):
        print(line.strip(), flush=True)
