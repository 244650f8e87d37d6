"""Webhooks (app/webhooks): the webhooks, their deliveries (the outbox) and each attempt.

Raw SQL, the same on both engines but for the key: the per-webhook index on (webhook, id) is what
the sender walks in order, and (state, next_attempt_at) what the sweep reads.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-12-02T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Webhooks, deliveries and attempts"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        for sql in (
            f"""CREATE TABLE lw_webhook (id {key},
                project INTEGER NOT NULL REFERENCES lw_project (id) ON DELETE CASCADE,
                url VARCHAR(2048) NOT NULL, send_payload BOOLEAN NOT NULL DEFAULT TRUE,
                send_for_all_actions BOOLEAN NOT NULL DEFAULT TRUE, headers JSONB NOT NULL,
                is_active BOOLEAN NOT NULL DEFAULT TRUE, actions JSONB NOT NULL,
                secret VARCHAR(128) NOT NULL DEFAULT '',
                created_by INTEGER NULL REFERENCES lw_user (id) ON DELETE SET NULL,
                created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX lw_webhook_project ON lw_webhook (project)",
            f"""CREATE TABLE lw_webhook_delivery (id {key},
                webhook INTEGER NOT NULL REFERENCES lw_webhook (id) ON DELETE CASCADE,
                project INTEGER NOT NULL, action VARCHAR(64) NOT NULL, uid VARCHAR(64) NOT NULL,
                body TEXT NOT NULL, state VARCHAR(16) NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TIMESTAMPTZ NOT NULL,
                locked_until TIMESTAMPTZ NULL, status_code INTEGER NULL, error TEXT NOT NULL DEFAULT '',
                created_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ NULL)""",
            "CREATE INDEX lw_webhook_delivery_webhook ON lw_webhook_delivery (webhook, id)",
            "CREATE INDEX lw_webhook_delivery_due ON lw_webhook_delivery (state, next_attempt_at)",
            f"""CREATE TABLE lw_webhook_attempt (id {key},
                delivery INTEGER NOT NULL REFERENCES lw_webhook_delivery (id) ON DELETE CASCADE,
                attempt INTEGER NOT NULL, status_code INTEGER NULL, duration_ms INTEGER NOT NULL DEFAULT 0,
                error TEXT NOT NULL DEFAULT '', created_at TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX lw_webhook_attempt_delivery ON lw_webhook_attempt (delivery)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
