"""Composite indexes for the queries a million-task project runs (next task, task pages, counts).

Piccolo declares only single-column indexes, and a migration's raw SQL runs before its table
changes, hence a migration of its own. The SQL is the same on SQLite and PostgreSQL.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T20:52:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Composite indexes"

COMPOSITE_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS lw_task_project_inner ON lw_task (project, inner_id)",
    "CREATE INDEX IF NOT EXISTS lw_task_project_labeled ON lw_task (project, is_labeled, inner_id)",
    "CREATE INDEX IF NOT EXISTS lw_annotation_project_user ON lw_annotation (project, completed_by)",
    "CREATE INDEX IF NOT EXISTS lw_annotation_user_task ON lw_annotation (completed_by, task)",
    "CREATE INDEX IF NOT EXISTS lw_prediction_task_version ON lw_prediction (task, model_version)",
    'CREATE UNIQUE INDEX IF NOT EXISTS lw_member_project_user ON lw_project_member (project, "user")',
    'CREATE INDEX IF NOT EXISTS lw_lock_task_user ON lw_task_lock (task, "user")',
    'CREATE INDEX IF NOT EXISTS lw_draft_task_user ON lw_annotation_draft (task, "user")',
]


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create_indexes():
        for sql in COMPOSITE_INDEXES:
            await RawSQL.raw(sql)

    manager.add_raw(create_indexes)
    return manager
