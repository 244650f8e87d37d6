"""Export snapshots (Label Studio's /api/projects/{id}/exports): one row per snapshot, its file in
the data folder. Raw SQL, the same on both engines but for the key."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-12-02T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Export snapshots"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        for sql in (
            f"""CREATE TABLE lw_export (id {key},
                project INTEGER NOT NULL REFERENCES lw_project (id) ON DELETE CASCADE,
                title VARCHAR(2048) NOT NULL DEFAULT '',
                created_by INTEGER NULL REFERENCES lw_user (id) ON DELETE SET NULL,
                created_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ NULL,
                status VARCHAR(16) NOT NULL DEFAULT 'created', md5 VARCHAR(32) NOT NULL DEFAULT '',
                counters JSONB NOT NULL, converted_formats JSONB NOT NULL, options JSONB NOT NULL,
                params JSONB NOT NULL, job INTEGER NULL)""",
            "CREATE INDEX lw_export_project ON lw_export (project)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
