"""A retried request does the work once: `Idempotency-Key` on every API route that creates
something, and one live annotation per person and task without a key (issue 15, item 1)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import launch, start_server

CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="c" toName="text"><Choice value="a"/><Choice value="b"/></Choices></View>"""
KEY = "Idempotency-Key"


def choice(value: str) -> dict:
    return {"id": f"r-{value}", "from_name": "c", "to_name": "text", "type": "choices", "value": {"choices": [value]}}


def new_key() -> str:
    return str(uuid.uuid4())


def keyed(key: str) -> dict:
    return {"headers": {KEY: key}}


@pytest.fixture
def project(make_project):
    return make_project(label_config=CONFIG)


@pytest.fixture
def task(api, project):
    response = api.post("/api/tasks", json={"project": project["id"], "data": {"text": "hello"}})
    assert response.status_code == 201, response.text
    return response.json()


def token_of(server, user: dict) -> str:
    return server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]


def annotator(server, api, project: dict, make_user):
    user = make_user("annotator")
    assert api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"], "role": "annotator"}).status_code < 300
    return user, server.client(token=token_of(server, user))


def annotations_on(server, task_id: int, user_id: int | None = None) -> int:
    if user_id is None:
        return server.query("SELECT COUNT(*) AS n FROM lw_annotation WHERE task = $1", task_id)[0]["n"]
    return server.query("SELECT COUNT(*) AS n FROM lw_annotation WHERE task = $1 AND completed_by = $2",
                        task_id, user_id)[0]["n"]


def assert_replayed(first, second) -> None:
    assert (second.status_code, second.content) == (first.status_code, first.content), second.text
    assert second.headers.get("idempotency-replayed") == "true"
    assert "idempotency-replayed" not in first.headers


def test_the_same_key_twice_makes_one_annotation_and_replays_the_answer(server, api, task):
    key, path, body = new_key(), f"/api/tasks/{task['id']}/annotations", {"result": [choice("a")], "lead_time": 3}
    first = api.post(path, json=body, **keyed(key))
    assert first.status_code == 201, first.text
    second = api.post(path + "/", json=body, **keyed(key))  # Label Studio's trailing slash is the same route
    assert_replayed(first, second)
    assert annotations_on(server, task["id"]) == 1
    assert api.get(f"/api/projects/{task['project']}").json()["total_annotations_number"] == 1


def test_the_same_key_with_another_body_is_refused_naming_the_key(server, api, task):
    key, path = new_key(), f"/api/tasks/{task['id']}/annotations"
    assert api.post(path, json={"result": [choice("a")]}, **keyed(key)).status_code == 201
    other = api.post(path, json={"result": [choice("b")]}, **keyed(key))
    assert other.status_code == 422 and key in other.json()["detail"]
    elsewhere = api.post("/api/tasks", json={"project": task["project"], "data": {"text": "x"}}, **keyed(key))
    assert elsewhere.status_code == 422 and key in elsewhere.json()["detail"]
    assert annotations_on(server, task["id"]) == 1


def test_keys_are_per_user(server, api, project, task, make_user):
    key, body = new_key(), {"result": [choice("a")]}
    ann, ann_api = annotator(server, api, project, make_user)
    mine = api.post(f"/api/tasks/{task['id']}/annotations", json=body, **keyed(key))
    theirs = ann_api.post(f"/api/tasks/{task['id']}/annotations", json=body, **keyed(key))
    assert (mine.status_code, theirs.status_code) == (201, 201) and "idempotency-replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"] and theirs.json()["completed_by"] == ann["id"]
    assert annotations_on(server, task["id"]) == 2


@pytest.mark.parametrize("bad", ["x" * 256, "", "ab\tcd"])
def test_a_malformed_key_is_a_400_naming_the_header(server, api, task, bad):
    response = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": []}, **keyed(bad))
    assert response.status_code == 400 and KEY in response.json()["validation_errors"], response.text
    assert annotations_on(server, task["id"]) == 0
    assert api.post(f"/api/tasks/{task['id']}/annotations", json={"result": []}, **keyed(new_key().ljust(255, "k"))).status_code == 201


