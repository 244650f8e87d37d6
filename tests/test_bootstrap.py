"""First start: migrations and the first admin from the environment; a second start changes nothing."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers import LABELWELL, ROOT, browser, launch, service_env, text_of

ENGINES = ["sqlite", "postgres"]


@pytest.mark.parametrize("engine", ENGINES)
def test_first_start_creates_the_admin_from_the_environment(tmp_path, database_url_factory, engine):
    url = database_url_factory(engine)
    env = {"LABELWELL_USERNAME": "boss@example.com", "LABELWELL_PASSWORD": "first-pass-1",
           "LABELWELL_USER_TOKEN": "scripted-token-123"}
    srv = launch(tmp_path, url, env)
    try:
        me = srv.client(token="scripted-token-123").get("/api/current-user/whoami").json()
        assert me["email"] == "boss@example.com" and me["role"] == "admin"
        srv.admin_email, srv.admin_password = "boss@example.com", "first-pass-1"
        page = browser(srv).get("/projects")
        assert text_of(page, ".empty-state h2") == ["No projects yet"]
        assert text_of(page, ".empty-state a") == ["Create your first project"]
        assert "Created the first admin: boss@example.com" in srv.log()
        before = srv.query("SELECT id, email, password FROM lw_user")
    finally:
        srv.stop()

    # a second start, even with other values in the environment, changes nothing
    again = launch(tmp_path, url, {**env, "LABELWELL_PASSWORD": "other-pass-2", "LABELWELL_USER_TOKEN": "other-tok"})
    try:
        assert again.query("SELECT id, email, password FROM lw_user") == before
        assert again.client(token="scripted-token-123").get("/api/current-user/whoami").status_code == 200
        assert again.client(token="other-tok").get("/api/current-user/whoami").status_code == 401
        assert "Created the first admin" not in again.log()
        applied = again.query("SELECT * FROM migration WHERE app_name = 'labelwell'")
        assert len(applied) == len(list((ROOT / "piccolo_migrations").glob("labelwell_*.py")))  # once, not again
    finally:
        again.stop()


def test_without_credentials_a_generated_password_is_printed_once(tmp_path, database_url_factory):
    url = database_url_factory("sqlite")
    srv = launch(tmp_path, url, {"LABELWELL_USERNAME": "", "LABELWELL_PASSWORD": ""})  # empty counts as unset
    try:
        match = re.search(r"Generated password for (\S+): (\S+)", srv.log())
        assert match, srv.log()
        srv.admin_email, srv.admin_password = match.group(1), match.group(2)
        assert srv.admin_email == "admin@localhost"
        browser(srv)
    finally:
        srv.stop()
    again = launch(tmp_path, url)
    try:
        assert "Generated password" not in again.log()
    finally:
        again.stop()
    assert (tmp_path / "secret_key").exists()


def test_migrate_and_createuser_commands(tmp_path, database_url_factory):
    env = service_env(tmp_path, database_url_factory("sqlite"))
    for _ in range(2):  # idempotent
        subprocess.run([*LABELWELL, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    made = subprocess.run([*LABELWELL, "createuser", "--email", "Rev@Example.com", "--password", "review-pass",
                           "--role", "reviewer"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0 and "Created reviewer rev@example.com" in made.stdout
    duplicate = subprocess.run([*LABELWELL, "createuser", "--email", "rev@example.com", "--password", "review-pass"],
                               env=env, cwd=ROOT, capture_output=True, text=True)
    assert duplicate.returncode == 2 and "already exists" in duplicate.stderr
    srv = launch(tmp_path, env["DATABASE_URL"])
    try:
        assert "Created the first admin" not in srv.log()  # there was a user already
        srv.admin_email, srv.admin_password = "rev@example.com", "review-pass"
        assert text_of(browser(srv).get("/projects"), ".who .role") == ["reviewer"]
    finally:
        srv.stop()


@pytest.mark.parametrize("command", ["serve", "worker", "migrate", "createuser"])
def test_every_command_explains_itself(command):
    out = subprocess.run([*LABELWELL, command, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0
    assert len(out.stdout.split("\n\n")[1].split()) >= 8  # a real description, not just usage
    if command == "serve":
        assert "--no-worker" in out.stdout
