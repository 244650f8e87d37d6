"""Webhooks against a real HTTP receiver: every event Label Studio sends, signed, delivered by the
worker (never inside the request), retried after a failure with the same delivery id, logged;
the API through Label Studio's 2.x SDK and plain HTTP, on both engines."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import expect

from tests.conftest import ENGINES
from tests.helpers import free_port, launch
from tests.test_tasks_api import token_of

CONFIG = ('<View><Text name="text" value="$text"/>'
          '<Choices name="sentiment" toName="text"><Choice value="pos"/><Choice value="neg"/></Choices></View>')
RESULT = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["pos"]}}]


def choice(value: str) -> list[dict]:
    return [{**RESULT[0], "value": {"choices": [value]}}]


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records what it is sent. Paths say how it answers:
    /ok 200; /fail-first 500 to a delivery's first attempt; /hold waits until `release` is set."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.held = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                seen = {"path": self.path, "method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body, "json": json.loads(body), "done": False}
                with receiver.lock:
                    first = not any(r["headers"].get("x-labelwell-delivery") == seen["headers"]["x-labelwell-delivery"]
                                    for r in receiver.requests)
                    receiver.requests.append(seen)
                status = 200
                if self.path.startswith("/fail-first") and first:
                    status = 500
                if self.path.startswith("/hold"):
                    receiver.release.wait(10)
                seen["done"] = True
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def at(self, path: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def wait(self, path: str, check, timeout: float = 30) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.at(path)
            if check(got):
                return got
            time.sleep(0.05)
        raise AssertionError(f"{path}: the receiver got {[r['json'].get('action') for r in self.at(path)]}")


def verify(secret: str, request: dict) -> None:
    """What docs/webhooks.md tells a receiver to do."""
    fields = dict(part.split("=", 1) for part in request["headers"]["x-labelwell-signature"].split(","))
    expected = hmac.new(secret.encode(), fields["t"].encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, fields["v1"])
    assert abs(time.time() - int(fields["t"])) < 300
    assert request["headers"]["x-labelwell-event"] == request["json"]["action"]
    assert request["headers"]["content-type"] == "application/json"


@pytest.fixture(scope="module", params=ENGINES)
def server(request, tmp_path_factory, database_url_factory):
    """This module's own server with its embedded worker, allowed to call loopback, retrying fast."""
    email, password, token = "admin@example.com", "admin-" + uuid.uuid4().hex[:8], uuid.uuid4().hex
    srv = launch(tmp_path_factory.mktemp(f"data-webhooks-{request.param}"), database_url_factory(request.param), {
        "LABELWELL_USERNAME": email, "LABELWELL_PASSWORD": password, "LABELWELL_USER_TOKEN": token,
        "LABELWELL_WEBHOOK_ALLOW_PRIVATE": "true", "LABELWELL_WEBHOOK_RETRY_SECONDS": "0.2",
        "LABELWELL_WEBHOOK_ATTEMPTS": "3", "LABELWELL_WEBHOOK_TIMEOUT_SECONDS": "2"}, args=())
    srv.admin_email, srv.admin_password, srv.admin_token = email, password, token
    yield srv
    srv.stop()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.release.set()
    r.http.shutdown()


