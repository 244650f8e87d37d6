"""A job whose worker dies does not stay "running" forever: the next worker to start (and every
worker after each heartbeat) marks it failed, "interrupted by a restart", and Retry runs it again.
A job is run once: a second delivery of a job another worker still runs, or of one already
failed or done, is dropped."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
import uuid

import pytest

from app.system.recovery import MACHINE, Owner, _process_start
from tests.conftest import ENGINES
from tests.helpers import Server, browser, launch, submit, text_of, wait_job
from tests.test_ml import NER, connect

TOKEN = "tok-crash"
EMAIL, PASSWORD = "admin@example.com", "crash-" + uuid.uuid4().hex[:8]


def serve(data_dir, url: str, *, worker: bool = True, port: int | None = None) -> Server:
    srv = launch(data_dir, url, {"LABELWELL_USER_TOKEN": TOKEN, "LABELWELL_USERNAME": EMAIL,
                                 "LABELWELL_PASSWORD": PASSWORD}, args=() if worker else ("--no-worker",), port=port)
    srv.admin_email, srv.admin_password, srv.admin_token = EMAIL, PASSWORD, TOKEN
    return srv


def kill(srv: Server) -> None:
    """The end of a test: SIGKILL is enough (a graceful stop waits seconds for Celery)."""
    for proc in [*srv.workers, srv.process]:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    srv.workers.clear()


def port_of(srv: Server) -> int:
    return int(srv.base_url.rsplit(":", 1)[1])


def until(api, job_id: int, state: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while (job := api.get(f"/api/jobs/{job_id}").json())["state"] != state:
        assert time.monotonic() < deadline, f"job {job_id} is {job['state']}, not {state}, after {timeout} s: {job}"
        time.sleep(0.1)
    return job


def gated_job(api, ml_backend, gate) -> tuple[dict, int]:
    """A prediction job that stays running until the file `gate` exists (the model answers then)."""
    project = api.post("/api/projects", json={"title": "Crash " + uuid.uuid4().hex[:6], "label_config": NER}).json()
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"text": "Ada Lovelace"},
                                                                   {"text": "Grace Hopper"}]).status_code == 201
    connect(api, project, ml_backend(2, "gated", gate=gate))
    answer = api.post(f"/api/dm/actions?id=retrieve_tasks_predictions&project={project['id']}",
                      json={"selectedItems": {"all": True}})
    assert answer.status_code == 200, answer.text
    return project, answer.json()["job"]["id"]


def moment(srv: Server, value: dt.datetime):
    """A timestamp as each engine's driver takes it (the app writes SQLite's with microseconds)."""
    return value if srv.engine == "postgres" else value.isoformat(sep=" ", timespec="microseconds")


def insert_job(srv: Server, project_id: int, state: str, worker: str = "", error: str = "") -> int:
    started = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    return srv.query(
        "INSERT INTO lw_job (kind, project, state, progress, total, params, result, error, created_at, started_at, "
        "worker) VALUES ('recount', $1, $2, 0, 0, '{}', '{}', $3, $4, $5, $6) RETURNING id",
        project_id, state, error, moment(srv, started), moment(srv, started) if state == "running" else None,
        worker)[0]["id"]


def beat_as(srv: Server, name: str, pid: int, started: dt.datetime) -> None:
    """A heartbeat row of a worker on another machine, fresh."""
    srv.query("INSERT INTO lw_worker (name, pid, broker, started_at, seen_at) VALUES ($1, $2, '', $3, $4)",
              name, pid, moment(srv, started), moment(srv, dt.datetime.now(dt.timezone.utc)))


def local_owner(pid: int) -> str:
    start = _process_start(pid)[1]
    return Owner("celery@elsewhere", pid, dt.datetime.now(dt.timezone.utc), MACHINE, pid, start).token()


def deliver(srv: Server, *job_ids: int) -> None:
    """Hand the worker a job's message again, as a broker does after a crash or a timeout."""
    from celery import Celery

    folder = srv.data_dir / "broker"
    producer = Celery("deliver", broker="filesystem://")
    producer.conf.broker_transport_options = {
        "data_folder_in": str(folder / "queue"), "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"), "store_processed": False, "control_folder": str(folder / "control")}
    for job_id in job_ids:
        producer.send_task("labelwell.run_job", args=[job_id])


