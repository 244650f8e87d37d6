"""Personal access tokens (app/tokens/): Label Studio's JWT refresh tokens, kept by id only.
Raw SQL, as the migrations before it; the same on both engines."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-12-02T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Personal access tokens"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        for sql in (
            f"""CREATE TABLE lw_personal_token (id {key},
                "user" INTEGER NOT NULL REFERENCES lw_user (id) ON DELETE CASCADE,
                jti VARCHAR(64) NOT NULL UNIQUE, hint VARCHAR(16) NOT NULL DEFAULT '',
                created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NULL, revoked_at TIMESTAMPTZ NULL,
                last_used TIMESTAMPTZ NULL)""",
            'CREATE INDEX lw_personal_token_user ON lw_personal_token ("user")',
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
