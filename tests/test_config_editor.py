"""The config engine through the server: validation API, project config checks, the guard on
config changes, the editor's live preview and the starter gallery."""

from __future__ import annotations

import json

from components.starters import starters
from tests.helpers import browser, html, submit, text_of

NER = """<View>
  <Labels name="label" toName="text">
    <Label value="PER"/>
    <Label value="ORG"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""


def test_validate_api_answers_valid_with_the_data_keys(api):
    response = api.post("/api/projects/validate/", json={"label_config": NER})
    assert response.status_code == 200
    assert response.json()["valid"] is True and response.json()["data_keys"] == ["text"]
    assert response.json()["controls"]["label"] == {"type": "Labels", "to_name": ["text"]}


def test_validate_api_lists_every_error_with_its_place(api):
    config = '<View>\n<Labels name="l" toName="nothing"/>\n<Choices name="c" toName="t" choice="maybe"><Choice value="a"/></Choices>\n<Text name="t" value="$t"/>\n<Markdown name="v" value="$v"/>\n</View>'
    response = api.post("/api/projects/validate", json={"label_config": config})
    assert response.status_code == 400
    body = response.json()
    places = {(e["line"], e["tag"], e["attribute"]) for e in body["errors"]}
    assert {(2, "Labels", "toName"), (3, "Choices", "choice"), (5, "Markdown", None)} <= places
    assert any("does not support yet" in m for m in body["validation_errors"]["label_config"])


def test_project_with_a_control_that_cannot_label_its_object_is_refused(api):
    config = '<View><Text name="t" value="$t"/><RectangleLabels name="r" toName="t"><Label value="a"/></RectangleLabels></View>'
    response = api.post("/api/projects", json={"title": "Boxes on text", "label_config": config})
    assert response.status_code == 400
    assert "cannot label <Text>" in response.json()["validation_errors"]["label_config"][0]


def add_annotation(server, project_id: int, result: list) -> None:
    """An annotation made the way the workspace will store it (no API creates them yet)."""
    server.query("INSERT INTO lw_task (project, inner_id, data) VALUES ($1, 1, $2)", project_id,
                 json.dumps({"text": "Zoë works at ACME"}))
    task = server.query("SELECT id FROM lw_task WHERE project = $1", project_id)[0]["id"]
    server.query("INSERT INTO lw_annotation (task, project, result) VALUES ($1, $2, $3)", task, project_id,
                 json.dumps(result))
    server.query("UPDATE lw_project SET total_annotations_number = 1, task_number = 1 WHERE id = $1", project_id)


def test_config_change_that_would_orphan_annotations_is_refused(server, api, make_project):
    project = make_project(label_config=NER)
    add_annotation(server, project["id"], [{"id": "a", "from_name": "label", "to_name": "text", "type": "labels",
                                            "value": {"start": 0, "end": 3, "text": "Zoë", "labels": ["PER"]}}])
    removed_label = NER.replace('<Label value="PER"/>', "")
    response = api.patch(f"/api/projects/{project['id']}", json={"label_config": removed_label})
    assert response.status_code == 400
    message = response.json()["validation_errors"]["label_config"][0]
    assert 'label "PER" of label is still used in 1 result(s)' in message
    renamed_control = NER.replace('name="label"', 'name="entities"')
    message = api.patch(f"/api/projects/{project['id']}", json={"label_config": renamed_control}).json()
    assert "1 result(s) with from_name=label, to_name=text, type=labels" in message["validation_errors"]["label_config"][0]
    assert api.get(f"/api/projects/{project['id']}").json()["label_config"] == NER  # nothing changed
    checked = api.post(f"/api/projects/{project['id']}/validate", json={"label_config": removed_label})
    assert checked.status_code == 400
    added_label = NER.replace('<Label value="ORG"/>', '<Label value="ORG"/><Label value="LOC"/>')
    assert api.patch(f"/api/projects/{project['id']}", json={"label_config": added_label}).status_code == 200


def test_editor_preview_shows_errors_as_you_type(server):
    client = browser(server)
    page = client.get("/projects/new")
    broken = '<View>\n<Text name="t" value="$t"/>\n<Choices name="c" toName="x"><Choice value="a"/></Choices>\n</View>'
    response = client.post("/projects/config/preview", data={"label_config": broken}, headers={
        "HX-Request": "true", "x-csrftoken": client.cookies["csrftoken"]})
    assert response.status_code == 200
    assert text_of(response, ".config-errors li") == [
        'line 3 <Choices> toName: toName="x" points at nothing: no tag is named "x" (names: c, t).']
    assert page.status_code == 200


def test_editor_preview_renders_the_form_with_the_sample_task(server):
    client = browser(server)
    client.get("/projects/new")
    config = NER + '\n<!-- {"data": {"text": "Ana lives in Porto"}} -->'
    response = client.post("/projects/config/preview", data={"label_config": config},
                           headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert text_of(response, ".config-ok") == ["✓ The config is valid. Tasks need: text."]
    assert text_of(response, "#config-preview .lw-text-body") == ["Ana lives in Porto"]
    assert [b.get("data-value") for b in html(response).cssselect(".lw-label")] == ["PER", "ORG"]


def test_starter_gallery_fills_the_editor(server):
    client = browser(server)
    page = client.get("/projects/new")
    links = html(page).cssselect("#starters a")
    assert len(links) == len(starters())  # every starter, grouped by data type (test_config_reference.py)
    chosen = client.get(links[0].get("href"))
    assert html(chosen).cssselect("#title")[0].get("value") == "Named entities"
    assert "<Labels" in html(chosen).cssselect("#label_config")[0].text
    created = submit(client, links[0].get("href"), "/projects/new", {
        "title": "From a starter", "label_config": html(chosen).cssselect("#label_config")[0].text,
        "maximum_annotations": "1", "sampling": "Sequential sampling"})
    assert created.status_code == 302
    detail = client.get(created.headers["location"])
    assert "São Paulo" in text_of(detail, "#config-preview .lw-text-body")[0]


def test_only_admins_use_the_preview(server, make_user):
    user = make_user("annotator")
    client = browser(server, user["email"], user["password"])
    client.get("/projects")
    response = client.post("/projects/config/preview", data={"label_config": NER},
                           headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert response.status_code == 403
