"""ML backends: the project's pre-labelling switches, and indexes for "has this version predicted it"."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-28T02:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ML backends: evaluate automatically, train on annotation update, prediction indexes"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def add_columns():
        for sql in (
            "ALTER TABLE lw_project ADD COLUMN evaluate_predictions_automatically BOOLEAN NOT NULL DEFAULT TRUE",
            "ALTER TABLE lw_project ADD COLUMN start_training_on_annotation_update BOOLEAN NOT NULL DEFAULT FALSE",
            # retrieving predictions skips tasks this model version already answered
            "CREATE INDEX IF NOT EXISTS lw_prediction_task_version ON lw_prediction (task, model_version)",
            # the model quality page reads one version's predictions at a time
            "CREATE INDEX IF NOT EXISTS lw_prediction_project_version ON lw_prediction (project, model_version)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(add_columns)
    return manager
