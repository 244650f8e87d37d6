"""The labelling queue and workspace over HTTP: who gets which task, locks, skips, drafts, submits."""

from __future__ import annotations

import json
from contextlib import closing
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.helpers import browser, html, text_of

NER = """<View>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
  <Choices name="mood" toName="text" required="true" requiredMessage="Pick a mood first"><Choice value="pos"/><Choice value="neg"/></Choices>
</View>"""
PLAIN = """<View><Text name="text" value="$text"/>
  <Choices name="c" toName="text"><Choice value="a"/><Choice value="b"/></Choices></View>"""


@pytest.fixture
def team(api, make_user, make_project):
    """make(n, **project fields) -> (project, [annotators as dicts with a token client])."""
    def make(n: int, tasks: list[str] | int, **fields) -> tuple[dict, list[dict]]:
        project = make_project(label_config=fields.pop("label_config", PLAIN), **fields)
        items = [{"text": t} for t in tasks] if isinstance(tasks, list) else [{"text": f"task {i}"} for i in range(tasks)]
        assert api.post(f"/api/projects/{project['id']}/import", json=items).status_code == 201
        people = []
        for _ in range(n):
            user = make_user()
            assert api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]}).status_code in (200, 201)
            people.append(user)
        return project, people

    return make


def token_client(server, api, user: dict) -> httpx.Client:
    """An API client for `user`, with the token they get from their own login."""
    with closing(browser(server, user["email"], user["password"])) as web:
        token = web.get("/api/current-user/token").json()["token"]
    return server.client(token=token)


def open_workspace(client: httpx.Client, project_id: int) -> tuple[httpx.Response, dict[str, list[str]]]:
    """Follow 'Start labelling' to a task's workspace; its form's fields as the page has them."""
    page = client.get(f"/projects/{project_id}/label", follow_redirects=True)
    return page, form_of(page)


def form_of(page: httpx.Response) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    doc = html(page)
    for el in doc.cssselect("#lw-work input"):
        name, kind = el.get("name"), el.get("type")
        if not name or (kind in ("radio", "checkbox") and el.get("checked") is None):
            continue
        fields.setdefault(name, []).append(el.get("value") or "")
    return fields


def task_of(page: httpx.Response) -> int:
    return int(html(page).cssselect(".lw-workspace")[0].get("data-task"))


def post(client: httpx.Client, page: httpx.Response, what: str, fields: dict[str, list[str]], **extra) -> httpx.Response:
    base = html(page).cssselect(".lw-workspace")[0].get("data-base")
    body = {k: (values if isinstance(values, list) else [values]) for k, values in {**fields, **extra}.items()}
    return client.post(f"{base}/{what}", data=body, headers={"HX-Request": "true"})


def span(start: int, end: int, label: str = "PER", rid: str = "r1") -> str:
    return json.dumps({"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
                       "value": {"start": start, "end": end, "labels": [label]}})


def test_next_locks_a_task_and_resumes_it(server, api, team):
    project, (a, b, c) = team(3, 2)
    with token_client(server, api, a) as ca, token_client(server, api, b) as cb, token_client(server, api, c) as cc:
        first = ca.get(f"/api/projects/{project['id']}/next")
        assert first.status_code == 200, first.text
        assert ca.get(f"/api/projects/{project['id']}/next").json()["id"] == first.json()["id"]  # resumed, not a new one
        second = cb.get(f"/api/projects/{project['id']}/next").json()
        assert second["id"] != first.json()["id"]
        none = cc.get(f"/api/projects/{project['id']}/next")
        assert none.status_code == 404  # both tasks are held
        # a's hold goes stale: the task returns to the pool instead of hiding behind the lock
        server.query("UPDATE lw_task_lock SET expire_at = '2000-01-01 00:00:00.000001+00:00' WHERE task = $1",
                     first.json()["id"])
        assert cc.get(f"/api/projects/{project['id']}/next").json()["id"] == first.json()["id"]


def test_queue_is_private_to_members(server, api, team, make_user):
    project, _ = team(1, 1)
    outsider = make_user()
    with token_client(server, api, outsider) as client:
        assert client.get(f"/api/projects/{project['id']}/next").status_code == 404
    with closing(browser(server, outsider["email"], outsider["password"])) as web:
        assert web.get(f"/projects/{project['id']}/label").status_code == 404
        task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
        assert web.get(f"/projects/{project['id']}/label/{task['id']}").status_code == 404