def test_every_event_arrives_signed_in_order(api, receiver, make_project):
    project = make_project(label_config=CONFIG)
    pid = project["id"]
    made = api.post("/api/webhooks/", json={"project": pid, "url": receiver.url + "/all",
                                           "headers": {"Authorization": "Token abc", "X-Team": "nlp"}})
    assert made.status_code == 201, made.text
    hook = made.json()
    secret = hook["secret"]
    assert secret and hook["headers"] == {"Authorization": "********", "X-Team": "********"}

    # every kind of event, in this order
    assert api.patch(f"/api/projects/{pid}", json={"title": "Renamed"}).status_code == 200
    task = api.post("/api/tasks", json={"project": pid, "data": {"text": "one"}}).json()
    imported = api.post(f"/api/projects/{pid}/import?return_task_ids=true",
                        json=[{"text": "two"}, {"text": "three"}, {"text": "four"}]).json()
    t2, t3, t4 = imported["task_ids"]
    annotation = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": RESULT}).json()
    assert api.patch(f"/api/annotations/{annotation['id']}", json={"result": choice("neg")}).status_code == 200
    skip = api.post(f"/api/tasks/{t2}/annotations", json={"result": [], "was_cancelled": True}).json()
    assert api.delete(f"/api/annotations/{skip['id']}").status_code == 204
    assert api.post("/api/predictions", json={"task": t3, "result": RESULT, "model_version": "v1"}).status_code == 201
    converted = api.post(f"/api/dm/actions?id=predictions_to_annotations&project={pid}",
                         json={"selectedItems": {"all": False, "included": [t3]}})
    assert converted.status_code == 200, converted.text
    assert api.post(f"/api/dm/actions?id=delete_tasks_annotations&project={pid}",
                    json={"selectedItems": {"all": False, "included": [t3]}}).status_code == 200
    assert api.delete(f"/api/tasks/{t4}").status_code == 204
    assert api.post(f"/api/dm/actions?id=delete_tasks&project={pid}",
                    json={"selectedItems": {"all": False, "included": [t3]}}).status_code == 200
    assert api.delete(f"/api/projects/{pid}/tasks/").status_code in (200, 204)

    expected = ["PROJECT_UPDATED", "TASKS_CREATED", "TASKS_CREATED", "ANNOTATION_CREATED", "ANNOTATION_UPDATED",
                "ANNOTATION_CREATED", "ANNOTATIONS_DELETED", "ANNOTATIONS_CREATED", "ANNOTATIONS_DELETED",
                "TASKS_DELETED", "TASKS_DELETED", "TASKS_DELETED"]
    got = receiver.wait("/all", lambda r: len(r) >= len(expected))
    assert [r["json"]["action"] for r in got] == expected  # one webhook's deliveries keep the events' order
    for request in got:
        verify(secret, request)
        assert request["method"] == "POST"
        assert request["headers"]["authorization"] == "Token abc" and request["headers"]["x-team"] == "nlp"
        assert request["headers"]["x-labelwell-attempt"] == "1"
        block = request["json"]["project"]
        assert block["id"] == pid and block["label_config"] == CONFIG
        assert "token" not in block and "task_data_password" not in block
    by = [r["json"] for r in got]
    assert by[0]["project"]["title"] == "Renamed"
    assert [t["id"] for t in by[1]["tasks"]] == [task["id"]] and by[1]["tasks"][0]["data"] == {"text": "one"}
    assert [t["data"]["text"] for t in by[2]["tasks"]] == ["two", "three", "four"]
    assert set(by[2]["tasks"][0]) >= {"id", "data", "meta", "inner_id", "is_labeled", "total_annotations", "project"}
    created = by[3]
    assert created["annotation"]["id"] == annotation["id"] and created["annotation"]["task"] == task["id"]
    assert created["annotation"]["completed_by"] == annotation["completed_by"]  # an id, as Label Studio sends it
    assert created["task"]["id"] == task["id"] and created["task"]["total_annotations"] == 1
    assert by[4]["annotation"]["result"][0]["value"]["choices"] == ["neg"]
    assert by[5]["annotation"]["was_cancelled"] is True  # a skip is an annotation too
    assert by[6]["annotations"] == [{"id": skip["id"]}]
    made_from = by[7]["annotation"]  # Label Studio's singular key, a list
    assert isinstance(made_from, list) and [a["task"] for a in made_from] == [t3] and by[7]["task"][0]["id"] == t3
    assert by[8]["annotations"] == [{"id": made_from[0]["id"]}]
    assert by[9]["tasks"] == [{"id": t4}] and by[10]["tasks"] == [{"id": t3}]
    assert by[11]["tasks"] == [{"id": i} for i in sorted([task["id"], t2])]  # delete-all reaches project hooks

    # the log: each delivery once, delivered at the first attempt
    log = api.get(f"/api/webhooks/{hook['id']}/deliveries").json()
    assert len(log) == len(expected) and {d["state"] for d in log} == {"delivered"}
    assert all(len(d["attempts"]) == 1 and d["attempts"][0]["status_code"] == 200 for d in log)
    # redeliver: the same body again, under a new delivery id
    again = api.post(f"/api/webhooks/{hook['id']}/redeliver", json={"delivery": log[-1]["id"]})
    assert again.status_code == 202, again.text
    resent = receiver.wait("/all", lambda r: len(r) > len(expected))[-1]
    verify(secret, resent)
    assert resent["json"] == got[0]["json"]
    assert resent["headers"]["x-labelwell-delivery"] != got[0]["headers"]["x-labelwell-delivery"]


