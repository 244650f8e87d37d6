"""Saved views (the data manager's tabs, app/views/), and the indexes the data manager's filters
need on a million-task project: created_at and cancelled_annotations within a project (the other
counters, updated_at, inner_id and agreement have theirs already).
Raw SQL, as the migrations before it; the same on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-12-02T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Saved views; data manager filter indexes"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        for sql in (
            f"""CREATE TABLE lw_view (id {key},
                project INTEGER NOT NULL REFERENCES lw_project (id) ON DELETE CASCADE,
                "user" INTEGER NULL REFERENCES lw_user (id) ON DELETE SET NULL,
                "order" INTEGER NOT NULL DEFAULT 0, data JSONB NOT NULL,
                created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
            'CREATE INDEX lw_view_project ON lw_view (project, "order", id)',
            "CREATE INDEX IF NOT EXISTS lw_task_project_created ON lw_task (project, created_at, id)",
            "CREATE INDEX IF NOT EXISTS lw_task_project_cancelled ON lw_task (project, cancelled_annotations, id)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
