"""kill -9 at random moments while people work: nothing a client was told is saved is lost, and a
client that retries never makes anything twice. Seeded, so a failure can be replayed: the seed
and the kill moments are in the assertion messages."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from contextlib import closing

import httpx
import pytest

from tests.conftest import ENGINES
from tests.helpers import Server, browser, launch
from tests.test_labelling import NER, open_workspace, post, span

TOKEN = "tok-chaos"
ANNOTATORS, TASKS, OVERLAP, KILLS = 8, 120, 2, 3
DEADLINE = 60.0  # seconds for the whole run, restarts included


def kill9(srv: Server) -> None:
    os.killpg(srv.process.pid, signal.SIGKILL)
    srv.process.wait()


def restart(srv: Server, port: int) -> Server:
    again = launch(srv.data_dir, srv.database_url, {"LABELWELL_USER_TOKEN": TOKEN}, port=port)
    srv.process = again.process
    return srv


def start(tmp_path, database_url: str) -> tuple[Server, int]:
    srv = launch(tmp_path, database_url, {"LABELWELL_USER_TOKEN": TOKEN})
    return srv, int(srv.base_url.rsplit(":", 1)[1])


def annotate_until_done(base_url: str, token: str, project_id: int, acked: list, stop: threading.Event) -> None:
    """One annotator: next task, submit with an idempotency key, retry anything that did not answer."""
    client = httpx.Client(base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=5)
    while not stop.is_set():
        try:
            got = client.get(f"/api/projects/{project_id}/next")
            if got.status_code == 404:
                return
            if got.status_code != 200:
                time.sleep(0.05)
                continue
            task = got.json()["id"]
            key = f"submit-{token}-{task}"  # the same work, however many times it is sent
            body = {"result": [{"from_name": "c", "to_name": "text", "type": "choices",
                                "value": {"choices": ["a"]}}], "lead_time": 1.0}
            while not stop.is_set():
                try:
                    answer = client.post(f"/api/tasks/{task}/annotations", json=body, headers={"Idempotency-Key": key})
                except httpx.TransportError:
                    time.sleep(0.05)  # the server is down: the same request again, as any client would
                    continue
                if answer.status_code in (200, 201):
                    acked.append((token, task, answer.json()["id"]))
                    break
                if answer.status_code == 409 and "id" in answer.json():
                    break  # already there (an earlier attempt landed): nothing more to do
                time.sleep(0.05)
        except httpx.TransportError:
            time.sleep(0.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_annotators_retrying_through_kill9_make_each_annotation_once(tmp_path, database_url_factory, engine):
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    srv, port = start(tmp_path, database_url_factory(engine))
    try:
        with srv.client(token=TOKEN) as api:
            config = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices></View>'
            project = api.post("/api/projects", json={"title": "Chaos", "label_config": config,
                                                      "maximum_annotations": OVERLAP}).json()
            assert api.post(f"/api/projects/{project['id']}/import",
                            json=[{"text": f"task {i}"} for i in range(TASKS)]).status_code == 201
            tokens = []
            for i in range(ANNOTATORS):
                user = api.post("/api/users", json={"email": f"a{i}-{uuid.uuid4().hex[:6]}@example.com",
                                                    "password": "chaos-pass-1", "role": "annotator"}).json()
                api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
                tokens.append(srv.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"])
        acked: list[tuple[str, int, int]] = []
        stop = threading.Event()
        workers = [threading.Thread(target=annotate_until_done, args=(srv.base_url, t, project["id"], acked, stop))
                   for t in tokens]
        began = time.monotonic()
        for w in workers:
            w.start()
        moments = []
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 1.2))
            moments.append(round(time.monotonic() - began, 2))
            kill9(srv)
            restart(srv, port)
        for w in workers:
            w.join(max(0.1, DEADLINE - (time.monotonic() - began)))
        stop.set()
        where = f"seed {seed}, kills at {moments} s, {len(acked)} acknowledged"
        assert not any(w.is_alive() for w in workers), f"annotators still working after {DEADLINE} s ({where})"

        rows = srv.query("SELECT id, task, completed_by FROM lw_annotation WHERE project = $1", project["id"])
        per_task = Counter(r["task"] for r in rows)
        assert set(per_task.values()) == {OVERLAP} and len(per_task) == TASKS, where
        assert not [k for k, n in Counter((r["task"], r["completed_by"]) for r in rows).items() if n > 1], where
        assert {a[2] for a in acked} <= {r["id"] for r in rows}, f"an acknowledged annotation is gone ({where})"
        task_counts = srv.query("SELECT id, total_annotations FROM lw_task WHERE project = $1", project["id"])
        assert all(t["total_annotations"] == per_task[t["id"]] for t in task_counts), where
        counters = srv.query("SELECT total_annotations_number, finished_task_number FROM lw_project WHERE id = $1",
                             project["id"])[0]
        assert counters == {"total_annotations_number": TASKS * OVERLAP, "finished_task_number": TASKS}, where
    finally:
        srv.stop()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_draft_acknowledged_survives_kill9(tmp_path, database_url_factory, engine):
    srv, port = start(tmp_path, database_url_factory(engine))
    try:
        with srv.client(token=TOKEN) as api:
            project = api.post("/api/projects", json={"title": "Drafts", "label_config": NER}).json()
            api.post(f"/api/projects/{project['id']}/import", json=[{"text": "Ada met ACME"}])
            email = api.get("/api/current-user/whoami").json()["email"]
            api.patch(f"/api/users/{api.get('/api/current-user/whoami').json()['id']}", json={"password": "chaos-pass-1"})
        with closing(browser(srv, email, "chaos-pass-1")) as web:
            page, fields = open_workspace(web, project["id"])
            saved = post(web, page, "draft", fields, region=[span(8, 12, "ORG")], revision="1")
            assert saved.status_code == 200
        kill9(srv)  # the moment after the answer: nothing more is flushed by the server
        restart(srv, port)
        with closing(browser(srv, email, "chaos-pass-1")) as web:
            again, _ = open_workspace(web, project["id"])
            assert "your draft, restored" in again.text
            assert "ACME" in again.text
    finally:
        srv.stop()
