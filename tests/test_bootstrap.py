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
        assert "  Admin:     boss@example.com (created now, with LABELWELL_PASSWORD)" in srv.log().splitlines()
        before = srv.query("SELECT id, email, password FROM lw_user")
    finally:
        srv.stop()

    # a second start, even with other values in the environment, changes nothing
    again = launch(tmp_path, url, {**env, "LABELWELL_PASSWORD": "other-pass-2", "LABELWELL_USER_TOKEN": "other-tok"})
    try:
        assert again.query("SELECT id, email, password FROM lw_user") == before
        assert again.client(token="scripted-token-123").get("/api/current-user/whoami").status_code == 200
        assert again.client(token="other-tok").get("/api/current-user/whoami").status_code == 401
        assert "Admin:" not in again.log()
        applied = again.query("SELECT * FROM migration WHERE app_name = 'labelwell'")
        assert len(applied) == len(list((ROOT / "piccolo_migrations").glob("labelwell_*.py")))  # once, not again
    finally:
        again.stop()


def test_without_credentials_a_generated_password_is_printed_once(tmp_path, database_url_factory):
    url = database_url_factory("sqlite")
    srv = launch(tmp_path, url, {"LABELWELL_USERNAME": "", "LABELWELL_PASSWORD": ""})  # empty counts as unset
    try:
        match = re.search(r"Admin:     (\S+), password (\S+) \(shown only now", srv.log())
        assert match, srv.log()
        srv.admin_email, srv.admin_password = match.group(1), match.group(2)
        assert srv.admin_email == "admin@localhost"
        browser(srv)
    finally:
        srv.stop()
    again = launch(tmp_path, url)
    try:
        assert "password" not in again.log()
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
        assert "Admin:" not in srv.log()  # there was a user already
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


START = [r"Labelwell \S+ is running: http://localhost:\d+",
         r"  Admin:     admin@localhost, password \S{12,} \(shown only now: change it on the Account page\)",
         r"  Data:      /\S+", r"  Database:  sqlite:////\S+labelwell\.sqlite3 \(\d+ migration\(s\) applied\)",
         r"  Broker:    the data folder \(/\S+/broker\), no broker server needed"]
ROOT_NOTE = r"  Note:      running as root; nothing here needs it: where you can, run Labelwell as a normal user"
READY = r"  Worker:    ready \(1 process\(es\), pid \d+\)"


def test_a_first_start_prints_a_few_lines_a_person_reads(tmp_path, database_url_factory):
    """Line by line: no warnings, no log noise, no contradictions from the migration tool."""
    import os
    import time

    srv = launch(tmp_path, database_url_factory("sqlite"), {"LABELWELL_USERNAME": "", "LABELWELL_PASSWORD": ""},
                 args=("--concurrency", "1"))
    try:
        deadline = time.monotonic() + 60
        while "Worker:" not in srv.log():
            assert time.monotonic() < deadline, srv.log()
            time.sleep(0.1)
        browser_ok = srv.client().get("/login").status_code == 200  # a request adds no line either
        lines = srv.log().splitlines()
    finally:
        srv.stop()
    expected = START + ([ROOT_NOTE] if os.geteuid() == 0 else []) + [READY]
    assert browser_ok and len(lines) == len(expected), "\n".join(lines)
    for line, pattern in zip(lines, expected):
        assert re.fullmatch(pattern, line), (pattern, line)


def test_as_a_normal_user_the_start_says_nothing_of_root(monkeypatch):
    import argparse
    import os

    from app import cli

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    lines = cli.start_lines("127.0.0.1", 8080, 0, None, argparse.Namespace(no_worker=False))
    assert not any("root" in line for line in lines) and "(up to date)" in lines[2]
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert cli.start_lines("0.0.0.0", 8080, 3, None, argparse.Namespace(no_worker=True))[-2:] == [
        "  Worker:    not started here (--no-worker): run `labelwell worker` for background jobs", ROOT_NOTE]


def test_token_command_prints_a_key_that_works_at_once(tmp_path, database_url_factory):
    env = service_env(tmp_path, database_url_factory("sqlite"))
    subprocess.run([*LABELWELL, "createuser", "--email", "bot@example.com", "--password", "robot-pass-1",
                    "--role", "admin"], env=env, cwd=ROOT, check=True, capture_output=True)
    shown = subprocess.run([*LABELWELL, "token", "--email", "Bot@Example.com"], env=env, cwd=ROOT,
                           capture_output=True, text=True)
    assert shown.returncode == 0 and shown.stderr == "", shown.stderr
    key = shown.stdout.strip()
    srv = launch(tmp_path, env["DATABASE_URL"])
    try:
        assert srv.client(token=key).get("/api/current-user/whoami").json()["email"] == "bot@example.com"
        again = subprocess.run([*LABELWELL, "token", "--email", "bot@example.com", "--reset"], env=env, cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        assert again != key
        assert srv.client(token=key).get("/api/current-user/whoami").status_code == 401
        assert srv.client(token=again).get("/api/current-user/whoami").status_code == 200
        import label_studio_sdk

        assert label_studio_sdk.Client(url=srv.base_url, api_key=again).check_connection()["status"] == "UP"
    finally:
        srv.stop()
    missing = subprocess.run([*LABELWELL, "token", "--email", "nobody@example.com"], env=env, cwd=ROOT,
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "no active user" in missing.stderr
