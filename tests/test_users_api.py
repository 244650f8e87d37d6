"""Label Studio's user endpoints, and users managed from the settings page."""

from __future__ import annotations

import uuid

from tests.helpers import browser, submit, text_of


def test_whoami_and_token(server, api):
    me = api.get("/api/current-user/whoami").json()
    assert me["email"] == server.admin_email and me["role"] == "admin"
    assert api.get("/api/current-user/token/").json() == {"token": server.admin_token}


def test_reset_token_by_api(server, make_user):
    user = make_user()
    token = server.query("SELECT key FROM lw_api_token WHERE \"user\" = $1", user["id"])[0]["key"]
    client = server.client(token=token)
    new = client.post("/api/current-user/reset-token/").json()["token"]
    assert new != token
    assert client.get("/api/current-user/whoami").status_code == 401
    assert server.client(token=new).get("/api/current-user/whoami").json()["id"] == user["id"]


def test_admin_creates_reads_updates_users(server, api):
    email = f"ann-{uuid.uuid4().hex[:6]}@example.com"
    created = api.post("/api/users/", json={"email": email, "password": "s3cret-pass", "first_name": "Ann",
                                            "last_name": "Lee", "role": "reviewer"})
    assert created.status_code == 201
    user = created.json()
    assert user["email"] == email and user["role"] == "reviewer" and "password" not in user
    assert api.get(f"/api/users/{user['id']}").json()["first_name"] == "Ann"
    assert email in [u["email"] for u in api.get("/api/users").json()]
    assert api.patch(f"/api/users/{user['id']}/", json={"role": "annotator", "last_name": "Li"}).json()["role"] == "annotator"
    browser(server, email, "s3cret-pass")  # the password set on create works


def test_user_validation_names_the_field(api, make_user):
    existing = make_user()
    cases = [({"email": "not-an-email", "password": "long-enough"}, "email"),
             ({"email": existing["email"].upper(), "password": "long-enough"}, "email"),
             ({"email": "short@example.com", "password": "short"}, "password"),
             ({"email": "r@example.com", "password": "long-enough", "role": "owner"}, "role")]
    for body, field in cases:
        response = api.post("/api/users", json=body)
        assert response.status_code == 400, body
        assert field in response.json()["validation_errors"], body


def test_delete_user_without_work_deletes(api, make_user):
    user = make_user()
    assert api.delete(f"/api/users/{user['id']}").status_code == 204
    assert api.get(f"/api/users/{user['id']}").status_code == 404


def test_delete_user_with_work_deactivates(server, api, make_user):
    other_admin = make_user("admin")
    token = server.query("SELECT key FROM lw_api_token WHERE \"user\" = $1", other_admin["id"])[0]["key"]
    project = server.client(token=token).post("/api/projects", json={"title": "Their work"}).json()
    response = api.delete(f"/api/users/{other_admin['id']}")
    assert response.status_code == 200
    assert response.json()["user"]["is_active"] is False
    assert api.get(f"/api/users/{other_admin['id']}").json()["is_active"] is False
    assert api.get(f"/api/projects/{project['id']}").json()["created_by"]["id"] == other_admin["id"]


def test_the_last_admin_cannot_be_demoted(server, api):
    me = api.get("/api/current-user/whoami").json()
    admins = [u for u in api.get("/api/users").json() if u["role"] == "admin" and u["is_active"] and u["id"] != me["id"]]
    for other in admins:  # other tests may have made admins: take them out of the way
        api.patch(f"/api/users/{other['id']}", json={"role": "annotator"})
    response = api.patch(f"/api/users/{me['id']}", json={"role": "annotator"})
    assert response.status_code == 400
    assert "last active admin" in response.json()["validation_errors"]["role"][0]
    assert api.delete(f"/api/users/{me['id']}").status_code == 400


def test_settings_page_adds_a_user_who_can_log_in(server):
    client = browser(server)
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    response = submit(client, "/settings", "/settings/users", {"email": email, "password": "welcome-123",
                                                                "first_name": "New", "last_name": "Person", "role": "reviewer"})
    assert response.status_code == 302
    assert email in text_of(client.get(f"/settings?q={email}"), "#users td")
    newcomer = browser(server, email, "welcome-123")
    assert text_of(newcomer.get("/projects"), ".who .role") == ["reviewer"]


def test_settings_page_form_errors(server):
    response = submit(browser(server), "/settings", "/settings/users", {"email": "bad", "password": "x", "role": "annotator"})
    assert response.status_code == 400
    assert text_of(response, "#email-error") == ["Enter a valid email address."]
