"""kill -9 during 100,000-task imports, one in the request and one in the worker at the same time,
each at a seeded random point: after the restart each project holds none of the file's tasks or
all of them, its counters equal its rows, its inner ids run 1…n without a gap, the worker's job has
ended, and a retry imports the file exactly once more. The seed and the kill point are printed
(and in every assertion message); set LABELWELL_CHAOS_SEED to replay one."""

from __future__ import annotations

import os
import random
import signal
import threading
import time

import httpx
import pytest

from tests.conftest import ENGINES
from tests.helpers import Server, launch

TOKEN = "tok-import-crash"
N = 100_000
CONFIG = '<View><Text name="text" value="$text"/></View>'


@pytest.fixture(scope="module")
def tasks_file() -> bytes:
    return "".join(f'{{"text": "task {i}"}}\n' for i in range(N)).encode()


def start(data_dir, database_url: str) -> Server:
    # with the worker beside it, killed with it (one process group)
    return launch(data_dir, database_url, {"LABELWELL_USER_TOKEN": TOKEN}, args=())


def kill9(srv: Server) -> None:
    os.killpg(srv.process.pid, signal.SIGKILL)
    srv.process.wait()


def staged(srv: Server) -> dict[int, int]:
    """Tasks staged so far, per project."""
    return {r["project"]: r["n"] for r in srv.query(
        "SELECT r.project, COUNT(*) AS n FROM lw_import_task t JOIN lw_import r ON r.id = t.run GROUP BY r.project")}


def imports(api: httpx.Client, project: int, body: bytes, background: bool = False) -> httpx.Response:
    query = "&background=true" if background else ""
    return api.post(f"/api/projects/{project}/import?filename=tasks.jsonl{query}", content=body,
                    headers={"Content-Type": "application/x-ndjson"})


def settled(srv: Server, project: int, what: str) -> int:
    """The project after a crash: none of an import or all of it, counters equal to the rows,
    inner ids 1…n without a gap or a double. Returns n."""
    rows = srv.query("SELECT COUNT(*) AS n, COUNT(DISTINCT inner_id) AS ids, COALESCE(MIN(inner_id), 1) AS low, "
                     "COALESCE(MAX(inner_id), 0) AS high FROM lw_task WHERE project = $1", project)[0]
    counters = srv.query("SELECT task_number, next_inner_id, finished_task_number FROM lw_project WHERE id = $1",
                         project)[0]
    n = rows["n"]
    assert n % N == 0, f"{what}: project {project} has {n:,} tasks, a part of an import"
    assert counters["task_number"] == n and counters["finished_task_number"] == 0, f"{what}: {counters}, {n:,} rows"
    assert (rows["ids"], rows["low"], rows["high"], counters["next_inner_id"]) == (n, 1, n, n + 1), f"{what}: {rows}"
    return n


@pytest.mark.parametrize("engine", ENGINES)
def test_kill9_during_imports_leaves_all_or_nothing(tmp_path, database_url_factory, engine, tasks_file):
    seed = int(os.environ.get("LABELWELL_CHAOS_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    # a point while staging or, one time in eleven, once all is staged: while it publishes
    targets = {"request": min(N, int(rng.random() * 1.1 * N)), "worker": min(N, int(rng.random() * 1.1 * N))}
    print(f"seed {seed}: kill once the request has staged {targets['request']:,} tasks "
          f"and the worker {targets['worker']:,}")
    srv = start(tmp_path, database_url_factory(engine))
    what = f"seed {seed}, targets {targets}"
    try:
        api = srv.client(token=TOKEN, timeout=120)
        projects = {k: api.post("/api/projects", json={"title": k, "label_config": CONFIG}).json()["id"]
                    for k in targets}
        answered: list = []
        request = threading.Thread(target=lambda: answered.append(_quietly(imports, api, projects["request"],
                                                                           tasks_file)), daemon=True)
        request.start()
        queued = imports(api, projects["worker"], tasks_file, background=True)
        assert queued.status_code == 202, queued.text
        job_id = queued.json()["id"]
        over = {"request": lambda: bool(answered),
                "worker": lambda: api.get(f"/api/jobs/{job_id}").json()["state"] in ("done", "failed")}

        deadline, polls, seen = time.monotonic() + 90, 0, {}
        while True:
            polls += 1
            seen = staged(srv)
            ready = {k: seen.get(projects[k], 0) >= targets[k] or over[k]() for k in targets}
            if all(ready.values()):
                break
            assert time.monotonic() < deadline and polls < 20_000, f"{what}: no kill point in 90 s, staged {seen}"
            time.sleep(0.01)
        kill9(srv)
        what += f"; killed with {seen.get(projects['request'], 0):,} / {seen.get(projects['worker'], 0):,} staged"
        print(what)
        request.join(30)

        srv = start(srv.data_dir, srv.database_url)
        api = srv.client(token=TOKEN, timeout=120)
        before = {k: settled(srv, projects[k], what) for k in targets}
        # the retry, while the worker comes up and ends (or finishes) the job it lost; other writers
        # get the database while it stages (it never holds the write lock for the whole import)
        answered.clear()
        retry = threading.Thread(target=lambda: answered.append(imports(api, projects["request"], tasks_file)))
        retry.start()
        wrote_while_staging, polls = False, 0
        while not answered and not wrote_while_staging and polls < 5_000:
            polls += 1
            if staged(srv).get(projects["request"], 0):
                assert api.post("/api/projects", json={"title": "meanwhile"}).status_code == 201
                wrote_while_staging = staged(srv).get(projects["request"], 0) > 0  # still staging, not published
            time.sleep(0.01)
        retry.join(120)
        retried = answered[0]
        assert retried.status_code == 201 and retried.json()["task_count"] == N, retried.text[:300]
        assert wrote_while_staging, f"{what}: no other write got through while the retry was staging"
        assert settled(srv, projects["request"], what + "; retried") == before["request"] + N

        deadline = time.monotonic() + 60
        while (job := api.get(f"/api/jobs/{job_id}").json())["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, f"{what}: the import job is still {job['state']} 60 s after the restart"
            time.sleep(0.2)
        assert settled(srv, projects["worker"], what + f"; job {job['state']}") in (before["worker"], N)
        assert (srv.query("SELECT COUNT(*) AS n FROM lw_import")[0]["n"], staged(srv)) == (0, {}), what
    finally:
        if srv.process.poll() is None:
            kill9(srv)  # what it holds is of no more use: no need to wait for a clean stop


def _quietly(call, *args):
    """The request whose server is killed under it ends in a transport error: that is expected."""
    try:
        return call(*args)
    except httpx.TransportError as exc:
        return exc
