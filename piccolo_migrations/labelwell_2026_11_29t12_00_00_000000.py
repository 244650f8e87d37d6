"""Who runs a job: lw_job.worker names the worker process that started it (app/system/recovery.py),
so a job whose worker died is found and failed, and a second delivery of a job someone still runs
is dropped. Raw SQL, as the migrations before it; the same on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-29T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The worker that runs a job"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def add_column():
        await RawSQL.raw("ALTER TABLE lw_job ADD COLUMN worker VARCHAR(255) NOT NULL DEFAULT ''")

    manager.add_raw(add_column)
    return manager
