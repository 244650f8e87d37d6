"""Idempotency keys (app/idempotency.py): one row per (user, key), swept after 24 hours.

Raw SQL, as the admin migration before it: the unique (user, key) pair is what makes a key
race-free, and Piccolo declares only single-column constraints. The same SQL on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-29T10:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Idempotency keys"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        for sql in (
            f"""CREATE TABLE lw_idempotency_key (id {key},
                "user" INTEGER NOT NULL REFERENCES lw_user (id) ON DELETE CASCADE,
                key VARCHAR(255) NOT NULL, request_hash VARCHAR(64) NOT NULL, status INTEGER NOT NULL DEFAULT 0,
                response TEXT NOT NULL DEFAULT '', created_at TIMESTAMPTZ NOT NULL)""",
            'CREATE UNIQUE INDEX lw_idempotency_key_user_key ON lw_idempotency_key ("user", key)',
            "CREATE INDEX lw_idempotency_key_created ON lw_idempotency_key (created_at)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
