"""Imports that are all there or not there at all: a run per import and the staging tables its
rows wait in until one transaction publishes them (app/data_import/staging.py).

Raw SQL, as the migrations before it: the (run, seq) indexes are composite. The staging tables
have no foreign keys, so staging a batch checks nothing it need not; the publishing INSERT … SELECT
meets lw_task's and lw_annotation's own keys."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-29T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Import runs and their staging tables"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        # a run id is never reused (a reused one could publish a dead run's leftovers); staged
        # rows count up by millions, hence 64 bits on PostgreSQL
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        big_key = "BIGSERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        json_type = "JSONB" if pg else "JSON"
        for sql in (
            f"""CREATE TABLE lw_import (id {key}, project INTEGER NOT NULL,
                state VARCHAR(16) NOT NULL DEFAULT 'staging', owner VARCHAR(255) NOT NULL DEFAULT '',
                total INTEGER NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL, seen_at TIMESTAMPTZ NOT NULL)""",
            f"""CREATE TABLE lw_import_task (id {big_key}, run INTEGER NOT NULL, seq INTEGER NOT NULL,
                data {json_type} NOT NULL, meta {json_type} NOT NULL, file_upload INTEGER NULL,
                done INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
                predicted INTEGER NOT NULL DEFAULT 0, created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL)""",
            f"""CREATE TABLE lw_import_annotation (id {big_key}, run INTEGER NOT NULL, seq INTEGER NOT NULL,
                completed_by INTEGER NULL, result {json_type} NOT NULL, was_cancelled BOOLEAN NOT NULL DEFAULT FALSE,
                ground_truth BOOLEAN NOT NULL DEFAULT FALSE, lead_time DOUBLE PRECISION NOT NULL DEFAULT 0,
                unique_id VARCHAR(64) NOT NULL DEFAULT '', created_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL)""",
            f"""CREATE TABLE lw_import_prediction (id {big_key}, run INTEGER NOT NULL, seq INTEGER NOT NULL,
                result {json_type} NOT NULL, score DOUBLE PRECISION NULL,
                model_version VARCHAR(255) NOT NULL DEFAULT '', created_at TIMESTAMPTZ NOT NULL)""",
            "CREATE INDEX lw_import_task_run ON lw_import_task (run, seq)",
            "CREATE INDEX lw_import_annotation_run ON lw_import_annotation (run, seq)",
            "CREATE INDEX lw_import_prediction_run ON lw_import_prediction (run, seq)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
