"""Media info of uploaded audio and video (app/uploads/mediainfo.py): duration, frame rate, frame
count, sample rate, channels, read once with ffprobe. Raw SQL, the same on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T07:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Media info of uploads"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def add():
        for sql in (
            "ALTER TABLE lw_file_upload ADD COLUMN duration DOUBLE PRECISION NULL",
            "ALTER TABLE lw_file_upload ADD COLUMN frame_rate DOUBLE PRECISION NULL",
            "ALTER TABLE lw_file_upload ADD COLUMN frame_count INTEGER NULL",
            "ALTER TABLE lw_file_upload ADD COLUMN sample_rate INTEGER NULL",
            "ALTER TABLE lw_file_upload ADD COLUMN channels INTEGER NULL",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(add)
    return manager
