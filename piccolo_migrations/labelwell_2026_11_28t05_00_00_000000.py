"""Administration: instance settings kept in the database, an audit log, server-side sessions,
one-time invite and reset links, login throttling and the worker's heartbeat."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-28T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Instance settings, audit log, sessions, invites, login throttling, worker heartbeat"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        json_type = "JSONB" if pg else "JSON"
        user_fk = "INTEGER {null} REFERENCES lw_user (id) ON DELETE {action}"
        owner, by = user_fk.format(null="NOT NULL", action="CASCADE"), user_fk.format(null="NULL", action="SET NULL")
        for sql in (
            f"""CREATE TABLE lw_instance_setting (id {key}, key VARCHAR(64) NOT NULL UNIQUE,
                value {json_type} NOT NULL, updated_by {by}, updated_at TIMESTAMPTZ NOT NULL)""",
            # project is a plain integer, not a foreign key: the log outlives what it talks about
            f"""CREATE TABLE lw_audit_event (id {key}, actor {by}, actor_email VARCHAR(254) NOT NULL DEFAULT '',
                actor_role VARCHAR(16) NOT NULL DEFAULT '', action VARCHAR(64) NOT NULL,
                project INTEGER NULL, target VARCHAR(64) NOT NULL DEFAULT '', summary TEXT NOT NULL DEFAULT '',
                detail {json_type} NOT NULL DEFAULT '{{{{}}}}', method VARCHAR(8) NOT NULL DEFAULT '',
                path VARCHAR(512) NOT NULL DEFAULT '', created_at TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX lw_audit_event_created ON lw_audit_event (created_at, id)",
            "CREATE INDEX lw_audit_event_actor ON lw_audit_event (actor, id)",
            "CREATE INDEX lw_audit_event_action ON lw_audit_event (action, id)",
            "CREATE INDEX lw_audit_event_project ON lw_audit_event (project, id)",
            # the cookie carries a random key; the table holds its hash, so a database dump opens no session
            f"""CREATE TABLE lw_session (id {key}, key_hash VARCHAR(64) NOT NULL UNIQUE, "user" {owner},
                created_at TIMESTAMPTZ NOT NULL, last_seen TIMESTAMPTZ NOT NULL,
                ip VARCHAR(64) NOT NULL DEFAULT '', user_agent VARCHAR(255) NOT NULL DEFAULT '')""",
            "CREATE INDEX lw_session_user ON lw_session (\"user\")",
            # sessions are rows now: a user's sessions end by deleting them, not by an epoch
            "ALTER TABLE lw_user DROP COLUMN session_epoch",
            f"""CREATE TABLE lw_invite (id {key}, token_hash VARCHAR(64) NOT NULL UNIQUE, "user" {owner},
                created_by {by}, purpose VARCHAR(16) NOT NULL, created_at TIMESTAMPTZ NOT NULL,
                expires_at TIMESTAMPTZ NOT NULL, used_at TIMESTAMPTZ NULL)""",
            "CREATE INDEX lw_invite_user ON lw_invite (\"user\")",
            f"""CREATE TABLE lw_login_failure (id {key}, key VARCHAR(300) NOT NULL UNIQUE,
                failures INTEGER NOT NULL DEFAULT 0, first_at TIMESTAMPTZ NOT NULL, locked_until TIMESTAMPTZ NULL)""",
            f"""CREATE TABLE lw_worker (id {key}, name VARCHAR(255) NOT NULL UNIQUE, pid INTEGER NOT NULL DEFAULT 0,
                broker VARCHAR(255) NOT NULL DEFAULT '', started_at TIMESTAMPTZ NOT NULL,
                seen_at TIMESTAMPTZ NOT NULL)""",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