@pytest.mark.parametrize("overlap,tasks", [(1, 24), (2, 12)])
def test_many_annotators_at_once_fill_every_slot_exactly(server, api, team, overlap, tasks):
    project, people = team(8, tasks, maximum_annotations=overlap)
    clients = [token_client(server, api, p) for p in people]
    handed: list[tuple[int, int]] = []

    def work(index: int) -> list[tuple[int, int]]:
        client, got, idle = clients[index], [], 0
        while idle < 100:
            response = client.get(f"/api/projects/{project['id']}/next")
            if response.status_code == 404:
                # nothing free for me right now: finished, or the rest is held by others for a moment
                state = api.get(f"/api/projects/{project['id']}").json()
                if state["finished_task_number"] == tasks:
                    break
                idle += 1
                time.sleep(0.05)
                continue
            assert response.status_code == 200, response.text
            task_id = response.json()["id"]
            got.append((task_id, people[index]["id"]))
            made = client.post(f"/api/tasks/{task_id}/annotations", json={"result": [], "lead_time": 1})
            assert made.status_code == 201, made.text
        return got

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            for got in pool.map(work, range(8)):
                handed.extend(got)
    finally:
        for c in clients:
            c.close()
    assert len(handed) == len(set(handed)), "someone was handed the same task twice"
    rows = server.query("SELECT task, completed_by FROM lw_annotation WHERE project = $1", project["id"])
    per_task: dict[int, list[int]] = {}
    for row in rows:
        per_task.setdefault(row["task"], []).append(row["completed_by"])
    assert len(per_task) == tasks
    assert all(len(who) == overlap for who in per_task.values()), per_task
    assert all(len(set(who)) == len(who) for who in per_task.values()), "an annotator annotated a task twice"
    assert api.get(f"/api/projects/{project['id']}").json()["finished_task_number"] == tasks


def test_workspace_keeps_a_draft_and_submits_once(server, api, team):
    text = "Zoë 👩‍🔬 met ACME\r\nin Paris"
    project, (a,) = team(1, [text], label_config=NER)
    with closing(browser(server, a["email"], a["password"])) as web:
        page, fields = open_workspace(web, project["id"])
        assert page.status_code == 200
        task_id = task_of(page)
        assert "/label/" in str(page.url)
        start = text.index("ACME")
        saved = post(web, page, "draft", fields, region=[span(start, start + 4, "ORG")], revision="5")
        assert saved.status_code == 200, saved.text
        assert [m.text_content() for m in html(saved).cssselect("mark.lw-span")] == ["ACME"]
        # a reload (or a crash and a new tab) finds the draft exactly
        again = web.get(f"/projects/{project['id']}/label/{task_id}")
        assert "your draft, restored" in again.text
        assert [m.text_content() for m in html(again).cssselect("mark.lw-span")] == ["ACME"]
        # a late, older save does not overwrite the newer one
        post(web, page, "draft", fields, region=[], revision="4")
        assert [m.text_content() for m in html(web.get(f"/projects/{project['id']}/label/{task_id}")).cssselect("mark.lw-span")] == ["ACME"]
        fields = form_of(again)
        # required choice: the config's message, nothing stored
        refused = post(web, again, "submit", fields)
        assert refused.status_code == 422
        assert "Pick a mood first" in refused.text
        fields["mood"] = ["pos"]
        done = post(web, again, "submit", fields)
        assert done.status_code == 200 and done.headers["HX-Redirect"] == f"/projects/{project['id']}/label"
        twice = post(web, again, "submit", fields)  # a double click, or a retried request
        assert twice.status_code == 200
    stored = api.get(f"/api/tasks/{task_id}/annotations").json()
    assert len(stored) == 1
    spans = [r for r in stored[0]["result"] if r["type"] == "labels"]
    assert spans[0]["value"] == {"start": start, "end": start + 4, "text": "ACME", "labels": ["ORG"]}
    assert text[spans[0]["value"]["start"]:spans[0]["value"]["end"]] == "ACME"
    assert [r["value"]["choices"] for r in stored[0]["result"] if r["type"] == "choices"] == [["pos"]]
    assert server.query("SELECT COUNT(*) AS n FROM lw_annotation_draft WHERE task = $1", task_id)[0]["n"] == 0


