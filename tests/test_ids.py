"""Ids are never reused: a row deleted keeps its id to itself, on both engines, and a SQLite
database of an earlier release (tables without AUTOINCREMENT) is converted when the server starts."""

from __future__ import annotations

import sqlite3
import subprocess

from tests.helpers import LABELWELL, ROOT, launch, service_env

SPAN = {"from_name": "label", "to_name": "text", "type": "labels",
        "value": {"start": 0, "end": 3, "text": "Ada", "labels": ["PERSON"]}}


def created(response) -> int:
    assert response.status_code in (200, 201, 202), response.text
    return response.json()["id"]


def test_a_deleted_rows_id_is_never_given_again(server, api, ner_project, make_project):
    """Create the newest row, delete it, create another: the new one gets a bigger id."""
    pid = ner_project["id"]

    def task() -> int:
        return created(api.post("/api/tasks", json={"project": pid, "data": {"text": "Ada Lovelace"}}))

    def annotation(task_id: int) -> int:
        return created(api.post(f"/api/tasks/{task_id}/annotations", json={"result": [SPAN]}))

    def prediction(task_id: int) -> int:
        return created(api.post("/api/predictions", json={"task": task_id, "result": [SPAN], "model_version": "v1"}))

    first = make_project()["id"]
    assert api.delete(f"/api/projects/{first}").status_code == 204
    assert make_project()["id"] > first

    first = task()
    assert api.delete(f"/api/tasks/{first}").status_code == 204
    home = task()
    assert home > first

    first = annotation(home)
    assert api.delete(f"/api/annotations/{first}").status_code == 204
    assert annotation(home) > first

    first = prediction(home)
    assert api.delete(f"/api/predictions/{first}").status_code == 204
    assert prediction(home) > first

    # jobs go with their project
    doomed = make_project()["id"]
    first = created(api.post(f"/api/projects/{doomed}/recount"))
    assert api.delete(f"/api/projects/{doomed}").status_code == 204
    assert api.get(f"/api/jobs/{first}").status_code == 404
    assert created(api.post(f"/api/projects/{pid}/recount")) > first


def schema(path) -> dict[str, str]:
    with sqlite3.connect(path) as conn:
        return {name: sql for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE name LIKE 'lw_%' AND sql IS NOT NULL")}


def dump(path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


def as_the_previous_release(path) -> None:
    """The tables as releases before AUTOINCREMENT made them: the same rows and indexes, the key
    without the word, and no sequence kept for them."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = replace(sql, 'PRIMARY KEY AUTOINCREMENT', 'PRIMARY KEY') "
                     "WHERE type = 'table' AND name LIKE 'lw_%'")
        conn.execute("PRAGMA writable_schema = OFF")
        conn.execute("DELETE FROM sqlite_sequence")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_database_of_the_previous_release_is_converted_on_start(tmp_path, database_url_factory):
    url = database_url_factory("sqlite")
    path = url.removeprefix("sqlite:///")
    env = {"LABELWELL_USER_TOKEN": "tok-ids"}
    srv = launch(tmp_path / "data", url, env)
    try:
        with srv.client(token="tok-ids") as api:
            project = api.post("/api/projects", json={"title": "Old", "label_config": "<View><Text name='text' "
                               "value='$text'/><Labels name='label' toName='text'><Label value='PERSON'/></Labels></View>"})
            pid = created(project)
            tasks = [created(api.post("/api/tasks", json={"project": pid, "data": {"text": f"Ada {i}"}}))
                     for i in range(3)]
            created(api.post(f"/api/tasks/{tasks[0]}/annotations", json={"result": [SPAN]}))
            assert api.delete(f"/api/tasks/{tasks[-1]}").status_code == 204
    finally:
        srv.stop()

    tables = [name for name, sql in schema(path).items() if sql.startswith("CREATE TABLE")]
    before = {table: dump(path, table) for table in tables}
    indexes = {name for name, sql in schema(path).items() if sql.startswith("CREATE") and "INDEX" in sql[:20]}
    as_the_previous_release(path)
    assert not any("AUTOINCREMENT" in schema(path)[t] for t in tables)

    migrated = subprocess.run([*LABELWELL, "migrate"], env=service_env(tmp_path / "data", url), cwd=ROOT,
                              capture_output=True, text=True, timeout=120)  # what every start does first
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    converted = schema(path)
    assert [t for t in tables if "AUTOINCREMENT" not in converted[t]] == []
    assert {t: dump(path, t) for t in tables} == before  # every row, with its id
    assert indexes <= set(converted)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert dict(conn.execute("SELECT name, seq FROM sqlite_sequence"))["lw_task"] == tasks[1]
        # the deleted task's id was forgotten by the old release; from here on no id comes back
        conn.execute("DELETE FROM lw_task WHERE id = ?", (tasks[1],))
        newest = conn.execute("INSERT INTO lw_job (kind) VALUES ('recount') RETURNING id").fetchone()[0]
        conn.execute("DELETE FROM lw_job WHERE id = ?", (newest,))
        assert conn.execute("INSERT INTO lw_job (kind) VALUES ('recount') RETURNING id").fetchone()[0] > newest
        task = conn.execute("INSERT INTO lw_task (project, inner_id) VALUES (?, 100) RETURNING id", (pid,)).fetchone()[0]
        assert task == tasks[1] + 1
