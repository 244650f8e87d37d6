"""Cloud storages (app/storages): a project's import and export storages, the links from an
import storage's objects to the tasks they became, and the export storages' outbox. The unique
(storage, key, row_index) index is what keeps a re-sync, or two syncs at once, from making a task
twice. Raw SQL, both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-12-03T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Cloud storages and their task links"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        for sql in (
            f"""CREATE TABLE lw_storage (id {key},
                project INTEGER NOT NULL REFERENCES lw_project (id) ON DELETE CASCADE,
                role VARCHAR(16) NOT NULL, kind VARCHAR(16) NOT NULL, title VARCHAR(256) NULL,
                description TEXT NULL, config JSONB NOT NULL, secrets TEXT NOT NULL DEFAULT '',
                synchronizable BOOLEAN NOT NULL DEFAULT TRUE,
                status VARCHAR(32) NOT NULL DEFAULT 'initialized', traceback TEXT NULL, meta JSONB NOT NULL,
                last_sync TIMESTAMPTZ NULL, last_sync_count INTEGER NULL, last_sync_job VARCHAR(64) NULL,
                created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX lw_storage_project ON lw_storage (project)",
            f"""CREATE TABLE lw_storage_link (id {key},
                storage INTEGER NOT NULL REFERENCES lw_storage (id) ON DELETE CASCADE,
                task INTEGER NOT NULL REFERENCES lw_task (id) ON DELETE CASCADE,
                key TEXT NOT NULL, row_index INTEGER NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL)""",
            "CREATE UNIQUE INDEX lw_storage_link_key ON lw_storage_link (storage, key, row_index)",
            "CREATE INDEX lw_storage_link_task ON lw_storage_link (task)",
            """CREATE TABLE lw_storage_export (id {key},
                storage INTEGER NOT NULL REFERENCES lw_storage (id) ON DELETE CASCADE,
                annotation INTEGER NOT NULL, state VARCHAR(16) NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0, next_attempt_at TIMESTAMPTZ NOT NULL,
                error TEXT NULL, updated_at TIMESTAMPTZ NOT NULL)""".format(key=key),
            "CREATE UNIQUE INDEX lw_storage_export_one ON lw_storage_export (storage, annotation)",
            "CREATE INDEX lw_storage_export_due ON lw_storage_export (state, next_attempt_at)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