@pytest.mark.parametrize(("odd", "actions"), [({"lead_time": "nan"}, ("draft", "submit")),
                                              ({"lead_time": "1e400"}, ("draft", "submit")),
                                              ({"revision": "9" * 25}, ("draft",))])
def test_workspace_numbers_that_parse_but_fit_no_column(server, api, team, odd, actions):
    """float() reads "nan" and "1e400", int() reads 25 digits: refused, not a 500."""
    project, (a,) = team(1, 1)
    with closing(browser(server, a["email"], a["password"])) as web:
        page, fields = open_workspace(web, project["id"])
        for what in actions:
            refused = post(web, page, what, {**fields, "c": ["a"]}, **odd)
            assert refused.status_code == 422 and "Must be a number" in refused.text
        refused = post(web, page, "submit", {**fields, "c": ["a"]}, prediction="³")  # no id: named, not stored
        assert refused.status_code == 422 and "prediction" in refused.text
        assert web.get(f"{html(page).cssselect('.lw-workspace')[0].get('data-base')}/suggestion?job=³").status_code < 500


def test_reopening_updates_the_same_annotation(server, api, team):
    project, (a,) = team(1, ["one", "two"])
    with closing(browser(server, a["email"], a["password"])) as web:
        page, fields = open_workspace(web, project["id"])
        first = task_of(page)
        assert post(web, page, "submit", {**fields, "c": ["a"]}).status_code == 200
        page2, fields2 = open_workspace(web, project["id"])
        assert task_of(page2) != first
        assert html(page2).cssselect("[data-testid=previous]")[0].get("href") == f"/projects/{project['id']}/label/{first}"
        reopened = web.get(f"/projects/{project['id']}/label/{first}")
        assert reopened.status_code == 200 and html(reopened).cssselect("[data-testid=update]")
        assert post(web, reopened, "submit", {**form_of(reopened), "c": ["b"]}).status_code == 200
        history = web.get(f"/projects/{project['id']}/label/history")
        assert len(html(history).cssselect("[data-testid=history] tbody tr")) == 1
    stored = api.get(f"/api/tasks/{first}/annotations").json()
    assert len(stored) == 1 and stored[0]["result"][0]["value"]["choices"] == ["b"]


def test_end_page_says_what_the_annotator_did(server, api, team):
    project, (a,) = team(1, ["one", "two"])
    with closing(browser(server, a["email"], a["password"])) as web:
        page, fields = open_workspace(web, project["id"])
        post(web, page, "submit", {**fields, "c": ["a"]})
        page, fields = open_workspace(web, project["id"])
        assert post(web, page, "skip", fields).status_code == 200
        end = web.get(f"/projects/{project['id']}/label", follow_redirects=True)
        assert end.status_code == 200 and html(end).cssselect("[data-testid=queue-done]")
        assert text_of(end, "#done-annotated") == ["1"] and text_of(end, "#done-skipped") == ["1"]


@pytest.mark.parametrize("mode", ["REQUEUE_FOR_OTHERS", "REQUEUE_FOR_ME", "IGNORE_SKIPPED"])
def test_skip_queue_modes(server, api, team, mode):
    project, (a, b) = team(2, ["one", "two"], skip_queue=mode)
    with closing(browser(server, a["email"], a["password"])) as wa, closing(browser(server, b["email"], b["password"])) as wb:
        page, fields = open_workspace(wa, project["id"])
        skipped = task_of(page)
        assert post(wa, page, "skip", fields).status_code == 200
        page, fields = open_workspace(wa, project["id"])
        other = task_of(page)
        assert other != skipped  # a skip never hands the same task straight back
        assert post(wa, page, "submit", {**fields, "c": ["a"]}).status_code == 200
        back = wa.get(f"/projects/{project['id']}/label", follow_redirects=True)
        for_b = wb.get(f"/projects/{project['id']}/label", follow_redirects=True)
        if mode == "REQUEUE_FOR_ME":
            assert task_of(back) == skipped  # comes back to the one who skipped it
            assert html(for_b).cssselect("[data-testid=queue-done]")  # ... and is held by them
        elif mode == "REQUEUE_FOR_OTHERS":
            assert html(back).cssselect("[data-testid=queue-done]")
            assert task_of(for_b) == skipped
        else:
            assert html(back).cssselect("[data-testid=queue-done]")
            assert html(for_b).cssselect("[data-testid=queue-done]")  # a skip counts as done
    if mode == "REQUEUE_FOR_ME":
        with closing(browser(server, a["email"], a["password"])) as wa:
            page, fields = open_workspace(wa, project["id"])
            assert post(wa, page, "submit", {**fields, "c": ["b"]}).status_code == 200
        stored = api.get(f"/api/tasks/{skipped}/annotations").json()
        assert len(stored) == 1 and stored[0]["was_cancelled"] is False  # the skip became the annotation