def state_of(srv: Server, job_id: int) -> dict:
    return srv.query("SELECT state, worker, error FROM lw_job WHERE id = $1", job_id)[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_jobs_of_a_killed_worker_fail_at_the_restart_retry_runs_them_and_no_job_runs_twice(
        engine, tmp_path, database_url_factory, ml_backend):
    gate = tmp_path / "gate"
    srv = serve(tmp_path / "data", database_url_factory(engine))
    alive = subprocess.Popen(["sleep", "120"])  # stands for a pool process of another worker on this machine
    dead = subprocess.Popen(["sleep", "120"])
    dead_owner = local_owner(dead.pid)
    dead.kill()
    dead.wait()
    try:
        with srv.client(token=TOKEN) as api:
            project, job_id = gated_job(api, ml_backend, gate)
            until(api, job_id, "running")
        kill(srv)  # the server and its worker, mid-job
        left = state_of(srv, job_id)
        assert left["state"] == "running" and left["worker"].startswith("celery@")  # the broker has nothing more

        # while it is down: jobs of other workers, here and on other machines, alive and gone
        then = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
        beat_as(srv, "celery@far", 4242, then)  # still beating
        beat_as(srv, "celery@again", 4444, then + dt.timedelta(minutes=1))  # restarted: a newer process beats
        pid = project["id"]
        others = {"alive here": insert_job(srv, pid, "running", local_owner(alive.pid)),
                  "dead here": insert_job(srv, pid, "running", dead_owner),
                  "alive there": insert_job(srv, pid, "running", Owner("celery@far", 4242, then, "elsewhere", 7, "1").token()),
                  "restarted there": insert_job(srv, pid, "running",
                                                Owner("celery@again", 4343, then, "elsewhere", 7, "1").token())}
        tokens = {what: state_of(srv, job)["worker"] for what, job in others.items()}

        srv = serve(srv.data_dir, srv.database_url, port=port_of(srv))
        with srv.client(token=TOKEN) as api:
            failed = until(api, job_id, "failed")  # the new worker's first heartbeat finds it
            assert failed["error"].startswith("Interrupted by a restart: worker celery@"), failed["error"]
            assert failed["worker"] in failed["error"] and failed["finished_at"]
            for what in ("dead here", "restarted there"):
                assert until(api, others[what], "failed")["error"].startswith("Interrupted by a restart"), what
            for what in ("alive here", "alive there"):
                assert state_of(srv, others[what]) == {"state": "running", "worker": tokens[what], "error": ""}, what

            # deliveries again, as a broker makes after a crash or a timeout: of a job running
            # elsewhere, of failed ones, of a queued one twice
            queued = insert_job(srv, pid, "queued")
            late = insert_job(srv, pid, "running", dead_owner)  # perhaps not seen by a check yet
            deliver(srv, others["alive here"], others["dead here"], late, queued, queued)

            admin = browser(srv)
            page = admin.get("/settings/jobs")
            assert text_of(page, f"#job-{job_id} .job-error") == [failed["error"]]
            assert text_of(page, f"#job-{others['alive here']} .job-worker") == ["on celery@elsewhere"]
            assert submit(admin, "/settings/jobs", f"/settings/jobs/{job_id}/retry", {}).status_code == 302
            retried = int(text_of(admin.get("/settings/jobs"), f"#job-{job_id} .retried-as")[0].split()[-1])
            gate.touch()
            job = wait_job(api, retried)
            assert job["state"] == "done", job
            assert len(api.get(f"/api/predictions?project={pid}").json()) == 2

            # the one worker takes its messages in order: the deliveries came before the retry
            assert state_of(srv, others["alive here"]) == {"state": "running", "worker": tokens["alive here"],
                                                           "error": ""}
            assert state_of(srv, others["dead here"])["state"] == "failed"
            assert state_of(srv, late)["state"] == "failed"  # interrupted, not run again
            assert state_of(srv, late)["error"].startswith("Interrupted by a restart")
            ran = api.get(f"/api/jobs/{queued}").json()
            assert ran["state"] == "done" and ran["worker"].startswith("celery@")
            said = srv.log()
            assert f"job {others['alive here']} is running on celery@elsewhere: this second delivery is dropped" in said
            assert f"job {queued} is done already: this late delivery is dropped" in said
    finally:
        alive.kill()
        alive.wait()
        kill(srv)
