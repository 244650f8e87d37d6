"""Indexes for the task list's sort orders (last update, annotation and prediction counts)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T21:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Task list sort indexes"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS lw_task_project_updated ON lw_task (project, updated_at, id)",
    "CREATE INDEX IF NOT EXISTS lw_task_project_annotations ON lw_task (project, total_annotations, id)",
    "CREATE INDEX IF NOT EXISTS lw_task_project_predictions ON lw_task (project, total_predictions, id)",
    "CREATE INDEX IF NOT EXISTS lw_file_upload_project_sha ON lw_file_upload (project, sha256)",
    # covers the task list's default order with the id, so a deep page is found in the index alone
    "CREATE INDEX IF NOT EXISTS lw_task_project_inner_id ON lw_task (project, inner_id, id)",
]


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create_indexes():
        for sql in INDEXES:
            await RawSQL.raw(sql)

    manager.add_raw(create_indexes)
    return manager
