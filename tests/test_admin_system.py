"""The settings area's health and jobs pages, the worker heartbeat behind them, and retrying a failed job."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

from tests.helpers import browser, html, submit, text_of, wait_job


def moment(server, minutes_ago: float = 0):
    """A timestamp as each engine's driver takes it (the app writes SQLite's with microseconds)."""
    value = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago)
    return value if server.engine == "postgres" else value.isoformat(sep=" ", timespec="microseconds")


def insert_job(server, project_id: int, state: str, error: str = "", minutes_ago: float = 0) -> int:
    admin = server.query("SELECT id FROM lw_user WHERE email = $1", server.admin_email)[0]["id"]
    return server.query(
        "INSERT INTO lw_job (kind, project, created_by, state, progress, total, params, result, error, created_at) "
        "VALUES ('recount', $1, $2, $3, 0, 0, '{}', '{}', $4, $5) RETURNING id",
        project_id, admin, state, error, moment(server, minutes_ago))[0]["id"]


def stop_worker(server, proc) -> None:
    # the whole process group: `labelwell worker` runs Celery as its child, which a SIGTERM asks
    # for a warm shutdown; that ends a moment after this returns
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    server.workers.remove(proc)


def check(response, key: str) -> tuple[str, str]:
    """(ok|problem, sentence) of one health check on a page."""
    item = html(response).cssselect(f"#check-{key}")[0]
    return item.get("class").split()[-1].removeprefix("check-"), " ".join(item.text_content().split())


def test_system_pages_are_for_admins_only(server, make_user):
    for role in ("reviewer", "annotator"):
        user = make_user(role)
        client = browser(server, user["email"], user["password"])
        assert client.get("/settings/health").status_code == 403
        assert client.get("/settings/jobs").status_code == 403
        assert submit(client, "/projects", "/settings/jobs/1/retry", {}).status_code == 403
        token = server.query("SELECT key FROM lw_api_token WHERE \"user\" = $1", user["id"])[0]["key"]
        assert server.client(token=token).get("/api/health").status_code == 403


def test_health_page_names_the_engine_migrations_and_disk(server, api):
    page = browser(server).get("/settings/health")
    assert page.status_code == 200
    engine = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[server.engine]
    state, sentence = check(page, "database")
    assert state == "ok" and engine in sentence
    state, sentence = check(page, "migrations")
    assert state == "ok" and "migrations are applied" in sentence
    assert "free of" in check(page, "disk")[1] and str(server.data_dir) in check(page, "disk")[1]
    assert check(page, "broker")[0] == "ok"  # the embedded filesystem broker: its folder exists
    report = api.get("/api/health").json()
    checks = {c["key"]: c for c in report["checks"]}
    assert checks["database"]["facts"]["Engine"] == engine and checks["migrations"]["ok"]


def test_heartbeat_failed_jobs_and_retry(server, api, make_project):
    # every worker of this machine is celery@<host>, one heartbeat row: stop the session's others
    for proc in list(server.workers):
        stop_worker(server, proc)
    admin = browser(server)
    project = make_project()
    failed = insert_job(server, project["id"], "failed", "RuntimeError: the counters went wrong")
    stale = insert_job(server, project["id"], "queued", minutes_ago=10)
    server.query("INSERT INTO lw_worker (name, pid, broker, started_at, seen_at) VALUES ('ghost@old', 1, '', $1, $2)",
                 moment(server, 5), moment(server, 5))
    try:
        jobs = admin.get("/settings/jobs")
        assert text_of(jobs, f"#job-{failed} .job-error") == ["RuntimeError: the counters went wrong"]
        assert project["title"] in text_of(jobs, f"#job-{failed}")[0]
        assert "no worker is running: start labelwell worker" in text_of(jobs, "#stale-jobs")[0]
        state, sentence = check(jobs, "worker")
        assert state == "problem" and "ghost@old" in sentence and "5 min ago" in sentence
        server.query("DELETE FROM lw_job WHERE id = $1", stale)

        worker = server.start_worker()
        deadline = time.monotonic() + 20
        while check(health := admin.get("/settings/health"), "worker")[0] != "ok":
            assert time.monotonic() < deadline, f"no heartbeat within 20 s: {check(health, 'worker')}"
            time.sleep(0.3)
        assert sorted(text_of(health, "#workers tbody td:last-child")) == ["not reachable", "reachable"]

        assert submit(admin, "/settings/jobs", f"/settings/jobs/{failed}/retry", {}).status_code == 302
        jobs = admin.get("/settings/jobs")
        retried = int(text_of(jobs, f"#job-{failed} .retried-as")[0].removeprefix("retried as job "))
        assert f"queued again as job {retried}" in text_of(jobs, ".flash-success")[0]
        assert wait_job(api, retried)["state"] == "done"
        done = admin.get("/settings/jobs", params={"state": "done", "kind": "recount"})
        assert f"retry of {failed}" in text_of(done, f"#job-{retried}")[0]

        refused = submit(admin, "/settings/jobs", f"/settings/jobs/{retried}/retry", {})
        assert refused.status_code == 409 and "only a failed job can be retried" in refused.text
        again = submit(admin, "/settings/jobs", f"/settings/jobs/{failed}/retry", {})
        assert again.status_code == 409 and f"already retried as job {retried}" in again.text

        stop_worker(server, worker)
        deadline = time.monotonic() + 20  # Celery finishes its warm shutdown, then leaves the list
        while (state := check(admin.get("/settings/health"), "worker"))[0] != "problem":
            assert time.monotonic() < deadline, f"the stopped worker still counts as running: {state}"
            time.sleep(0.3)
        assert "To fix it, run labelwell worker" in state[1]
    finally:
        server.query("DELETE FROM lw_worker WHERE name = 'ghost@old'")
