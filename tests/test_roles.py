"""What each role may do: a forbidden action gets 403, an invisible project 404."""

from __future__ import annotations

import pytest

from tests.helpers import browser, csrf_from, text_of


@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_only_admins_reach_the_settings_page(server, make_user, role):
    user = make_user(role)
    response = browser(server, user["email"], user["password"]).get("/settings")
    assert response.status_code == 403
    assert text_of(response, "h1") == ["You can't do that here"]
    assert "Settings" not in text_of(response, ".topbar nav")[0]


def test_admin_reaches_the_settings_page(server):
    response = browser(server).get("/settings")
    assert response.status_code == 200
    assert server.admin_email in text_of(response, "#users td")


def test_annotator_cannot_delete_a_project(server, api, make_user, make_project):
    user = make_user("annotator")
    project = make_project()
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"], "role": "annotator"})
    client = browser(server, user["email"], user["password"])
    page = client.get(f"/projects/{project['id']}")
    assert page.status_code == 200
    assert text_of(page, ".page-head .actions") == []  # no Edit/Delete buttons shown
    response = client.post(f"/projects/{project['id']}/delete",
                           data={"_csrf_token": csrf_from(page.text), "confirm_title": project["title"]})
    assert response.status_code == 403
    token_client = server.client(token=text_of(client.get("/account"), "#api-token")[0])
    assert token_client.delete(f"/api/projects/{project['id']}").status_code == 403
    assert api.get(f"/api/projects/{project['id']}").status_code == 200


@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_non_admins_cannot_create_or_edit_projects_or_users(server, make_user, make_project, role):
    user = make_user(role)
    project = make_project()
    client = browser(server, user["email"], user["password"])
    token = text_of(client.get("/account"), "#api-token")[0]
    scripted = server.client(token=token)
    assert scripted.post("/api/projects", json={"title": "Mine"}).status_code == 403
    assert scripted.patch(f"/api/projects/{project['id']}", json={"title": "Changed"}).status_code in (403, 404)
    assert scripted.get("/api/users").status_code == 403
    assert scripted.post("/api/users", json={"email": "x@example.com", "password": "12345678"}).status_code == 403
    assert client.get("/projects/new").status_code == 403


def test_annotators_see_only_their_projects(server, api, make_user, make_project):
    user = make_user("annotator")
    mine, other = make_project(), make_project()
    assert api.post(f"/api/projects/{mine['id']}/members", json={"user": user["id"], "role": "annotator"}).status_code == 201
    client = browser(server, user["email"], user["password"])
    assert text_of(client.get("/projects"), ".project-card h2") == [mine["title"]]
    assert client.get(f"/projects/{other['id']}").status_code == 404
    scripted = server.client(token=text_of(client.get("/account"), "#api-token")[0])
    listed = scripted.get("/api/projects").json()
    assert [p["id"] for p in listed["results"]] == [mine["id"]] and listed["count"] == 1
    assert scripted.get(f"/api/projects/{other['id']}").status_code == 404


def test_a_new_annotator_sees_what_to_do(server, make_user):
    user = make_user("annotator")
    page = browser(server, user["email"], user["password"]).get("/projects")
    assert text_of(page, ".empty-state h2") == ["You have no projects yet"]
    assert "ask" in text_of(page, ".empty-state p")[0].lower()


def test_removed_member_loses_the_project(server, api, make_user, make_project):
    user = make_user("reviewer")
    project = make_project()
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"], "role": "reviewer"})
    assert api.get(f"/api/projects/{project['id']}/members").json()[0]["role"] == "reviewer"
    assert api.delete(f"/api/projects/{project['id']}/members/{user['id']}").status_code == 204
    client = browser(server, user["email"], user["password"])
    assert client.get(f"/projects/{project['id']}").status_code == 404
