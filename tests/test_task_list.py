"""The task list page, the task page, the page import with its progress, and the sample projects."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.helpers import browser, html, submit, text_of
from tests.test_export import NER_TEXT, span


def seed(api, project_id: int, me: int) -> None:
    tasks = [{"data": {"text": "alpha one"}},
             {"data": {"text": "beta two"}, "predictions": [{"result": []}]},
             {"data": {"text": NER_TEXT}, "annotations": [{"completed_by": me, "result": [
                 span(NER_TEXT, "Ada Lovelace", "PERSON", "a1")]}]},
             {"data": {"text": "gamma Zoë"}, "annotations": [{"completed_by": me, "was_cancelled": True, "result": []}]}]
    assert api.post(f"/api/projects/{project_id}/import", json=tasks).status_code == 201


def column(page, name: str) -> list[str]:
    headers = text_of(page, "table.tasks th")
    index = headers.index(name) + 1
    return text_of(page, f"table.tasks tbody td:nth-child({index})")


def test_filters_sort_and_status(server, api, ner_project):
    seed(api, ner_project["id"], api.get("/api/current-user/whoami").json()["id"])
    client = browser(server)
    base = f"/projects/{ner_project['id']}/tasks"
    page = client.get(base)
    assert column(page, "Status") == ["new", "new", "done", "in progress"]
    assert column(page, "text")[2].startswith("Ada Lovelace")
    assert column(page, "Annotators")[2] == server.admin_email
    assert column(client.get(base + "?status=done"), "ID") == ["3"]
    assert column(client.get(base + "?status=new"), "ID") == ["1", "2"]
    assert column(client.get(base + "?predictions=yes"), "ID") == ["2"]
    assert column(client.get(base + "?q=Zoë"), "ID") == ["4"]
    assert column(client.get(base + "?sort=-id"), "ID") == ["4", "3", "2", "1"]
    assert column(client.get(base + "?sort=-annotations"), "ID")[0] == "3"
    partial = client.get(base + "?status=done", headers={"HX-Request": "true", "HX-Target": "task-table"})
    assert "<html" not in partial.text and text_of(partial, ".table-summary")[0].startswith("Tasks 1–1 of 1")


def test_bulk_actions(server, api, ner_project):
    seed(api, ner_project["id"], api.get("/api/current-user/whoami").json()["id"])
    client = browser(server)
    base = f"/projects/{ner_project['id']}/tasks"
    ids = [t["id"] for t in api.get(f"/api/tasks?project={ner_project['id']}").json()["tasks"]]
    done = submit(client, base, base + "/actions", {"action": "delete_tasks_annotations", "ids": [str(ids[2])]})
    assert done.status_code == 302
    assert api.get(f"/api/projects/{ner_project['id']}").json()["total_annotations_number"] == 0
    submit(client, base, base + "/actions?predictions=yes", {"action": "delete_tasks_predictions", "scope": "matching"})
    assert api.get(f"/api/projects/{ner_project['id']}").json()["total_predictions_number"] == 0
    submit(client, base, base + "/actions?q=alpha", {"action": "delete_tasks", "scope": "matching"})
    assert [t["data"]["text"] for t in api.get(f"/api/tasks?project={ner_project['id']}").json()["tasks"]] == [
        "beta two", NER_TEXT, "gamma Zoë"]
    assert "Deleted 1 tasks of 1 selected task(s)." in text_of(client.get(base), ".flash")


def test_annotators_cannot_act_on_tasks(server, api, ner_project, make_user):
    user = make_user()
    api.post(f"/api/projects/{ner_project['id']}/members", json={"user": user["id"], "role": "annotator"})
    client = browser(server, user["email"], user["password"])
    page = client.get(f"/projects/{ner_project['id']}/tasks")
    assert page.status_code == 200 and not html(page).cssselect("#action")
    response = client.post(f"/projects/{ner_project['id']}/tasks/actions",
                           data={"action": "delete_tasks", "scope": "matching", "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 403


def test_task_page_shows_annotations_as_made(server, api, ner_project):
    seed(api, ner_project["id"], api.get("/api/current-user/whoami").json()["id"])
    task = api.get(f"/api/tasks?project={ner_project['id']}").json()["tasks"][2]
    page = browser(server).get(f"/projects/{ner_project['id']}/tasks/{task['id']}")
    assert text_of(page, ".annotation mark") == ["Ada Lovelace"]
    assert not html(page).cssselect(".annotation input[name=region]")  # shown, not editable


def test_sample_projects(server):
    client = browser(server)
    client.get("/projects")
    for kind, count in (("ner", 200), ("sentiment", None), ("dialogue", 24), ("boxes", 6)):
        response = client.post("/projects/sample", data={"kind": kind, "_csrf_token": client.cookies["csrftoken"]})
        assert response.status_code == 302
        detail = client.get(response.headers["location"])
        number = int(text_of(detail, ".counts-list dd")[0].replace(",", ""))
        assert number == (count or number) > 0
    tasks = client.get(response.headers["location"] + "/tasks")
    # the pictures' thumbnails are asked of the worker (none runs here): said so, not a broken image
    assert html(tasks).cssselect("td.preview .thumb-pending")
    project_id = int(response.headers["location"].rstrip("/").rsplit("/", 1)[1])
    with server.client(token=server.admin_token) as api:
        image = api.get(f"/api/tasks?project={project_id}&fields=all").json()["tasks"][0]["data"]["image"]
    assert client.get(image).headers["content-type"] == "image/png"
    # with projects there already, "New project" still offers them
    offered = html(client.get("/projects/new")).cssselect("form.sample-form button[name=kind]")
    assert [b.get("value") for b in offered] == ["ner", "sentiment", "boxes", "dialogue"]


def test_import_from_the_page_with_progress(page, server, api, ner_project):
    if not server.workers:
        server.start_worker()
    page.goto("/login")
    page.fill("#email", server.admin_email)
    page.fill("#password", server.admin_password)
    page.press("#password", "Enter")
    expect(page.locator(".who .role")).to_have_text("admin")
    page.goto(f"/projects/{ner_project['id']}")
    lines = "".join(json.dumps({"text": f"line {i}"}) + "\n" for i in range(3000)).encode()
    page.set_input_files("#import-files", files=[{"name": "many.jsonl", "mimeType": "application/x-ndjson", "buffer": lines},
                                                  {"name": "more.csv", "mimeType": "text/csv", "buffer": b"text\nfrom csv\n"}])
    page.click("#import button[type=submit]")
    expect(page.locator("#import-status .config-ok")).to_contain_text("Imported 3,001 tasks", timeout=60_000)
    assert api.get(f"/api/projects/{ner_project['id']}").json()["task_number"] == 3001
    page.set_input_files("#import-files", files=[{"name": "bad.jsonl", "mimeType": "application/x-ndjson",
                                                  "buffer": b'{"text": "ok"}\n{oops\n'}])
    page.click("#import button[type=submit]")
    expect(page.locator("#import-status .config-errors li")).to_have_text("bad.jsonl, line 2: not valid JSON: "
                                                                         "Expecting property name enclosed in double quotes",
                                                                         timeout=60_000)
    assert api.get(f"/api/projects/{ner_project['id']}").json()["task_number"] == 3001