def test_a_second_annotation_without_a_key_is_409_with_the_existing_id(server, api, project, task, make_user):
    path = f"/api/tasks/{task['id']}/annotations"
    first = api.post(path, json={"result": [choice("a")]})
    again = api.post(path, json={"result": [choice("b")]})
    assert again.status_code == 409 and again.json()["id"] == first.json()["id"], again.text
    assert f"/api/annotations/{first.json()['id']}" in again.json()["detail"]
    # the way on: PATCH the one it names
    assert api.patch(f"/api/annotations/{again.json()['id']}", json={"result": [choice("b")]}).status_code == 200
    # a skip is that person's annotation too (the workspace updates it in place as well)
    user, ann_api = annotator(server, api, project, make_user)
    skipped = ann_api.post(path, json={"result": [], "was_cancelled": True})
    assert skipped.status_code == 201
    refused = ann_api.post(path, json={"result": [choice("a")]})
    assert refused.status_code == 409 and refused.json()["id"] == skipped.json()["id"]
    assert annotations_on(server, task["id"]) == 2
    # once deleted, it may be made again
    assert ann_api.delete(f"/api/annotations/{skipped.json()['id']}").status_code == 204
    assert ann_api.post(path, json={"result": [choice("a")]}).status_code == 201


def race(server, token: str, calls: list[tuple[str, dict]]) -> list:
    """Send the calls at the same moment, each from its own client."""
    start = threading.Barrier(len(calls), timeout=30)

    def send(call):
        path, kwargs = call
        with server.client(token=token) as client:
            start.wait()
            return client.post(path, **kwargs)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, calls))


def test_two_posts_at_once_make_one_annotation_and_one_409(server, api, project, make_user):
    user, _ = annotator(server, api, project, make_user)
    for round_ in range(4):
        task = api.post("/api/tasks", json={"project": project["id"], "data": {"text": f"t{round_}"}}).json()
        path = f"/api/tasks/{task['id']}/annotations"
        answers = race(server, token_of(server, user), [(path, {"json": {"result": [choice(v)]}}) for v in "ab"])
        assert sorted(a.status_code for a in answers) == [201, 409], [a.text for a in answers]
        created = next(a for a in answers if a.status_code == 201)
        assert next(a for a in answers if a.status_code == 409).json()["id"] == created.json()["id"]
        assert annotations_on(server, task["id"], user["id"]) == 1
        counted = api.get(f"/api/tasks/{task['id']}").json()["total_annotations"]
        assert counted == 1


def test_the_same_key_twice_at_once_does_the_work_once(server, api, project):
    task = api.post("/api/tasks", json={"project": project["id"], "data": {"text": "race"}}).json()
    path, key = f"/api/tasks/{task['id']}/annotations", new_key()
    answers = race(server, server.admin_token, [(path, {"json": {"result": [choice("a")]}, **keyed(key)})] * 2)
    statuses = sorted(a.status_code for a in answers)
    # the second is either told the first is still running, or, if it ran after, given its answer
    assert statuses in ([201, 409], [201, 201]), [a.text for a in answers]
    if statuses == [201, 201]:
        assert answers[0].content == answers[1].content
    assert annotations_on(server, task["id"]) == 1


def test_historical_annotations_by_one_author_still_import(server, api, project):
    me = api.get("/api/current-user/whoami").json()["id"]
    export = [{"data": {"text": "from Label Studio"},
               "annotations": [{"result": [choice("a")], "completed_by": me},
                               {"result": [choice("b")], "completed_by": me}]}]
    imported = api.post(f"/api/projects/{project['id']}/import?return_task_ids=true", json=export)
    assert imported.status_code == 201 and imported.json()["annotation_count"] == 2, imported.text
    task_id = imported.json()["task_ids"][0]
    assert annotations_on(server, task_id, me) == 2
    # the API still refuses a third, naming one of them
    refused = api.post(f"/api/tasks/{task_id}/annotations", json={"result": []})
    assert refused.status_code == 409
    assert refused.json()["id"] in [a["id"] for a in api.get(f"/api/tasks/{task_id}/annotations").json()]


