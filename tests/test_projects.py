"""Projects through the API (as Label Studio scripts call it) and through the pages (as a person does)."""

from __future__ import annotations

import pytest

from tests.helpers import browser, html, submit, text_of

NER = """<View>
  <Labels name="label" toName="text">
    <Label value="Person"/><Label value="Organisation"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""


# ==== API ====

def test_api_create_read_update_delete(api):
    created = api.post("/api/projects/", json={"title": "NER batch 1", "description": "News articles",
                                               "label_config": NER, "expert_instruction": "<b>Tag people</b>",
                                               "maximum_annotations": 3, "show_skip_button": False})
    assert created.status_code == 201
    project = created.json()
    assert project["title"] == "NER batch 1"
    assert project["label_config"] == NER
    assert project["maximum_annotations"] == 3 and project["show_skip_button"] is False
    assert project["task_number"] == 0 and project["total_annotations_number"] == 0
    assert project["created_by"]["id"] and project["created_at"]

    for path in (f"/api/projects/{project['id']}", f"/api/projects/{project['id']}/"):
        assert api.get(path).json()["description"] == "News articles"

    patched = api.patch(f"/api/projects/{project['id']}", json={"title": "NER batch 1 (v2)", "sampling": "Uniform sampling"})
    assert patched.status_code == 200
    assert patched.json()["title"] == "NER batch 1 (v2)"
    assert api.get(f"/api/projects/{project['id']}/").json()["sampling"] == "Uniform sampling"
    assert api.get(f"/api/projects/{project['id']}").json()["label_config"] == NER  # untouched fields stay

    assert api.delete(f"/api/projects/{project['id']}/").status_code == 204
    assert api.get(f"/api/projects/{project['id']}").status_code == 404
    assert api.delete(f"/api/projects/{project['id']}").status_code == 404


def test_api_list_is_paginated_like_label_studio(api, make_project):
    made = [make_project()["id"] for _ in range(3)]
    total = api.get("/api/projects").json()["count"]
    first = api.get("/api/projects?page_size=2").json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == total and len(first["results"]) == 2 and first["previous"] is None
    assert [p["id"] for p in first["results"]] == sorted(made, reverse=True)[:2]  # newest first
    second = api.get(first["next"]).json()
    assert second["previous"] is not None
    assert second["results"][0]["id"] == sorted(made, reverse=True)[2]
    assert api.get("/api/projects?page=0").status_code == 400


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "ab"}, "title"),
    ({"title": "x" * 51}, "title"),
    ({"title": "Fine", "maximum_annotations": 0}, "maximum_annotations"),
    ({"title": "Fine", "sampling": "Whatever sampling"}, "sampling"),
    ({"title": "Fine", "show_skip_button": "yes"}, "show_skip_button"),
    ({"title": "Fine", "label_config": "<View><Text name='t'></View>"}, "label_config"),
    ({"title": "Fine", "label_config": "<Text name='t' value='$t'/>"}, "label_config"),
])
def test_api_rejects_bad_fields_naming_them(api, body, field):
    response = api.post("/api/projects", json=body)
    assert response.status_code == 400
    assert list(response.json()["validation_errors"]) == [field]


def test_api_malformed_config_error_names_the_line(api):
    config = "<View>\n  <Text name='t' value='$t'>\n</View>"
    response = api.post("/api/projects", json={"title": "Broken", "label_config": config})
    message = response.json()["validation_errors"]["label_config"][0]
    assert "line 3" in message and "not well formed" in message


def test_api_rejects_hostile_xml_without_reading_files(api):
    xxe = ('<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<View><Header value="&x;"/></View>')
    bomb = ('<!DOCTYPE v [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<View><Header value="&b;"/></View>')
    for config in (xxe, bomb):
        response = api.post("/api/projects", json={"title": "Hostile", "label_config": config})
        assert response.status_code == 400
        assert "root:" not in response.text
        assert "DOCTYPE" in response.json()["validation_errors"]["label_config"][0]


def test_api_patch_of_a_missing_project_is_404(api):
    assert api.patch("/api/projects/999999", json={"title": "Nope"}).status_code == 404


def test_api_body_must_be_an_object(api):
    assert api.post("/api/projects", json=["not", "an", "object"]).status_code == 400


# ==== Pages ====

def test_page_create_edit_delete(server):
    client = browser(server)
    created = submit(client, "/projects/new", "/projects/new", {
        "title": "Sentiment", "description": "Product reviews", "expert_instruction": "Pick one.",
        "label_config": NER, "maximum_annotations": "2", "sampling": "Sequential sampling", "show_skip_button": "on"})
    assert created.status_code == 302
    detail_url = created.headers["location"]
    detail = client.get(detail_url)
    assert text_of(detail, "h1") == ["Sentiment"]
    assert text_of(detail, ".flash") == ["Project “Sentiment” created."]
    assert "Pick one." in text_of(detail, ".instructions")[0]

    edited = submit(client, detail_url + "/edit", detail_url + "/edit", {
        "title": "Sentiment v2", "description": "Product reviews", "label_config": NER,
        "maximum_annotations": "1", "sampling": "Uniform sampling"})
    assert edited.status_code == 302
    form = html(client.get(detail_url + "/edit"))
    assert form.cssselect("#title")[0].get("value") == "Sentiment v2"
    assert form.cssselect("#sampling option[selected]")[0].text == "Uniform sampling"
    assert form.cssselect("input[name=show_skip_button]")[0].get("checked") is None  # unticked box saved as false

    wrong = submit(client, detail_url + "/delete", detail_url + "/delete", {"confirm_title": "Sentiment"})
    assert wrong.status_code == 400
    assert client.get(detail_url).status_code == 200  # nothing deleted without the confirmation
    deleted = submit(client, detail_url + "/delete", detail_url + "/delete", {"confirm_title": "Sentiment v2"})
    assert deleted.headers["location"] == "/projects"
    assert client.get(detail_url).status_code == 404
    assert "Sentiment v2" not in text_of(client.get("/projects"), ".project-card h2")


def test_page_form_shows_errors_and_keeps_input(server):
    client = browser(server)
    response = submit(client, "/projects/new", "/projects/new", {
        "title": "ab", "description": "kept", "label_config": "<View><Text></View>", "maximum_annotations": "1",
        "sampling": "Sequential sampling"})
    assert response.status_code == 400
    page = html(response)
    assert page.cssselect("#title")[0].get("aria-invalid") == "true"
    assert text_of(response, "#title-error") == ["A title has 3 to 50 characters."]
    assert "not well formed" in text_of(response, "#label_config-error")[0]
    assert page.cssselect("#description")[0].text == "kept"


def test_html_in_project_fields_is_escaped_or_sanitised(server, api, make_project):
    project = make_project(title="<i>Tricky</i> one", description="<script>alert(1)</script>",
                           expert_instruction='<p onclick="x()">Read <b>this</b></p><script>alert(2)</script>')
    client = browser(server)
    detail = client.get(f"/projects/{project['id']}")
    assert "<script>alert" not in detail.text
    assert text_of(detail, "h1") == ["<i>Tricky</i> one"]
    instructions = html(detail).cssselect(".instructions")[0]
    assert instructions.cssselect("b")[0].text == "this"  # formatting kept
    assert not instructions.cssselect("script") and "onclick" not in detail.text
    assert "<i>Tricky</i> one" in text_of(client.get("/projects"), ".project-card h2")


def test_unknown_address_gives_the_404_page(server):
    response = browser(server).get("/no/such/page")
    assert response.status_code == 404
    assert text_of(response, "h1") == ["Not found"]


def test_unknown_page_and_api_object_give_helpful_404(server, api):
    page = browser(server).get("/projects/987654")
    assert page.status_code == 404
    assert text_of(page, "h1") == ["Not found"]
    response = api.get("/api/projects/987654")
    assert response.status_code == 404 and response.json()["detail"] == "No project with id 987654"
