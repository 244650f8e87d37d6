"""ML backends over real HTTP (tests/ml_backend.py, speaking label_studio_ml as SDK 1.0.9 and 2.x
do) and a real Celery worker: connecting, retrieving predictions, the backends' quirks and
failures, training webhooks, files fetched back with the owner's token, and model quality."""

from __future__ import annotations

import re
import time
from contextlib import closing

import pytest

from tests.helpers import browser, html, launch, wait_job

NER = """<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/></View>"""
TEXTS = ["Ada Lovelace met Charles Babbage", "the engine of London", "nothing here", "Grace Hopper at Yale",
         "Alan Turing", "a quiet day", "Berlin and Paris", "Linus wrote it"]
SPAN = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)*")  # what the test model predicts: capitalised runs, first label


def expected_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), "PER") for m in SPAN.finditer(text)]


def text_project(api, make_project, texts=TEXTS, **fields) -> tuple[dict, list[dict]]:
    project = make_project(label_config=NER, **fields)
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t in texts]).status_code == 201
    tasks = api.get(f"/api/tasks?project={project['id']}&page_size=100").json()["tasks"]
    return project, sorted(tasks, key=lambda t: t["inner_id"])


def connect(api, project: dict, backend, **fields) -> dict:
    response = api.post("/api/ml", json={"project": project["id"], "url": backend.url, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def retrieve(api, project: dict, included: list[int] | None = None) -> dict:
    body = {"selectedItems": {"all": False, "included": included}} if included else {"selectedItems": {"all": True}}
    response = api.post(f"/api/dm/actions?id=retrieve_tasks_predictions&project={project['id']}", json=body)
    assert response.status_code == 200, response.text
    return wait_job(api, response.json()["job"]["id"])


def predictions(api, project: dict) -> list[dict]:
    return api.get(f"/api/predictions?project={project['id']}").json()


def spans_of(prediction: dict) -> list[tuple[int, int, str]]:
    return [(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in prediction["result"]]


def test_connecting_checks_health_and_setup_as_label_studio_does(server, api, make_project, ml_backend):
    project = make_project(label_config=NER)
    old = ml_backend(1)
    added = connect(api, project, old)
    assert (added["state"], added["readable_state"], added["model_version"]) == ("CO", "Connected", "INITIAL")
    assert added["is_active"] is True and added["error_message"] == ""
    setup = old.requests("/setup")[-1]["body"]
    # 1.0.9 fetches task files back with these: our address and the project owner's token
    assert setup["hostname"] == server.base_url and setup["access_token"] == server.admin_token
    assert setup["schema"] == NER and setup["project"].startswith(f"{project['id']}.")

    new = ml_backend(2, basic_auth="model:s3cret")
    refused = connect(api, project, new, basic_auth_user="model", basic_auth_pass="wrong")
    assert refused["state"] == "ER" and "401" in refused["error_message"] and refused["is_active"] is False
    assert "basic_auth_pass" not in refused and refused["basic_auth_pass_is_set"] is True
    fixed = api.patch(f"/api/ml/{refused['id']}", json={"basic_auth_pass": "s3cret", "extra_params": {"k": 3}}).json()
    assert (fixed["state"], fixed["model_version"]) == ("CO", "0.0.1")
    assert new.requests("/setup")[-1]["body"]["extra_params"] == {"k": 3}

    # one active backend per project
    assert api.patch(f"/api/ml/{fixed['id']}", json={"is_active": True}).json()["is_active"] is True
    listed = {b["id"]: b["is_active"] for b in api.get(f"/api/ml?project={project['id']}").json()}
    assert listed == {added["id"]: False, fixed["id"]: True}

    old.stop()  # down: Disconnected, with the reason
    down = api.get(f"/api/ml/{added['id']}?check=1").json()
    assert down["state"] == "DI" and "cannot reach" in down["error_message"]
    assert api.delete(f"/api/ml/{added['id']}").status_code == 204
    assert [b["id"] for b in api.get(f"/api/ml?project={project['id']}").json()] == [fixed["id"]]

    bad = api.post("/api/ml", json={"project": project["id"], "url": "ftp://x", "timeout": -1, "extra_params": [1]})
    assert bad.status_code == 400 and {"url", "timeout", "extra_params"} <= set(bad.json()["validation_errors"])
    # credentials belong in the basic auth fields (a URL shows up in error messages); a port is a number
    for url in ("http://model:secret@127.0.0.1:9090", "http://127.0.0.1:abc", "http://[::1"):
        refused = api.post("/api/ml", json={"project": project["id"], "url": url})
        assert refused.status_code == 400 and "url" in refused.json()["validation_errors"], url


def test_retrieving_predictions_stores_each_task_once(server, api, make_project, ml_backend, worker):
    project, tasks = text_project(api, make_project)
    backend = ml_backend(1)
    connect(api, project, backend)
    job = retrieve(api, project)
    assert job["state"] == "done", job
    assert (job["result"]["predicted"], job["result"]["failed"], job["result"]["model_version"]) == (len(TEXTS), 0, "INITIAL")
    by_task = {p["task"]: p for p in predictions(api, project)}
    for task in tasks:
        assert spans_of(by_task[task["id"]]) == expected_spans(task["data"]["text"])
        assert by_task[task["id"]]["model_version"] == "INITIAL"
        assert by_task[task["id"]]["score"] == pytest.approx(0.5 + task["id"] % 5 / 10)
    # the 1.0.9 quirk: /predict refuses before /setup, so every job sets the model up first
    paths = [r["path"] for r in backend.requests() if r["path"] in ("/setup", "/predict")]
    assert paths[0] == "/setup" and paths[paths.index("/predict") - 1] == "/setup"
    sent = backend.requests("/predict")[-1]["body"]
    assert {"tasks", "project", "label_config", "params"} <= set(sent)
    assert {"id", "data", "meta", "inner_id", "annotations", "predictions"} <= set(sent["tasks"][0])

    again = retrieve(api, project)  # the same version again: every task is skipped
    assert (again["state"], again["result"]["predicted"], again["result"]["tasks"]) == ("done", 0, 0)
    picked = retrieve(api, project, [tasks[0]["id"], tasks[1]["id"]])
    assert (picked["result"]["predicted"], picked["result"]["skipped"]) == (0, 2)
    assert len(predictions(api, project)) == len(TEXTS)
    assert api.get(f"/api/projects/{project['id']}").json()["total_predictions_number"] == len(TEXTS)


@pytest.mark.parametrize("mode, outcome", [
    ("one-result", "done"), ("flaky", "done"), ("garbage", "failed"), ("mismatch", "failed"), ("wrong-count", "failed")])
def test_backend_quirks_and_garbage(server, api, make_project, ml_backend, worker, mode, outcome):
    project, tasks = text_project(api, make_project, TEXTS[:4])
    backend = ml_backend(2, mode)
    connect(api, project, backend)
    job = retrieve(api, project)
    assert job["state"] == outcome, job
    stored = predictions(api, project)
    calls = backend.requests("/predict")
    if mode == "one-result":  # one result for a batch: asked again one task per request, as Label Studio does
        assert len(stored) == 4 and [len(c["body"]["tasks"]) for c in calls] == [4, 1, 1, 1, 1]
        assert {p["model_version"] for p in stored} == {"0.0.1"}  # 2.x: the version is in each result only
    elif mode == "flaky":  # a 503 is retried
        assert len(stored) == 4 and [c["status"] for c in calls] == [503, 200]
    else:  # nothing half-stored, and each task's reason is listed
        assert stored == []
        assert job["result"]["failed"] == 4 and len(job["result"]["errors"]) == 4
        reason = {"garbage": "not JSON", "mismatch": "no_such_control", "wrong-count": "3 results for 4 tasks"}[mode]
        assert all(reason in e["error"] for e in job["result"]["errors"]), job["result"]["errors"]
        model_page = api.get(f"/projects/{project['id']}/model")
        assert reason in model_page.text


def test_a_slow_backend_times_out_and_a_down_one_fails_clearly(server, api, make_project, ml_backend, worker):
    project, tasks = text_project(api, make_project, TEXTS[:2])
    slow = ml_backend(2, "slow", delay=3)
    record = connect(api, project, slow, timeout=0.5)
    job = retrieve(api, project)
    assert job["state"] == "failed" and "timeout" in job["result"]["errors"][0]["error"]
    assert "tried 3 times" in job["result"]["errors"][0]["error"]  # with a pause between
    assert predictions(api, project) == []

    slow.stop()
    job = retrieve(api, project)
    assert job["state"] == "failed" and "not reachable" in job["error"]
    assert api.get(f"/api/ml/{record['id']}").json()["state"] == "DI"


def test_training_webhooks_and_integer_model_versions(server, api, make_project, ml_backend, worker):
    project, tasks = text_project(api, make_project, TEXTS[:3], start_training_on_annotation_update=True)
    old = ml_backend(1)
    record = connect(api, project, old)
    assert retrieve(api, project)["state"] == "done"
    result = [{"id": "a1", "from_name": "label", "to_name": "text", "type": "labels",
               "value": {"start": 0, "end": 3, "labels": ["ORG"]}}]
    created = api.post(f"/api/tasks/{tasks[0]['id']}/annotations", json={"result": result})
    assert created.status_code == 201
    webhook_jobs = [j for j in api.get(f"/api/projects/{project['id']}/jobs").json() if j["kind"] == "ml_webhook"]
    assert webhook_jobs and wait_job(api, webhook_jobs[0]["id"])["state"] == "done"
    event = old.requests("/webhook")[-1]["body"]
    assert event["action"] == "ANNOTATION_CREATED"
    assert event["annotation"]["result"][0]["value"]["labels"] == ["ORG"] and event["task"]["id"] == tasks[0]["id"]
    assert event["project"]["id"] == project["id"] and event["project"]["label_config"] == NER

    # after training, 1.0.9 reports its job id, an integer, as the model version
    trained = api.get(f"/api/ml/{record['id']}?check=1").json()
    assert trained["model_version"].isdigit()
    job = retrieve(api, project)
    assert job["state"] == "done" and job["result"]["predicted"] == 3
    versions = sorted({p["model_version"] for p in predictions(api, project)})
    assert versions == sorted(["INITIAL", trained["model_version"]])

    assert api.delete(f"/api/annotations/{created.json()['id']}").status_code == 204
    deadline = time.monotonic() + 30
    while not any(r["body"] and r["body"].get("action") == "ANNOTATIONS_DELETED" for r in old.requests("/webhook")):
        assert time.monotonic() < deadline, "ANNOTATIONS_DELETED never arrived"
        time.sleep(0.1)


def test_start_training_button_and_failed_delivery(server, api, make_project, ml_backend, worker):
    project = make_project(label_config=NER)
    new = ml_backend(2)
    record = connect(api, project, new)
    job = wait_job(api, api.post(f"/api/ml/{record['id']}/train").json()["job"]["id"])
    assert job["state"] == "done" and job["result"]["status"] == 201
    assert new.requests("/webhook")[-1]["body"]["action"] == "START_TRAINING"
    assert api.get(f"/api/ml/{record['id']}?check=1").json()["model_version"] == "0.0.2"  # 2.x bumped its version

    new.stop()
    job = wait_job(api, api.post(f"/api/ml/{record['id']}/train").json()["job"]["id"])
    assert job["state"] == "failed" and "START_TRAINING was not delivered" in job["error"]
    page = api.get(f"/projects/{project['id']}/model")
    assert "START_TRAINING was not delivered" in page.text


PNG_CONFIG = """<View><Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Car"/></RectangleLabels></View>"""


def test_backend_fetches_uploaded_files_with_the_owner_token(server, api, make_project, ml_backend, worker, tmp_path):
    from PIL import Image

    Image.new("RGB", (64, 48), "red").save(tmp_path / "car.png")
    project = make_project(label_config=PNG_CONFIG)
    with open(tmp_path / "car.png", "rb") as fh:
        assert api.post(f"/api/projects/{project['id']}/import", files={"file": ("car.png", fh, "image/png")}).status_code == 201
    backend = ml_backend(1)
    connect(api, project, backend)
    job = retrieve(api, project)
    assert job["state"] == "done", job
    (box,) = predictions(api, project)[0]["result"]
    # the backend learnt the size by downloading /data/upload/… from us with the token /setup gave it
    assert (box["original_width"], box["original_height"]) == (64, 48)
    assert box["value"]["rectanglelabels"] == ["Car"]


def test_model_quality_per_version_and_label(server, api, make_project, ml_backend, worker, make_user):
    texts = ["Ada Lovelace met Charles Babbage", "Grace Hopper at Yale", "Alan Turing", "Linus wrote it"]
    project, tasks = text_project(api, make_project, texts)
    connect(api, project, ml_backend(1))
    assert retrieve(api, project)["state"] == "done"
    by_task = {p["task"]: p for p in predictions(api, project)}

    def region(start: int, end: int, label: str) -> dict:
        return {"from_name": "label", "to_name": "text", "type": "labels", "value": {"start": start, "end": end, "labels": [label]}}

    finals = [
        by_task[tasks[0]["id"]]["result"],  # accepted unchanged: 2 right
        [region(0, 12, "PER"), region(16, 20, "ORG")],  # Grace Hopper right; "Yale" predicted PER, annotated ORG
        [region(0, 4, "PER")],  # "Alan Turing" predicted, only "Alan" annotated: 1 wrong, 1 missed
    ]  # task 4 has no annotation: not compared
    for task, result in zip(tasks, finals):
        assert api.post(f"/api/tasks/{task['id']}/annotations", json={"result": result}).status_code == 201
    report = api.get(f"/api/projects/{project['id']}/model-quality").json()
    (version,) = report["versions"]
    # predicted PER spans: Ada Lovelace, Charles Babbage, Grace Hopper, Yale, Alan Turing (+ Linus, not compared)
    # PER: tp 3 (Ada, Charles, Grace), fp 2 (Yale, Alan Turing), fn 1 (Alan); ORG: fn 1 (Yale)
    assert (version["model_version"], version["compared"], version["accepted_unchanged"]) == ("INITIAL", 3, 1)
    assert {k: (v["tp"], v["fp"], v["fn"]) for k, v in version["labels"].items()} == {"ORG": (0, 0, 1), "PER": (3, 2, 1)}
    assert version["precision"] == pytest.approx(3 / 5) and version["recall"] == pytest.approx(3 / 5)
    assert version["f1"] == pytest.approx(0.6)

    page = api.get(f"/projects/{project['id']}/model/quality")
    assert page.status_code == 200
    doc = html(page)
    assert doc.cssselect("svg[data-testid=quality-chart]")
    assert doc.cssselect("tr[data-version=INITIAL] td[data-testid=f1]")[0].text_content().strip() == "60.0%"
    annotator = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": annotator["id"]})
    with closing(browser(server, annotator["email"], annotator["password"])) as web:
        assert web.get(f"/projects/{project['id']}/model/quality").status_code == 403
        assert web.get(f"/projects/{project['id']}/model").status_code == 403
        assert web.get(f"/api/ml?project={project['id']}").status_code == 403


def test_ml_routes_are_for_admins_of_the_project(server, api, make_project, make_user, ml_backend):
    project = make_project(label_config=NER)
    record = connect(api, project, ml_backend(2))
    annotator = make_user()
    token = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', annotator["id"])[0]["key"]
    with server.client(token=token) as other:
        for method, path in (("GET", f"/api/ml/{record['id']}"), ("PATCH", f"/api/ml/{record['id']}"),
                             ("DELETE", f"/api/ml/{record['id']}"), ("POST", f"/api/ml/{record['id']}/train"),
                             ("POST", f"/api/dm/actions?id=retrieve_tasks_predictions&project={project['id']}")):
            assert other.request(method, path, json={}).status_code == 403, path
    assert api.get("/api/ml/999999").status_code == 404
    # an ML job carries the backend's answers: only admins read it, even in their own project
    job = api.post(f"/api/ml/{record['id']}/train").json()["job"]
    api.post(f"/api/projects/{project['id']}/members", json={"user": annotator["id"]})
    with server.client(token=token) as member:
        assert member.get(f"/api/projects/{project['id']}").status_code == 200
        assert member.get(f"/api/jobs/{job['id']}").status_code == 404
    assert api.post(f"/api/dm/actions?id=nope&project={project['id']}").status_code == 400


def test_redis_broker_with_separate_worker_and_batches(tmp_path, database_url_factory, redis_url, ml_backend):
    """Production's shape: Redis as the broker, a separate `labelwell worker`, small batches."""
    srv = launch(tmp_path / "srv", database_url_factory("postgres"),
                 {"LABELWELL_USER_TOKEN": "tok-redis", "CELERY_BROKER_URL": redis_url, "LABELWELL_ML_BATCH_SIZE": "3"})
    try:
        srv.start_worker()
        backend = ml_backend(1)
        with srv.client(token="tok-redis") as api:
            project = api.post("/api/projects", json={"title": "Redis", "label_config": NER}).json()
            api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t in TEXTS])
            connect(api, project, backend)
            job = retrieve(api, project)
            assert job["state"] == "done" and job["result"]["predicted"] == len(TEXTS)
            assert (job["progress"], job["total"]) == (len(TEXTS), len(TEXTS))
            assert sorted(len(r["body"]["tasks"]) for r in backend.requests("/predict")) == [2, 3, 3]
    finally:
        srv.stop()


def test_model_page_forms_and_task_list_button(server, api, make_project, ml_backend, worker):
    """The admin's path through the pages: add a backend, see its state, switch pre-labelling
    options, retrieve for selected tasks from the task list, follow the job."""
    from tests.helpers import submit, text_of

    project, tasks = text_project(api, make_project, TEXTS[:4])
    backend = ml_backend(1)
    model = f"/projects/{project['id']}/model"
    with closing(browser(server)) as web:
        bad = submit(web, model, f"{model}/backends", {"url": "not a url", "timeout": "0", "extra_params": "{"})
        assert bad.status_code == 400
        assert {"url-error", "timeout-error", "extra_params-error"} <= {e.get("id") for e in html(bad).cssselect(".field-error")}
        added = submit(web, model, f"{model}/backends", {"url": backend.url, "title": "NER model", "timeout": "30",
                                                         "extra_params": '{"threshold": 0.5}'}, follow_redirects=True)
        assert text_of(added, "[data-testid=backend-state]") == ["Connected"]
        assert text_of(added, "[data-testid=backend-version]") == ["INITIAL"]
        assert backend.requests("/setup")[-1]["body"]["extra_params"] == {"threshold": 0.5}

        saved = submit(web, model, f"{model}/settings", {"show_collab_predictions": "on", "model_version": "INITIAL",
                                                         "start_training_on_annotation_update": "on"}, follow_redirects=True)
        assert saved.status_code == 200
        settings = api.get(f"/api/projects/{project['id']}").json()
        assert (settings["model_version"], settings["start_training_on_annotation_update"],
                settings["evaluate_predictions_automatically"]) == ("INITIAL", True, False)

        tasks_page = f"/projects/{project['id']}/tasks"
        picked = [str(tasks[0]["id"]), str(tasks[2]["id"])]
        queued = submit(web, tasks_page, f"{model}/retrieve", {"ids": picked})
        assert queued.status_code in (302, 303)
        job_id = int(re.search(r"job=(\d+)", queued.headers["location"]).group(1))
        assert wait_job(api, job_id)["state"] == "done"
        shown = web.get(queued.headers["location"])
        assert "2 task(s) predicted by model version" in " ".join(text_of(shown, "[data-testid=job-done]"))
    assert sorted(p["task"] for p in predictions(api, project)) == sorted(int(i) for i in picked)
    assert [len(r["body"]["tasks"]) for r in backend.requests("/predict")] == [2]


def test_a_task_the_model_crashes_on_does_not_sink_its_batch(server, api, make_project, ml_backend, worker):
    project, tasks = text_project(api, make_project, ["Ada Lovelace", "POISON pill", "Grace Hopper", "Alan Turing"])
    backend = ml_backend(2, "poison")
    connect(api, project, backend)
    job = retrieve(api, project)
    assert job["state"] == "done" and (job["result"]["predicted"], job["result"]["failed"]) == (3, 1)
    (error,) = job["result"]["errors"]
    assert error["task"] == tasks[1]["id"] and "HTTP 500" in error["error"] and "crashed" in error["error"]
    # the batch (tried three times), then each task once
    assert [len(r["body"]["tasks"]) for r in backend.requests("/predict")] == [4, 4, 4, 1, 1, 1, 1]


def test_the_workspace_poll_stops_when_the_model_fails(server, api, make_project, make_user, ml_backend, worker):
    """An annotator opening a task with a broken model: the page opens at once, the poll ends with
    a plain reason (not the backend's own message), and nothing is stored."""
    project, tasks = text_project(api, make_project, TEXTS[:1])
    connect(api, project, ml_backend(2, "garbage"))
    annotator = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": annotator["id"]})
    with closing(browser(server, annotator["email"], annotator["password"])) as web:
        page = web.get(f"/projects/{project['id']}/label", follow_redirects=True)
        (poll,) = html(page).cssselect("#lw-suggestion")
        assert poll.get("hx-trigger").endswith("every 1s")
        deadline = time.monotonic() + 60
        while (answer := web.get(poll.get("hx-get"))).status_code == 200:
            assert "suggestion-waiting" in answer.text and time.monotonic() < deadline
            time.sleep(0.2)
        assert answer.status_code == 286  # htmx stops polling
        assert "unavailable or answered something unusable" in answer.text and "not JSON" not in answer.text
        again = web.get(f"/projects/{project['id']}/label/{tasks[0]['id']}")
        assert not html(again).cssselect("#lw-suggestion")  # a failed model is not asked on every open
    assert predictions(api, project) == []


def test_backends_reach_task_files_by_label_studio_paths(server, api, make_project, make_user, tmp_path):
    """The download paths a backend's SDK uses: the presign link (2.x base64, 1.0.9 raw) for a URI
    in the task, and local files serving, each only within what the caller may see."""
    import base64

    from PIL import Image

    folder = server.data_dir / "local-files" / "cars"
    folder.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (20, 10), "blue").save(folder / "blue.png")
    local = "/data/local-files/?d=cars/blue.png"
    project = make_project(label_config=PNG_CONFIG)
    assert api.post(f"/api/projects/{project['id']}/import", json=[
        {"image": local}, {"image": "s3://bucket/car.png"}]).status_code == 201
    tasks = sorted(api.get(f"/api/tasks?project={project['id']}").json()["tasks"], key=lambda t: t["inner_id"])

    shown = api.get(local)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/png"
    assert Image.open(__import__("io").BytesIO(shown.content)).size == (20, 10)
    for fileuri in (base64.urlsafe_b64encode(local.encode()).decode().rstrip("="), local):
        moved = api.get(f"/tasks/{tasks[0]['id']}/presign/", params={"fileuri": fileuri})
        assert moved.status_code == 302 and moved.headers["location"] == local
    assert api.get(f"/tasks/{tasks[0]['id']}/presign/", params={"fileuri": "https://elsewhere.example/x"}).status_code == 404
    cloud = api.get(f"/tasks/{tasks[1]['id']}/presign/", params={"fileuri": "s3://bucket/car.png"})
    assert cloud.status_code == 404 and "No storage of this project holds s3:// files" in cloud.text
    assert api.get("/data/local-files/?d=../secret_key").status_code == 404  # never out of the folder

    outsider, member = make_user(), make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": member["id"]})
    (folder / "other.png").write_bytes((folder / "blue.png").read_bytes())
    for user, expected in ((outsider, 404), (member, 200)):
        key = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]
        with server.client(token=key) as client:
            assert client.get(local).status_code == expected
            assert client.get("/data/local-files/?d=cars/other.png").status_code == 404  # no task of theirs names it
            assert client.get(f"/tasks/{tasks[0]['id']}/presign/", params={"fileuri": local}).status_code == (
                302 if expected == 200 else 404)


