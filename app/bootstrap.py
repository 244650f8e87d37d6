"""What a start does before serving: migrate, open the pool, make sure there is a first admin."""

from __future__ import annotations

import logging

from app import db, instance
from app.accounts import service as accounts
from app.settings import settings

log = logging.getLogger("labelwell")


async def first_admin() -> None:
    created = await accounts.ensure_first_admin(
        settings.admin_username, settings.admin_password, settings.admin_token
    )
    if created is None:
        return
    user, generated = created
    print(f"Created the first admin: {user.email}", flush=True)
    if generated:
        # shown this once and never stored in clear: set LABELWELL_PASSWORD to choose it yourself
        print(f"Generated password for {user.email}: {generated}", flush=True)
        print("Change it on the Account page after logging in.", flush=True)


async def on_startup() -> None:
    await db.migrate()
    await db.open_pool()
    await instance.refresh(force=True)
    await first_admin()