def test_prediction_is_the_starting_draft(server, api, team):
    project, (a,) = team(1, ["Ada Lovelace wrote"], label_config=NER)
    task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
    pred = api.post("/api/predictions", json={"task": task["id"], "model_version": "v1", "score": 0.5, "result": [
        {"id": "p1", "from_name": "label", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 3, "labels": ["PER"]}},
        {"id": "p2", "from_name": "label", "to_name": "text", "type": "labels", "value": {"start": 4, "end": 12, "labels": ["PER"]}}]})
    assert pred.status_code == 201, pred.text
    with closing(browser(server, a["email"], a["password"])) as web:
        page, fields = open_workspace(web, project["id"])
        assert "starting from the model" in page.text
        assert [m.text_content() for m in html(page).cssselect("mark.lw-span")] == ["Ada", "Lovelace"]
        regions = [json.loads(v) for v in fields["region"]]
        regions[1]["value"]["labels"] = ["ORG"]  # the annotator corrects one of them
        fields["region"] = [json.dumps(r) for r in regions]
        fields["mood"] = ["pos"]
        assert post(web, page, "submit", fields).status_code == 200
    stored = api.get(f"/api/tasks/{task['id']}/annotations").json()[0]
    origins = {r["id"]: r.get("origin") for r in stored["result"] if r["type"] == "labels"}
    assert origins == {"p1": "prediction", "p2": "prediction-changed"}
    assert stored["parent_prediction"] == pred.json()["id"]


def test_a_held_task_link_does_not_open_for_someone_else(server, api, team):
    project, (a, b) = team(2, ["only"])
    with closing(browser(server, a["email"], a["password"])) as wa, closing(browser(server, b["email"], b["password"])) as wb:
        page, _ = open_workspace(wa, project["id"])
        link = f"/projects/{project['id']}/label/{task_of(page)}"
        taken = wb.get(link)
        assert taken.status_code == 409 and html(taken).cssselect("[data-testid=task-taken]")
        reloaded = wa.get(link)  # the holder's own link (a reload) works, and the new page holds the task
        assert reloaded.status_code == 200
        # the old page's goodbye arrives late: it lets go of its own hold only, and the reload keeps the task
        old, new = form_of(page), form_of(reloaded)
        assert wa.post(f"{link}/release", data={"_csrf_token": old["_csrf_token"][0], "key": old["key"][0]}).status_code == 204
        assert wb.get(link).status_code == 409
        # leaving the page that holds it lets go at once
        assert wa.post(f"{link}/release", data={"_csrf_token": new["_csrf_token"][0], "key": new["key"][0]}).status_code == 204
        assert wb.get(link).status_code == 200


def test_an_expired_hold_taken_by_someone_else_stays_theirs(server, api, team):
    project, (a, b) = team(2, ["only"])
    with closing(browser(server, a["email"], a["password"])) as wa, closing(browser(server, b["email"], b["password"])) as wb:
        page, fields = open_workspace(wa, project["id"])
        task_id = task_of(page)
        server.query("UPDATE lw_task_lock SET expire_at = '2000-01-01 00:00:00.000001+00:00' WHERE task = $1", task_id)
        taken, _ = open_workspace(wb, project["id"])  # a's laptop slept: the task went to b
        assert task_of(taken) == task_id
        # a wakes up: neither the heartbeat nor a draft save brings the old hold back
        heartbeat = wa.post(f"/projects/{project['id']}/label/{task_id}/lock", headers={"x-csrftoken": fields["_csrf_token"][0]})
        assert heartbeat.status_code == 409
        assert post(wa, page, "draft", fields, revision="9").status_code == 200
        holders = server.query("SELECT \"user\", expire_at FROM lw_task_lock WHERE task = $1", task_id)
        live = [r["user"] for r in holders if not str(r["expire_at"]).startswith("2000")]
        assert live == [b["id"]]