def test_interactive_annotating_answers_without_storing(server, api, sdk, make_project, ml_backend, worker):
    project, tasks = text_project(api, make_project, TEXTS[:1])
    backend = ml_backend(2)
    record = connect(api, project, backend, is_interactive=True)
    drawn = {"result": [{"from_name": "label", "to_name": "text", "type": "labels",
                         "value": {"start": 0, "end": 3, "labels": ["PER"]}}]}
    sdk.ml.predict_interactive(id=record["id"], task=tasks[0]["id"], context=drawn)  # the 2.x SDK's call
    answer = api.post(f"/api/ml/{record['id']}/interactive-annotating", json={"task": tasks[0]["id"], "context": drawn})
    assert answer.status_code == 200, answer.text
    (first,) = answer.json()["data"]["results"]
    spans = sorted((r["value"]["start"], r["value"]["end"]) for r in first["result"])
    assert spans == [(s, e) for s, e, _ in expected_spans(TEXTS[0])]
    assert backend.requests("/predict")[-1]["body"]["params"]["context"] == drawn  # the annotator's input went along
    assert predictions(api, project) == []  # nothing stored
    assert api.post(f"/api/ml/{record['id']}/interactive-annotating", json={"task": 10**9}).status_code == 400
    api.patch(f"/api/ml/{record['id']}", json={"is_interactive": False})
    refused = api.post(f"/api/ml/{record['id']}/interactive-annotating", json={"task": tasks[0]["id"]})
    assert refused.status_code == 400 and "interactive" in refused.text
    api.patch(f"/api/ml/{record['id']}", json={"is_interactive": True})
    backend.stop()
    down = api.post(f"/api/ml/{record['id']}/interactive-annotating", json={"task": tasks[0]["id"]})
    assert down.status_code == 502 and "/predict" in down.text