# every other route that creates something: (path, request, what counts what it made, how many one request makes)
def _routes(project: dict, task: dict, title: str) -> dict:
    p, t = project["id"], task["id"]
    tasks_of = ("SELECT COUNT(*) AS n FROM lw_task WHERE project = $1", p)
    uploads_of = ("SELECT COUNT(*) AS n FROM lw_file_upload WHERE project = $1", p)
    return {
        "task": ("/api/tasks", {"json": {"project": p, "data": {"text": "new"}}}, [tasks_of]),
        "prediction": ("/api/predictions", {"json": {"task": t, "result": [choice("a")], "model_version": "v1"}},
                       [("SELECT COUNT(*) AS n FROM lw_prediction WHERE task = $1", t)]),
        "predictions import": (f"/api/projects/{p}/import/predictions",
                               {"json": [{"task": t, "result": [choice("b")], "model_version": "v2"}]},
                               [("SELECT COUNT(*) AS n FROM lw_prediction WHERE task = $1", t)]),
        "project": ("/api/projects", {"json": {"title": title, "label_config": CONFIG}},
                    [("SELECT COUNT(*) AS n FROM lw_project WHERE title = $1", title)]),
        # nothing listens on port 9: the backend is added as Disconnected
        "ML backend": ("/api/ml", {"json": {"project": p, "url": "http://127.0.0.1:9", "title": "m"}},
                       [("SELECT COUNT(*) AS n FROM lw_ml_backend WHERE project = $1", p)]),
        "import (JSON)": (f"/api/projects/{p}/import", {"json": [{"text": "i1"}]}, [tasks_of, uploads_of]),
        # each request gets a fresh multipart boundary: the files' hashes stand for the body
        "import (files)": (f"/api/projects/{p}/import",
                           {"files": {"file": ("tasks.json", json.dumps([{"text": "f1"}]).encode(), "application/json")}},
                           [tasks_of, uploads_of]),
        "import (background)": (f"/api/projects/{p}/import?background=true", {"json": [{"text": "b1"}]},
                                [("SELECT COUNT(*) AS n FROM lw_job WHERE project = $1 AND kind = 'import'", p),
                                 uploads_of]),
        "export": (f"/api/projects/{p}/exports?exportType=JSON", {},
                   [("SELECT COUNT(*) AS n FROM lw_job WHERE project = $1 AND kind = 'export'", p)]),
    }


ROUTES = list(_routes({"id": 0}, {"id": 0}, ""))


@pytest.mark.parametrize("route", ROUTES)
def test_every_creating_route_replays_a_key(server, api, project, task, route):
    path, kwargs, counts = _routes(project, task, "P " + uuid.uuid4().hex[:8])[route]
    before = [server.query(sql, arg)[0]["n"] for sql, arg in counts]
    key = new_key()
    first = api.post(path, **kwargs, **keyed(key))
    assert 200 <= first.status_code < 300, first.text
    second = api.post(path, **kwargs, **keyed(key))
    assert_replayed(first, second)
    after = [server.query(sql, arg)[0]["n"] for sql, arg in counts]
    assert [a - b for a, b in zip(after, before)] == [1] * len(counts), (before, after)
    # and a new key is a new request
    assert "idempotency-replayed" not in api.post(path, **kwargs, **keyed(new_key())).headers


def test_a_claimed_key_whose_answer_never_came_is_409(server, api, project):
    """An export (a queued job) claims its key first; a claim left without its answer (the request
    still running, or a process killed meanwhile) is 409, never a second job."""
    key, path = new_key(), f"/api/projects/{project['id']}/exports?exportType=JSON"
    assert api.post(path, **keyed(key)).status_code == 201
    server.query("UPDATE lw_idempotency_key SET status = 0 WHERE key = $1", key)
    pending = api.post(path, **keyed(key))
    assert pending.status_code == 409 and key in pending.json()["detail"]
    assert server.query("SELECT COUNT(*) AS n FROM lw_job WHERE project = $1 AND kind = 'export'", project["id"])[0]["n"] == 1


