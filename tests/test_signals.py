"""`labelwell serve` stops with its worker on SIGTERM (a supervisor's stop) and SIGINT (Ctrl-C),
sent to its main process only: within 10 s, nothing of it left running, and the job in hand
either finished or handed back (failed as interrupted, for Retry)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.test_crash_jobs import TOKEN, gated_job, kill, serve, until

STOP_SECONDS = 10  # what `docker stop` waits before it kills


def session(sid: int) -> list[str]:
    """The live processes of a session (the server was started as the leader of its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rpartition(b")")[2].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                command = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] not in (b"Z", b"X"):
            found.append(f"{entry} {command}")
    return found


def stopped_by(srv, sig: signal.Signals, after_signal=lambda: None) -> None:
    leader = srv.process.pid
    assert len(session(leader)) >= 3, session(leader)  # the server, its worker and the worker's pool process
    os.kill(leader, sig)  # the main process only, as a supervisor does
    after_signal()
    try:
        srv.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"labelwell serve still runs {STOP_SECONDS} s after {sig.name}:\n{srv.log()[-3000:]}")
    deadline = time.monotonic() + 2  # a process killed last may take a moment to leave the table
    while (left := session(leader)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert left == [], f"left running after {sig.name}: {left}"


# the signal handling is the same code whatever the engine; each engine has one of the two
# ways a job ends (finished, or handed back, which writes to the database as the server stops)
@pytest.mark.parametrize(("sig", "engine", "answers"), [(signal.SIGTERM, "sqlite", True),
                                                        (signal.SIGINT, "postgres", False)],
                         ids=["SIGTERM-sqlite-finishes", "SIGINT-postgres-hands-back"])
def test_a_signal_stops_server_and_worker_within_10_s_and_the_job_in_hand_finishes_or_is_handed_back(
        sig, engine, answers, tmp_path, database_url_factory, ml_backend):
    gate = tmp_path / "gate"
    srv = serve(tmp_path / "data", database_url_factory(engine))
    try:
        with srv.client(token=TOKEN) as api:
            project, job_id = gated_job(api, ml_backend, gate)
            until(api, job_id, "running")
        # the model answers once the stop has begun, or never
        stopped_by(srv, sig, gate.touch if answers else lambda: None)
        job = srv.query("SELECT state, error FROM lw_job WHERE id = $1", job_id)[0]
        if answers:  # a warm shutdown: the job finished
            assert job == {"state": "done", "error": ""}
            assert len(srv.query("SELECT id FROM lw_prediction WHERE project = $1", project["id"])) == 2
        else:  # stopped cold after its time to finish: failed as interrupted, for Retry
            assert job["state"] == "failed" and job["error"].startswith("Interrupted by a restart"), job
            assert "stopping it cold" in srv.log()
    finally:
        kill(srv)
