"""The built-in model, as a user meets it: turned on over HTTP, trained by the worker after every N
submits (or on the button), its predictions stored as drafts for the unannotated tasks, the queue
ordered by how unsure it is, spans on exact code points, and the same model served to Label
Studio as a label_studio_ml backend."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from bench.corpus import TOPICS, entities, topics
from tests.helpers import LABELWELL, ROOT, html, start_server, wait_job
from tests.pg import free_port

CLASSIFY = """<View><Text name="text" value="$text"/>
<Choices name="topic" toName="text"><Choice value="Sport"/><Choice value="Science"/><Choice value="Cooking"/>
<Choice value="Travel"/></Choices><TextArea name="notes" toName="text"/></View>"""
CLEAR = (0.4, 0.8)  # every document has a good share of its topic's words: 20 examples teach a good deal
NER = """<View><Labels name="ent" toName="text"><Label value="PER"/><Label value="LOC"/></Labels>
<Text name="text" value="$text"/></View>"""


def builtin(project: dict) -> str:
    return f"/api/projects/{project['id']}/builtin-model"


def tasks_of(api: httpx.Client, project: dict) -> list[dict]:
    found = api.get(f"/api/tasks?project={project['id']}&page_size=1000").json()["tasks"]
    return sorted(found, key=lambda t: t["inner_id"])


def choose(topic: str) -> list[dict]:
    return [{"from_name": "topic", "to_name": "text", "type": "choices", "value": {"choices": [topic]}}]


def spans(gold: list[tuple[int, int, str]], text: str) -> list[dict]:
    return [{"id": f"s{i}", "from_name": "ent", "to_name": "text", "type": "labels",
             "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]}}
            for i, (s, e, label) in enumerate(gold)]


def wait_version(api: httpx.Client, project: dict, version: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = api.get(builtin(project)).json()
        if state["active_version"] == version and state["last_job"] and state["last_job"]["state"] == "done":
            return state
        time.sleep(0.2)
    pytest.fail(f"{version} was not trained and done within {timeout} s: {state}")


def predictions_of(api: httpx.Client, project: dict, version: str) -> dict[int, dict]:
    found = api.get(f"/api/predictions?project={project['id']}").json()
    return {p["task"]: p for p in found if p["model_version"] == version}


@pytest.fixture
def topic_project(api, make_project, worker):
    project = make_project(label_config=CLASSIFY, sampling="Uncertainty sampling")
    corpus = topics(70, seed=5, clarity=CLEAR)
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t, _ in corpus]).status_code == 201
    gold = dict(corpus)
    return project, {t["id"]: gold[t["data"]["text"]] for t in tasks_of(api, project)}


def test_it_trains_after_every_n_submits_prelabels_the_rest_and_the_queue_asks_the_least_sure_first(
        server, api, topic_project):
    project, gold = topic_project
    state = api.patch(builtin(project), json={"enabled": True, "train_every": 20}).json()
    assert state["learns"] == [{"control": "topic", "to_name": "text", "kind": "choices", "object": "Text",
                                "multiple": False, "labels": ["Sport", "Science", "Cooking", "Travel"]}]
    assert [c["control"] for c in state["cannot"]] == ["notes"] and "TextArea" in state["cannot"][0]["why"]
    ids = sorted(gold)
    for task_id in ids[:19]:
        assert api.post(f"/api/tasks/{task_id}/annotations", json={"result": choose(gold[task_id])}).status_code == 201
    time.sleep(1)
    assert api.get(builtin(project)).json()["last_job"] is None  # 19 of 20: no run yet
    assert api.post(f"/api/tasks/{ids[19]}/annotations", json={"result": choose(gold[ids[19]])}).status_code == 201
    state = wait_version(api, project, "builtin-1")

    version = state["versions"][0]
    assert (version["version"], version["examples"], version["available"]) == ("builtin-1", 20, 20)
    assert version["quality"]["controls"]["topic"]["compared"] == 20
    assert api.get(f"/api/projects/{project['id']}").json()["model_version"] == "builtin-1"
    predicted = predictions_of(api, project, "builtin-1")
    assert sorted(predicted) == ids[20:]  # every task no one annotated, and only those
    assert all(0 <= p["score"] <= 1 for p in predicted.values())
    right = sum(p["result"][0]["value"]["choices"] == [gold[t]] for t, p in predicted.items())
    assert right / len(predicted) > 0.5, right  # four topics: chance is a quarter

    # uncertainty sampling: the least sure prediction first, then the next least sure
    by_score = sorted(predicted, key=lambda t: (predicted[t]["score"], t))
    first = api.get(f"/api/projects/{project['id']}/next").json()
    assert first["id"] == by_score[0]
    assert api.post(f"/api/tasks/{first['id']}/annotations", json={"result": choose(gold[first["id"]])}).status_code == 201
    assert api.get(f"/api/projects/{project['id']}/next").json()["id"] == by_score[1]

    # the workspace starts from the prediction: the predicted choice is checked in the form
    page = html(api.get(f"/projects/{project['id']}/label/{by_score[2]}"))
    choice = predicted[by_score[2]]["result"][0]["value"]["choices"][0]
    assert "starting from the model's prediction" in page.text_content()
    assert [i.get("value") for i in page.cssselect("input[name='topic'][checked]")] == [choice]


def test_a_run_that_cannot_train_yet_says_why_and_the_button_trains_anyway(server, api, make_project, worker):
    project = make_project(label_config=CLASSIFY)
    corpus = topics(12, seed=2)
    api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t, _ in corpus])
    for task in tasks_of(api, project)[:9]:
        api.post(f"/api/tasks/{task['id']}/annotations", json={"result": choose("Sport")})
    job = api.post(builtin(project) + "/train")
    assert job.status_code == 201, job.text
    done = wait_job(api, job.json()["id"], timeout=90)
    assert done["state"] == "done" and done["result"]["trained"] is False
    state = api.get(builtin(project)).json()
    assert "two choices" in state["message"] and "Sport (9)" in state["message"]
    assert state["versions"] == [] and state["active_version"] == ""
    page = api.get(f"/projects/{project['id']}/model").text
    assert "Not trained yet" in page and "Sport (9)" in page

    always = make_project(label_config=CLASSIFY.replace('toName="text">', 'toName="text" choice="multiple">', 1))
    api.post(f"/api/projects/{always['id']}/import", json=[
        {"data": {"text": t}, "annotations": [{"result": choose("Sport")}]} for t, _ in corpus])
    done = wait_job(api, api.post(builtin(always) + "/train").json()["id"], timeout=90)
    assert done["state"] == "done" and "both picked and left out" in done["result"]["reason"]

    bad = api.patch(builtin(project), json={"train_every": 0})
    assert bad.status_code == 400 and "train_every" in bad.json()["validation_errors"]
    assert api.patch(builtin(project), json={"train_every": "²"}).status_code == 400  # a digit, not a number
    nothing = make_project(label_config='<View><Image name="i" value="$img"/><RectangleLabels name="b" toName="i">'
                                        '<Label value="Car"/></RectangleLabels></View>')
    state = api.get(builtin(nothing)).json()
    assert state["learns"] == [] and "RectangleLabels" in state["cannot"][0]["why"]


@pytest.mark.one_engine  # the learners and processes, not SQL: the SQL runs on both in the others
def test_predicted_spans_land_on_the_annotators_code_points_after_emoji_and_accents(server, api, make_project, worker):
    project = make_project(label_config=NER)
    corpus = entities(45, seed=9)
    api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t, _ in corpus])
    gold = {t["id"]: dict(corpus)[t["data"]["text"]] for t in tasks_of(api, project)}
    texts = {t["id"]: t["data"]["text"] for t in tasks_of(api, project)}
    ids = sorted(gold)
    for task_id in ids[:30]:
        assert api.post(f"/api/tasks/{task_id}/annotations",
                        json={"result": spans(gold[task_id], texts[task_id])}).status_code == 201
    job = api.post(builtin(project) + "/train").json()
    done = wait_job(api, job["id"], timeout=90)
    assert done["result"]["trained"], done
    assert done["result"]["quality"]["ent"]["labels"]["PER"]["f1"] > 0.8
    predicted = predictions_of(api, project, "builtin-1")
    assert sorted(predicted) == ids[30:]
    exact = 0
    for task_id, prediction in predicted.items():
        text = texts[task_id]
        for item in prediction["result"]:
            value = item["value"]
            assert value["text"] == text[value["start"]:value["end"]]  # code points of the very string
            # a span found lands where the annotator's would: the same code points, not bytes or UTF-16 units
            same = [g for g in gold[task_id] if text[g[0]:g[1]] == value["text"]]
            assert not same or (value["start"], value["end"]) == same[0][:2], (text, value)
        found = sorted((i["value"]["start"], i["value"]["end"], i["value"]["labels"][0]) for i in prediction["result"])
        exact += found == sorted(gold[task_id])
    # a place of two words it has seen too rarely ("São Paulo") may come out as two spans
    assert exact >= 0.8 * len(predicted), (exact, len(predicted))
    assert any(not texts[t][0].isalnum() for t in predicted)  # some do start with an emoji or a sign


@pytest.mark.one_engine  # the learners and processes, not SQL: the SQL runs on both in the others
def test_the_web_process_never_loads_the_learning_libraries(server, api, topic_project):
    project, gold = topic_project
    for task_id in sorted(gold)[:10]:
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choose(gold[task_id])})
    wait_job(api, api.post(builtin(project) + "/train").json()["id"], timeout=90)
    api.get(f"/projects/{project['id']}/model")
    api.get(f"/projects/{project['id']}/model/quality")
    web = Path(f"/proc/{server.process.pid}/maps").read_text()
    assert "/sklearn/" not in web and "pycrfsuite" not in web and "/scipy/" not in web
    workers = [Path(f"/proc/{pid}/maps").read_text() for w in server.workers if w.poll() is None
               for pid in [w.pid, *descendants(w.pid)]]
    assert any("/sklearn/" in m for m in workers)  # the check can fail: the worker that trained has them


def descendants(pid: int) -> list[int]:
    found = []
    for thread in Path(f"/proc/{pid}/task").iterdir():
        for child in (thread / "children").read_text().split():
            found += [int(child), *descendants(int(child))]
    return found


@pytest.mark.one_engine  # the learners and processes, not SQL: the SQL runs on both in the others
def test_model_serve_speaks_label_studio_ml_and_labelwell_can_use_it(server, api, make_project, topic_project, tmp_path):
    project, gold = topic_project
    for task_id in sorted(gold)[:24]:
        api.post(f"/api/tasks/{task_id}/annotations", json={"result": choose(gold[task_id])})
    wait_job(api, api.post(builtin(project) + "/train").json()["id"], timeout=90)
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([*LABELWELL, "model", "serve", "--project", str(project["id"]), "--port", str(port)],
                            env=server.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                health = httpx.get(url + "/health", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        assert health.json() == {"status": "UP", "model_class": "LabelwellBuiltin"}
        setup = httpx.post(url + "/setup", json={"project": "1.1767225600", "schema": CLASSIFY}).json()
        assert setup == {"model_version": "builtin-1"}
        text = next(t for t, topic in topics(70, seed=5, clarity=CLEAR) if topic == "Sport")
        answer = httpx.post(url + "/predict", json={"tasks": [{"id": 1, "data": {"text": text}},
                                                             {"id": 2, "data": {}}],
                                                   "project": "1.1767225600", "label_config": CLASSIFY,
                                                   "params": {"context": None}}, timeout=30).json()
        first, second = answer["results"]
        assert first["model_version"] == "builtin-1" and first["result"][0]["type"] == "choices"
        assert 0 <= first["score"] <= 1 and second["result"] == []  # a task without its text: no guess
        unknown = httpx.post(url + "/webhook", json={"action": "PROJECT_UPDATED", "project": {"id": 1}})
        assert unknown.json() == {"status": "Unknown event"}

        # Labelwell itself, as any Label Studio would: another project points at the served model
        other = make_project(label_config=CLASSIFY)
        api.post(f"/api/projects/{other['id']}/import", json=[{"text": t} for t, _ in topics(5, seed=8)])
        backend = api.post("/api/ml", json={"project": other["id"], "url": url}).json()
        assert backend["state"] == "CO" and backend["model_version"] == "builtin-1"
        retrieved = api.post(f"/api/dm/actions?id=retrieve_tasks_predictions&project={other['id']}",
                             json={"selectedItems": {"all": True}})
        assert retrieved.status_code == 200, retrieved.text
        deadline = time.monotonic() + 60
        while len(predictions_of(api, other, "builtin-1")) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(predictions_of(api, other, "builtin-1")) == 5
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.one_engine  # the learners and processes, not SQL: the SQL runs on both in the others
def test_a_run_killed_midway_leaves_the_previous_version_active_and_takes_no_number(server, api, make_project, worker):
    project = make_project(label_config=CLASSIFY)
    corpus = topics(3000, seed=6)
    api.patch(builtin(project), json={"enabled": True, "train_every": 100_000})
    # imported with their annotations: a big training set, so a run takes long enough to be killed in
    api.post(f"/api/projects/{project['id']}/import", json=[
        {"data": {"text": t}, "annotations": [{"result": choose(topic)}]} for t, topic in corpus[:40]])
    wait_job(api, api.post(builtin(project) + "/train").json()["id"], timeout=90)
    api.post(f"/api/projects/{project['id']}/import", json=[
        {"data": {"text": t}, "annotations": [{"result": choose(topic)}]} for t, topic in corpus[40:]])
    job = api.post(builtin(project) + "/train").json()
    deadline = time.monotonic() + 60
    while api.get(f"/api/jobs/{job['id']}").json()["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # inside cross-validation by now
    assert api.get(f"/api/jobs/{job['id']}").json()["state"] == "running"
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool's children, mid-run
    worker.wait()
    server.workers.remove(worker)  # gone: the session's other tests must not try to stop it
    server.start_worker()  # the next worker marks the dead one's job failed
    assert wait_job(api, job["id"], timeout=60)["state"] == "failed"
    state = api.get(builtin(project)).json()
    assert state["active_version"] == "builtin-1" and [v["version"] for v in state["versions"]] == ["builtin-1"]
    assert api.get(f"/api/projects/{project['id']}").json()["model_version"] == "builtin-1"


def test_labels_added_to_the_config_are_learnt_by_the_next_version(server, api, make_project, worker):
    project = make_project(label_config=CLASSIFY.replace('<Choice value="Travel"/>', ""))
    corpus = topics(60, seed=7, clarity=CLEAR)
    first = [(t, topic) for t, topic in corpus if topic != "Travel"][:20]
    api.post(f"/api/projects/{project['id']}/import", json=[
        {"data": {"text": t}, "annotations": [{"result": choose(topic)}]} for t, topic in first])
    api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t, _ in corpus[-4:]])  # no one's yet
    done = wait_job(api, api.post(builtin(project) + "/train").json()["id"], timeout=90)
    assert set(done["result"]["quality"]["topic"]["labels"]) == {"Sport", "Science", "Cooking"}
    assert done["result"]["predicted"] == 4
    assert api.patch(f"/api/projects/{project['id']}", json={"label_config": CLASSIFY}).status_code == 200
    travel = [(t, topic) for t, topic in corpus if topic == "Travel"][:6]
    api.post(f"/api/projects/{project['id']}/import", json=[
        {"data": {"text": t}, "annotations": [{"result": choose(topic)}]} for t, topic in travel])
    done = wait_job(api, api.post(builtin(project) + "/train").json()["id"], timeout=90)
    assert done["result"]["model_version"] == "builtin-2"
    assert set(done["result"]["quality"]["topic"]["labels"]) == {"Sport", "Science", "Cooking", "Travel"}
    learned = api.get(builtin(project)).json()["versions"][-1]["learned"]
    assert learned[0]["labels"] == ["Sport", "Science", "Cooking", "Travel"]
    # the unannotated tasks now start from builtin-2 alone: builtin-1's guesses no one saw are gone
    unannotated = [t for t in tasks_of(api, project) if not t["total_annotations"]]
    found = api.get(f"/api/predictions?project={project['id']}").json()
    assert sorted(p["model_version"] for p in found if p["task"] in {t["id"] for t in unannotated}) == ["builtin-2"] * 4
    assert [t["total_predictions"] for t in unannotated] == [1] * 4


DIALOGUE = """<View><Paragraphs name="chat" value="$chat" layout="dialogue"/>
<Choices name="about" toName="chat" choice="multiple"><Choice value="Sport"/><Choice value="Science"/>
<Choice value="Cooking"/><Choice value="Travel"/></Choices>
<HyperText name="page" value="$html"/><Choices name="kind" toName="page"><Choice value="Sport"/><Choice value="Science"/>
<Choice value="Cooking"/><Choice value="Travel"/></Choices></View>"""


@pytest.mark.one_engine  # the learners and processes, not SQL: the SQL runs on both in the others
def test_several_choices_on_a_dialogue_and_one_on_html_are_learnt_together(server, api, make_project, worker):
    project = make_project(label_config=DIALOGUE)
    corpus = topics(120, seed=11, clarity=CLEAR)
    items, answers = [], []
    for i in range(0, 120, 3):
        (a, ta), (b, tb), (c, tc) = corpus[i:i + 3]
        items.append({"chat": [{"author": "Ann", "text": a}, {"author": "Bo", "text": b}],
                      "html": f"<p onclick='x()'>{c}</p><script>alert(1)</script>"})
        answers.append((sorted({ta, tb}), tc))
    annotated = [{"data": data, "annotations": [{"result": [
        {"from_name": "about", "to_name": "chat", "type": "choices", "value": {"choices": about}},
        {"from_name": "kind", "to_name": "page", "type": "choices", "value": {"choices": [kind]}}]}]}
        for data, (about, kind) in zip(items[:30], answers[:30])]
    api.post(f"/api/projects/{project['id']}/import", json=annotated + [{"data": d} for d in items[30:]])
    done = wait_job(api, api.post(builtin(project) + "/train").json()["id"], timeout=90)
    assert set(done["result"]["quality"]) == {"about", "kind"}
    predicted = predictions_of(api, project, "builtin-1")
    assert len(predicted) == 10
    by_text = {t["data"]["html"]: t["id"] for t in tasks_of(api, project)}
    kinds_right = 0
    for data, (about, kind) in zip(items[30:], answers[30:]):
        result = {r["from_name"]: r["value"]["choices"] for r in predicted[by_text[data["html"]]]["result"]}
        assert set(result.get("about", [])) <= {"Sport", "Science", "Cooking", "Travel"}
        kinds_right += result["kind"] == [kind]
    assert kinds_right >= 6, kinds_right


def test_a_big_project_trains_on_a_stratified_sample_and_the_page_says_so(tmp_path, database_url_factory):
    srv = start_server(tmp_path / "data", database_url_factory("sqlite"), LABELWELL_LEARNING_SAMPLE="40")
    try:
        srv.start_worker()
        with srv.client(token=srv.admin_token) as api:
            project = api.post("/api/projects", json={"title": "Big", "label_config": CLASSIFY}).json()
            corpus = topics(120, seed=12, clarity=CLEAR)
            api.post(f"/api/projects/{project['id']}/import", json=[
                {"data": {"text": t}, "annotations": [{"result": choose(topic)}]} for t, topic in corpus])
            done = wait_job(api, api.post(builtin(project) + "/train").json()["id"], timeout=90)
            assert (done["result"]["examples"], done["result"]["available"], done["result"]["sampled"]) == (40, 120, True)
            # each topic keeps its share of the 120 in the 40 it learnt from (cross-validation saw them all)
            support = {label: q["support"] for label, q in done["result"]["quality"]["topic"]["labels"].items()}
            for topic in TOPICS:
                share = sum(1 for _, t in corpus if t == topic) / 120
                assert abs(support[topic] - 40 * share) <= 1.5, (support, topic)
            page = api.get(f"/projects/{project['id']}/model").text
            assert "40 tasks (a stratified sample of 120)" in page
    finally:
        srv.stop()
