"""Numbers past Python's 4,300-digit int-string limit, and past every column's range, are the
client's mistake: a 400 that names the field, never a 500, and nothing stored."""

from __future__ import annotations

from contextlib import closing

import pytest

from tests.helpers import browser, csrf_from, html, submit
from tests.test_labelling import NER, open_workspace, post

HUGE = "9" * 5000  # int() refuses it outright: "Exceeds the limit (4300 digits)"
BIG = "9" * 25  # parses, but no id or column holds it


def raw_json(client, path: str, body: str, **kwargs):
    return client.post(path, content=body, headers={"Content-Type": "application/json"}, **kwargs)


@pytest.mark.parametrize("number", [HUGE, BIG])
def test_workspace_forms_name_the_prediction_field(server, api, make_user, make_project, number):
    project = make_project(label_config=NER)
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"text": "Ada met ACME"}]).status_code == 201
    user = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    with closing(browser(server, user["email"], user["password"])) as web:
        page, fields = open_workspace(web, project["id"])
        for action in ("draft", "submit", "skip"):
            answer = post(web, page, action, {**fields, "mood": ["pos"]}, prediction=number)
            assert answer.status_code in (400, 422), (action, answer.status_code)
            assert "prediction" in answer.text
    task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
    assert task["total_annotations"] == 0 and task["cancelled_annotations"] == 0


@pytest.mark.parametrize("number", [HUGE, BIG])
def test_ml_api_ids_and_data_manager_selection(api, make_project, number):
    project = make_project()
    for path in (f"/api/ml?project={number}", f"/api/dm/actions?project={number}"):
        answer = api.get(path)
        assert answer.status_code == 400 and "project" in answer.text, (path, answer.text[:200])
    answer = raw_json(api, "/api/ml", f'{{"project": {number}, "url": "http://127.0.0.1:9"}}')
    assert answer.status_code == 400, answer.text[:200]
    answer = raw_json(api, f"/api/dm/actions?id=retrieve_tasks_predictions&project={project['id']}",
                      f'{{"selectedItems": {{"all": false, "included": [{number}]}}}}')
    assert answer.status_code == 400 and "selectedItems" in answer.text, answer.text[:200]


@pytest.mark.parametrize("number", [HUGE, BIG])
def test_ground_truth_checks_on_the_agreement_settings(server, api, make_project, number):
    config = '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="a"/></Choices></View>'
    project = make_project(label_config=config)
    with closing(browser(server)) as web:
        page = f"/projects/{project['id']}/agreement"
        saved = submit(web, page, f"{page}/settings", {"ground_truth_checks": number})
        assert saved.status_code in (302, 303)
        assert "Must be a whole number from 0 to 100" in web.get(page).text
    assert api.get(f"/api/projects/{project['id']}").json()["ground_truth_checks"] == 0


@pytest.mark.parametrize("number", [HUGE, BIG])
def test_ids_in_query_strings_and_forms(server, api, make_project, number):
    project = make_project()
    for path in (f"/api/tasks?project={number}", f"/api/predictions?task={number}",
                 f"/api/projects/{project['id']}/export?ids={number}"):
        answer = api.get(path)
        assert answer.status_code == 400, (path, answer.status_code, answer.text[:200])
    with closing(browser(server)) as web:
        # page numbers and filters that are not small whole numbers fall back, as on any list
        assert web.get(f"/projects/{project['id']}/tasks?page={number}&annotator={number}").status_code == 200
        listing = web.get(f"/projects/{project['id']}/tasks")
        answer = web.post(f"/projects/{project['id']}/tasks/actions", data={
            "_csrf_token": csrf_from(listing.text), "action": "delete_tasks", "ids": number})
        assert answer.status_code in (302, 303)  # "No tasks were selected."
        form = web.get(f"/projects/{project['id']}/edit")
        answer = web.post(f"/projects/{project['id']}/edit", data={
            "_csrf_token": csrf_from(form.text), "title": project["title"], "label_config": "<View></View>",
            "maximum_annotations": number, "sampling": "Sequential sampling"})
        assert answer.status_code == 400 and html(answer).cssselect(".error, [role=alert]")
