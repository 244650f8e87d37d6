"""A real Celery worker, on the embedded filesystem broker, runs jobs against each database."""

from __future__ import annotations

from tests.helpers import wait_job


def test_worker_runs_a_queued_job(server, api, make_project):
    project = make_project()
    queued = api.post(f"/api/projects/{project['id']}/recount")
    assert queued.status_code == 202 and queued.json()["state"] == "queued"
    worker = server.start_worker()
    job = wait_job(api, queued.json()["id"])
    assert worker.poll() is None
    assert job["state"] == "done", job["error"]
    assert job["result"]["task_number"] == 0 and job["finished_at"]


def test_jobs_of_hidden_projects_are_not_visible(server, api, make_user, make_project):
    project = make_project()
    job = api.post(f"/api/projects/{project['id']}/recount").json()
    user = make_user("annotator")
    token = server.query("SELECT key FROM lw_api_token WHERE \"user\" = $1", user["id"])[0]["key"]
    assert server.client(token=token).get(f"/api/jobs/{job['id']}").status_code == 404


def test_serve_starts_its_own_worker_with_no_broker_server(tmp_path, database_url_factory):
    from tests.helpers import launch

    elsewhere = tmp_path / "elsewhere"  # where an operator happens to start it
    elsewhere.mkdir()
    srv = launch(tmp_path / "data", database_url_factory("sqlite"), {"LABELWELL_USER_TOKEN": "tok-embedded"}, args=(),
                 cwd=elsewhere)
    try:
        with srv.client(token="tok-embedded") as api:
            project = api.post("/api/projects", json={"title": "Embedded"}).json()
            job = wait_job(api, api.post(f"/api/projects/{project['id']}/recount").json()["id"])
        assert job["state"] == "done"
        # the filesystem transport, its exchange tables included, in the data folder and nowhere else
        assert (tmp_path / "data" / "broker" / "queue").is_dir()
        assert (tmp_path / "data" / "broker" / "control").is_dir()
        assert list(elsewhere.iterdir()) == []
    finally:
        srv.stop()