def test_a_failed_attempt_is_retried_with_the_same_delivery_id(api, receiver, make_project, sdk):
    pid = make_project(label_config=CONFIG)["id"]
    hook = api.post("/api/webhooks", json={"project": pid, "url": receiver.url + "/fail-first",
                                          "send_for_all_actions": False, "actions": ["PROJECT_UPDATED"]}).json()
    held = api.post("/api/webhooks", json={"project": pid, "url": receiver.url + "/hold",
                                          "send_for_all_actions": False, "actions": ["PROJECT_UPDATED"]}).json()
    dead = api.post("/api/webhooks", json={"project": pid, "url": f"http://127.0.0.1:{free_port()}/gone",
                                          "send_for_all_actions": False, "actions": ["PROJECT_UPDATED"]}).json()
    api.post("/api/tasks", json={"project": pid, "data": {"text": "not wanted"}})  # no hook wants TASKS_CREATED

    # the request that causes the event answers while the receiver is still holding its delivery
    with httpx.Client(base_url=api.base_url, headers=dict(api.headers), timeout=10) as client:
        assert client.patch(f"/api/projects/{pid}", json={"description": "changed"}).status_code == 200
    holding = receiver.wait("/hold", lambda r: len(r) >= 1)
    assert not holding[0]["done"]
    receiver.release.set()

    first, second = receiver.wait("/fail-first", lambda r: len(r) >= 2)
    assert first["headers"]["x-labelwell-delivery"] == second["headers"]["x-labelwell-delivery"]
    assert (first["headers"]["x-labelwell-attempt"], second["headers"]["x-labelwell-attempt"]) == ("1", "2")
    assert first["body"] == second["body"] and second["json"]["action"] == "PROJECT_UPDATED"
    verify(hook["secret"], second)
    log = _settled(api, hook["id"])
    assert [a["status_code"] for a in log[0]["attempts"]] == [500, 200] and log[0]["state"] == "delivered"
    assert [a["attempt"] for a in log[0]["attempts"]] == [1, 2]

    # nothing listens: 3 attempts (LABELWELL_WEBHOOK_ATTEMPTS), each logged with its error, then failed
    log = _settled(api, dead["id"])
    assert log[0]["state"] == "failed" and [a["attempt"] for a in log[0]["attempts"]] == [1, 2, 3]
    assert all(a["status_code"] is None and a["error"] for a in log[0]["attempts"])
    assert all(not r["json"].get("tasks") for r in receiver.at("/fail-first"))

    # the 2.x SDK reads them back, without secrets or header values
    listed = sdk.webhooks.list(project=str(pid))
    assert {w.id for w in listed} == {hook["id"], held["id"], dead["id"]}
    assert all(getattr(w, "secret", None) is None for w in listed)


