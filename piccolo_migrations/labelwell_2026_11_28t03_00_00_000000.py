"""Agreement and review: stored agreement per task, pair, label and category; review decisions on
annotations; the task's review history; ground-truth checks in the queue."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

ID = "2026-11-28T03:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Agreement tables, review state on annotations, task events, ground-truth checks"


class RawSQL(Table):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="labelwell", description=DESCRIPTION)

    async def create():
        pg = isinstance(engine_finder(), PostgresEngine)
        key = "SERIAL PRIMARY KEY" if pg else "INTEGER PRIMARY KEY AUTOINCREMENT"
        json_type, stamp = ("JSONB", "TIMESTAMPTZ") if pg else ("JSON", "TIMESTAMPTZ")
        fk = "INTEGER NOT NULL REFERENCES {table} (id) ON DELETE CASCADE"
        project, task = fk.format(table="lw_project"), fk.format(table="lw_task")
        for sql in (
            "ALTER TABLE lw_project ADD COLUMN ground_truth_checks INTEGER NOT NULL DEFAULT 0",
            # bumped whenever a task's stored agreement changes: the cached summary knows it is old
            "ALTER TABLE lw_project ADD COLUMN agreement_version INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE lw_annotation ADD COLUMN review_state VARCHAR(16) NOT NULL DEFAULT ''",
            "ALTER TABLE lw_annotation ADD COLUMN review_comment TEXT NOT NULL DEFAULT ''",
            # a reviewer's adjudication draft is not their labelling draft of the same task
            "ALTER TABLE lw_annotation_draft ADD COLUMN purpose VARCHAR(16) NOT NULL DEFAULT ''",
            f"""CREATE TABLE lw_task_event (id {key}, project {project}, task {task},
                "user" INTEGER NULL REFERENCES lw_user (id) ON DELETE SET NULL, action VARCHAR(32) NOT NULL,
                annotation INTEGER NULL, detail {json_type} NOT NULL DEFAULT '{{{{}}}}',
                created_at {stamp} NOT NULL DEFAULT CURRENT_TIMESTAMP)""",
            f"""CREATE TABLE lw_agreement_pair (id {key}, project {project}, task {task},
                control VARCHAR(255) NOT NULL, user_a INTEGER NOT NULL, user_b INTEGER NOT NULL,
                score DOUBLE PRECISION NOT NULL)""",
            f"""CREATE TABLE lw_agreement_label (id {key}, project {project}, task {task},
                label VARCHAR(255) NOT NULL, score DOUBLE PRECISION NOT NULL)""",
            f"""CREATE TABLE lw_agreement_choice (id {key}, project {project}, task {task},
                control VARCHAR(255) NOT NULL, "user" INTEGER NOT NULL, category TEXT NOT NULL)""",
            f"""CREATE TABLE lw_agreement_summary (id {key}, project {project} UNIQUE, version INTEGER NOT NULL,
                data {json_type} NOT NULL, computed_at {stamp} NOT NULL)""",
            "CREATE INDEX lw_task_event_task ON lw_task_event (task, id)",
            "CREATE INDEX lw_task_event_project ON lw_task_event (project, id)",
            "CREATE INDEX lw_agreement_pair_task ON lw_agreement_pair (task)",
            "CREATE INDEX lw_agreement_pair_project ON lw_agreement_pair (project, control)",
            "CREATE INDEX lw_agreement_label_task ON lw_agreement_label (task)",
            "CREATE INDEX lw_agreement_label_project ON lw_agreement_label (project, label)",
            "CREATE INDEX lw_agreement_choice_task ON lw_agreement_choice (task)",
            "CREATE INDEX lw_agreement_choice_project ON lw_agreement_choice (project, control)",
            # the review queue: a project's tasks by agreement, worst first
            "CREATE INDEX lw_task_agreement ON lw_task (project, agreement, inner_id)",
            # ground-truth checks start from a project's ground truths, not from its tasks
            "CREATE INDEX lw_annotation_truth ON lw_annotation (project, ground_truth)",
            "CREATE INDEX lw_annotation_review ON lw_annotation (project, review_state)",
        ):
            await RawSQL.raw(sql)

    manager.add_raw(create)
    return manager
