"""The built-in model (app/learning): each project's switch and counters, the versions it trained
(their training set size, cross-validated quality and the fitted model itself, so any worker or
`labelwell model serve` can load it), and the indexes that let uncertainty sampling walk a model
version's predictions from the least sure up instead of scanning the project's tasks. Raw SQL,
both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-12-03T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The built-in model and the uncertainty index"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        blob = "BYTEA" if pg else "BLOB"
        for sql in (
            f"""CREATE TABLE lw_builtin_model (id {key},
                project INTEGER NOT NULL REFERENCES lw_project (id) ON DELETE CASCADE,
                enabled BOOLEAN NOT NULL DEFAULT FALSE, train_every INTEGER NOT NULL DEFAULT 20,
                pending INTEGER NOT NULL DEFAULT 0, next_number INTEGER NOT NULL DEFAULT 1,
                active_version VARCHAR(255) NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
                updated_at TIMESTAMPTZ NOT NULL)""",
            "CREATE UNIQUE INDEX lw_builtin_model_project ON lw_builtin_model (project)",
            f"""CREATE TABLE lw_model_run (id {key},
                project INTEGER NOT NULL REFERENCES lw_project (id) ON DELETE CASCADE,
                number INTEGER NOT NULL, version VARCHAR(255) NOT NULL,
                examples INTEGER NOT NULL, available INTEGER NOT NULL, seconds DOUBLE PRECISION NOT NULL,
                quality JSONB NOT NULL, learned JSONB NOT NULL, model {blob} NOT NULL,
                created_at TIMESTAMPTZ NOT NULL)""",
            "CREATE UNIQUE INDEX lw_model_run_number ON lw_model_run (project, number)",
            "CREATE INDEX lw_prediction_certainty ON lw_prediction (project, model_version, score, task)",
            # the version predicted last, when a project names none: one seek, not a sort
            "CREATE INDEX lw_prediction_newest ON lw_prediction (project, id)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