def _settled(api, webhook_id: int, timeout: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = api.get(f"/api/webhooks/{webhook_id}/deliveries").json()
        if log and all(d["state"] in ("delivered", "failed") for d in log):
            return log
        time.sleep(0.1)
    raise AssertionError(f"webhook {webhook_id} did not settle: {log}")


def test_crud_through_the_sdk_and_its_rules(api, sdk, server, make_project, make_user, receiver):
    pid = make_project(label_config=CONFIG)["id"]
    info = sdk.webhooks.info()
    assert info.tasks_created.name and info.annotation_created.organization_only is False
    assert httpx.get(server.base_url + "/api/webhooks/info/").json()["PROJECT_CREATED"]["organization-only"] is True

    hook = sdk.webhooks.create(url=receiver.url + "/sdk", project=pid, send_for_all_actions=False,
                               actions=["TASKS_CREATED", "ANNOTATION_CREATED"], headers={"Authorization": "Token s3cr3t"})
    assert hook.project == pid and hook.actions == ["TASKS_CREATED", "ANNOTATION_CREATED"]
    assert hook.headers == {"Authorization": "********"}
    fetched = sdk.webhooks.get(id=hook.id)
    assert fetched.url == receiver.url + "/sdk" and getattr(fetched, "secret", None) is None
    updated = sdk.webhooks.update(id=hook.id, is_active=False)
    assert updated.is_active is False and updated.actions == ["TASKS_CREATED", "ANNOTATION_CREATED"]  # kept
    raw = api.get(f"/api/webhooks/{hook.id}/").json()
    assert "s3cr3t" not in json.dumps(raw) and "secret" not in raw
    # headers sent back masked keep their stored value; the secret rotates and shows once
    api.patch(f"/api/webhooks/{hook.id}", json={"headers": raw["headers"], "is_active": True})
    rotated = api.post(f"/api/webhooks/{hook.id}/rotate-secret").json()
    api.post("/api/tasks", json={"project": pid, "data": {"text": "hello"}})
    arrived = receiver.wait("/sdk", lambda r: len(r) >= 1)[0]
    assert arrived["headers"]["authorization"] == "Token s3cr3t"
    verify(rotated["secret"], arrived)
    assert [w.id for w in sdk.webhooks.list(project=str(pid))] == [hook.id]

    errors = {
        "url": {"project": pid, "url": "ftp://example.com/x"},
        "headers": {"project": pid, "url": receiver.url, "headers": {"Bad Name": "x"}},
        "actions": {"project": pid, "url": receiver.url, "actions": ["NOPE"]},
        "project": {"url": receiver.url},
        "send_payload": {"project": pid, "url": receiver.url, "send_payload": "yes"},
    }
    for field, body in errors.items():
        answer = api.post("/api/webhooks", json=body)
        assert answer.status_code == 400 and field in answer.json()["validation_errors"], (field, answer.text)
    too_many = api.post("/api/webhooks", json={"project": pid, "url": receiver.url,
                                              "headers": {f"h{i}": "v" for i in range(11)}})
    assert too_many.status_code == 400 and "headers" in too_many.json()["validation_errors"]
    org_only = api.post("/api/webhooks", json={"project": pid, "url": receiver.url, "actions": ["PROJECT_CREATED"]})
    assert org_only.status_code == 400 and "actions" in org_only.json()["validation_errors"]
    assert api.post("/api/webhooks", json={"project": 999999, "url": receiver.url}).status_code == 404

    annotator = make_user("annotator")  # a member of the project: still no webhooks for them
    api.post(f"/api/projects/{pid}/members", json={"user": annotator["id"], "role": "annotator"})
    with server.client(token=token_of(server, annotator)) as other:
        for method, path in (("GET", "/api/webhooks"), ("GET", f"/api/webhooks?project={pid}"),
                             ("POST", "/api/webhooks"), ("GET", f"/api/webhooks/{hook.id}"),
                             ("PATCH", f"/api/webhooks/{hook.id}"), ("DELETE", f"/api/webhooks/{hook.id}"),
                             ("GET", f"/api/webhooks/{hook.id}/deliveries")):
            answer = other.request(method, path, json={"project": pid, "url": receiver.url})
            assert answer.status_code in (403, 404), (method, path)
            assert "s3cr3t" not in answer.text and receiver.url not in answer.text

    sdk.webhooks.delete(id=hook.id)
    assert api.get(f"/api/webhooks/{hook.id}").status_code == 404


def test_private_addresses_are_refused_by_default():
    """The default (LABELWELL_WEBHOOK_ALLOW_PRIVATE unset, as in this test process): Label Studio's SSRF rule."""
    from app.webhooks import delivery

    assert not delivery.ALLOW_PRIVATE
    for url in ("http://127.0.0.1:9/x", "http://10.1.2.3/", "http://[::1]/", "http://169.254.169.254/latest",
                "http://localhost:8080/"):
        with pytest.raises(delivery.Blocked):
            delivery.resolve(url)
    assert delivery.resolve("http://93.184.215.14/") == "93.184.215.14"


def test_the_delivery_log_page(page, server, api, receiver, make_project):
    from tests.test_browser import log_in

    pid = make_project(label_config=CONFIG)["id"]
    log_in(page, server.admin_email, server.admin_password)
    page.goto(f"/projects/{pid}")
    page.get_by_test_id("webhook-settings").click()
    page.get_by_label("URL").fill(receiver.url + "/page")
    page.get_by_label("Send every event").uncheck()
    page.get_by_label("PROJECT_UPDATED").check()
    page.get_by_label("Headers").fill("X-Token: abc")
    page.get_by_test_id("webhook-add").click()
    secret = page.get_by_test_id("webhook-secret").input_value()
    assert secret.startswith("whsec_")
    api.patch(f"/api/projects/{pid}", json={"title": "From the page"})
    verify(secret, receiver.wait("/page", lambda r: len(r) >= 1)[0])
    page.goto(f"/projects/{pid}/webhooks")
    page.get_by_role("link", name=receiver.url + "/page").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Webhook to")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page.reload()
        if page.get_by_test_id("attempt").count():
            break
    expect(page.get_by_test_id("attempt").first).to_contain_text("#1: 200")
    expect(page.get_by_test_id("delivery-state").first).to_have_text("delivered")
    assert secret not in page.content()  # shown once only
    page.get_by_test_id("redeliver").first.click()
    expect(page.locator(".flash")).to_contain_text("queued again")
    receiver.wait("/page", lambda r: len(r) >= 2)
    page.get_by_test_id("webhook-delete").click()
    expect(page).to_have_url(f"/projects/{pid}/webhooks")
    assert api.get(f"/api/webhooks?project={pid}").json() == []
