"""The labelling workspace: per-user hotkeys, and drafts that know their prediction and revision."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-28T00:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Workspace: user hotkeys, draft prediction and revision, lock page"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def add_columns():
        json_type = "JSONB" if isinstance(engine_finder(), PostgresEngine) else "JSON"
        for sql in (
            # raw() reads {} as a placeholder: doubled braces are a literal '{}'
            f"ALTER TABLE lw_user ADD COLUMN hotkeys {json_type} NOT NULL DEFAULT '{{{{}}}}'",
            "ALTER TABLE lw_annotation_draft ADD COLUMN parent_prediction INTEGER NULL",
            # the browser's change counter: a late, older draft request never overwrites a newer one
            "ALTER TABLE lw_annotation_draft ADD COLUMN revision BIGINT NOT NULL DEFAULT 0",
            # which workspace page holds a lock: a page that is left lets go of its own hold only
            "ALTER TABLE lw_task_lock ADD COLUMN page VARCHAR(64) NOT NULL DEFAULT ''",
            "CREATE INDEX IF NOT EXISTS lw_annotation_unique_id ON lw_annotation (completed_by, unique_id)",
            "CREATE INDEX IF NOT EXISTS lw_lock_user ON lw_task_lock (\"user\", task)",
            # the queue with several annotators per task: tasks in progress first, then in order
            "CREATE INDEX IF NOT EXISTS lw_task_queue_breadth ON lw_task (project, is_labeled, total_annotations DESC, inner_id)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(add_columns)
    return manager
