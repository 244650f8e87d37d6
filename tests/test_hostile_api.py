"""Bad input to the API is refused with a reason (400/404), never a 500, on both engines."""

from __future__ import annotations

import pytest

from tests.helpers import browser


@pytest.mark.parametrize("path", ["/api/projects/99999999999999999999", "/api/users/2147483648",
                                  "/api/jobs/99999999999999999999", "/api/tasks/2147483648",
                                  "/projects/99999999999999999999"])
def test_impossible_ids_are_not_found(api, path):
    assert api.get(path).status_code == 404


def test_impossible_pages_are_refused(api):
    assert api.get("/api/projects?page=99999999999999999999").status_code == 400


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "abc", "color": "#12345678901234567890"}, "color"),
    ({"title": "abc", "model_version": "v" * 300}, "model_version"),
    ({"title": "abc", "description": "a\u0000b"}, "description"),
])
def test_project_text_limits(api, body, field):
    response = api.post("/api/projects", json=body)
    assert response.status_code == 400 and field in response.json()["validation_errors"]


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "x" * 300 + "@b.c", "password": "long-enough"}, "email"),
    ({"email": "ok@b.c", "password": "long-enough", "first_name": "n" * 200}, "first_name"),
    ({"email": "ok@b.c", "password": "long-enough", "last_name": "a\u0000"}, "last_name"),
])
def test_user_text_limits(api, body, field):
    response = api.post("/api/users", json=body)
    assert response.status_code == 400 and field in response.json()["validation_errors"]


def test_search_with_a_nul_byte(api):
    assert api.get("/api/users?search=%00").status_code == 200


def test_member_ids_must_be_real_ids(api, make_project):
    project = make_project()
    for user in (True, 99999999999999999999, "1"):
        assert api.post(f"/api/projects/{project['id']}/members", json={"user": user}).status_code == 400


def test_odd_form_numbers_are_form_errors(server):
    client = browser(server)
    client.get("/projects/new")
    response = client.post("/projects/new", data={"title": "Odd", "label_config": "<View/>", "maximum_annotations": "²",
                                                  "sampling": "Sequential sampling",
                                                  "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 400