def test_a_refused_import_keeps_no_key_and_no_files(server, api, project):
    key, path = new_key(), f"/api/projects/{project['id']}/import"
    for _ in range(2):  # the same bad request twice: refused twice, as it was
        refused = api.post(path, json=[{"wrong": "key"}], **keyed(key))
        assert refused.status_code == 400 and "idempotency-replayed" not in refused.headers
    assert server.query("SELECT COUNT(*) AS n FROM lw_idempotency_key WHERE key = $1", key)[0]["n"] == 0
    assert server.query("SELECT COUNT(*) AS n FROM lw_file_upload WHERE project = $1", project["id"])[0]["n"] == 0


def test_a_key_lasts_24_hours(server, api, task):
    key, path = new_key(), f"/api/tasks/{task['id']}/annotations"
    assert api.post(path, json={"result": [choice("a")]}, **keyed(key)).status_code == 201
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=25)
    server.query("UPDATE lw_idempotency_key SET created_at = $1 WHERE key = $2",
                 old.isoformat(sep=" ", timespec="microseconds") if server.engine == "sqlite" else old, key)
    # expired: a new request under the old key runs (and meets the one-annotation rule)
    answer = api.post("/api/tasks", json={"project": task["project"], "data": {"text": "later"}}, **keyed(key))
    assert answer.status_code == 201 and "idempotency-replayed" not in answer.headers
    assert server.query("SELECT COUNT(*) AS n FROM lw_idempotency_key WHERE key = $1", key)[0]["n"] == 1


class SlowBackend(BaseHTTPRequestHandler):
    """A label_studio_ml backend whose /health waits until the test lets it answer."""

    arrived: threading.Event
    release: threading.Event

    def do_GET(self):  # noqa: N802
        self.arrived.set()
        self.release.wait(10)
        self._answer({"status": "UP", "model_class": "Slow"})

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._answer({"model_version": "slow-1"})

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_a_duplicate_while_the_first_still_runs_is_409(server, api, project):
    handler = type("Gate", (SlowBackend,), {"arrived": threading.Event(), "release": threading.Event()})
    backend = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    try:
        key = new_key()
        body = {"project": project["id"], "url": f"http://127.0.0.1:{backend.server_port}", "title": "slow"}
        def create():
            with server.client(token=server.admin_token) as client:
                return client.post("/api/ml", json=body, **keyed(key))

        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(create)
            assert handler.arrived.wait(20), "the first request never reached the backend"
            duplicate = api.post("/api/ml", json=body, **keyed(key))
            handler.release.set()
            first = first.result(timeout=60)
        assert duplicate.status_code == 409 and key in duplicate.json()["detail"], duplicate.text
        assert first.status_code == 201, first.text
        assert_replayed(first, api.post("/api/ml", json=body, **keyed(key)))
    finally:
        handler.release.set()
        backend.shutdown()
        backend.server_close()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_keys_survive_a_restart(tmp_path, database_url_factory, engine):
    srv = start_server(tmp_path / "data", database_url_factory(engine))
    token = srv.admin_token
    try:
        with srv.client(token=srv.admin_token) as api:
            project = api.post("/api/projects", json={"title": "Restart", "label_config": CONFIG}).json()
            task = api.post("/api/tasks", json={"project": project["id"], "data": {"text": "x"}}).json()
            key, path, body = new_key(), f"/api/tasks/{task['id']}/annotations", {"result": [choice("a")]}
            first = api.post(path, json=body, **keyed(key))
            assert first.status_code == 201
        os.killpg(srv.process.pid, signal.SIGKILL)
        srv.process.wait(timeout=30)
        srv = launch(srv.data_dir, srv.database_url, {})
        with srv.client(token=token) as api:
            assert_replayed(first, api.post(path, json=body, **keyed(key)))
            assert api.post(path, json={"result": [choice("b")]}, **keyed(key)).status_code == 422
        assert annotations_on(srv, task["id"]) == 1
    finally:
        srv.stop()
