"""Personal access tokens (Label Studio's JWT refresh tokens): a script hands one to SDK 2.x, which
swaps it for short-lived access tokens by itself; revoking it stops every script at once."""

from __future__ import annotations

import base64
import json

import pytest

from tests.helpers import browser, csrf_from, html, text_of


def claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture
def refresh_token(api) -> str:
    response = api.post("/api/token/")
    assert response.status_code == 201, response.text
    return response.json()["token"]


def test_sdk_2x_works_with_a_personal_access_token(server, refresh_token, make_project):
    from label_studio_sdk.client import LabelStudio

    assert claims(refresh_token)["token_type"] == "refresh"
    project = make_project()
    ls = LabelStudio(base_url=server.base_url, api_key=refresh_token)  # the SDK sees a JWT and refreshes
    assert ls.users.whoami().email == server.admin_email
    assert project["id"] in [p.id for p in ls.projects.list()]
    assert ls.tokens.refresh(refresh=refresh_token).access.count(".") == 2
    # listed by their last characters only: the text is shown once
    listed = [t.token for t in ls.tokens.list()]
    assert f"…{refresh_token[-6:]}" in listed and refresh_token not in listed


def test_access_tokens_are_bearer_tokens_and_die_with_their_refresh_token(server, refresh_token):
    with server.client() as anonymous:
        refreshed = anonymous.post("/api/token/refresh/", json={"refresh": refresh_token})
        assert refreshed.status_code == 200, refreshed.text
        access = refreshed.json()["access"]
        assert claims(access)["token_type"] == "access"
        bearer = {"Authorization": f"Bearer {access}"}
        assert anonymous.get("/api/current-user/whoami", headers=bearer).json()["email"] == server.admin_email
        # an access token is no refresh token, a refresh token no access token
        assert anonymous.post("/api/token/refresh/", json={"refresh": access}).status_code == 401
        assert anonymous.get("/api/projects", headers={"Authorization": f"Bearer {refresh_token}"}).status_code == 401
        # a token changed by one character is refused
        forged = refresh_token[:-3] + ("AAA" if refresh_token[-3:] != "AAA" else "BBB")
        assert anonymous.post("/api/token/refresh/", json={"refresh": forged}).status_code == 401
        # revoked: no new access tokens, and the one already out stops at once
        assert anonymous.post("/api/token/blacklist/", json={"refresh": refresh_token}).status_code == 204
        denied = anonymous.post("/api/token/refresh/", json={"refresh": refresh_token})
        assert denied.status_code == 401 and denied.json()["code"] == "token_not_valid"
        assert anonymous.get("/api/current-user/whoami", headers=bearer).status_code == 401
        missing = anonymous.post("/api/token/refresh/", json={})
        assert missing.status_code == 400 and "refresh" in missing.json()["validation_errors"]


def test_rotate_gives_a_new_token_and_retires_the_old(server, refresh_token, sdk):
    rotated = sdk.tokens.rotate(refresh=refresh_token).refresh
    assert rotated != refresh_token
    with server.client() as anonymous:
        assert anonymous.post("/api/token/refresh/", json={"refresh": refresh_token}).status_code == 401
        assert anonymous.post("/api/token/refresh/", json={"refresh": rotated}).status_code == 200
    sdk.tokens.blacklist(refresh=rotated)
    with server.client() as anonymous:
        assert anonymous.post("/api/token/refresh/", json={"refresh": rotated}).status_code == 401


def test_a_deactivated_person_s_tokens_stop(server, api, make_user):
    person = make_user("annotator")
    client = browser(server, person["email"], person["password"])  # a person makes their own token
    page = client.get("/account/tokens")
    made = client.post("/account/tokens", data={"_csrf_token": csrf_from(page.text)})
    token = html(made).cssselect("#new-token-text")[0].text_content().strip()
    with server.client() as anonymous:
        access = anonymous.post("/api/token/refresh/", json={"refresh": token}).json()["access"]
        assert anonymous.get("/api/current-user/whoami", headers={"Authorization": f"Bearer {access}"}).status_code == 200
        assert api.patch(f"/api/users/{person['id']}", json={"is_active": False}).status_code == 200
        assert anonymous.get("/api/current-user/whoami", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_the_tokens_page_shows_a_token_once_and_revokes_it(server):
    client = browser(server)
    page = client.get("/account/tokens")
    assert page.status_code == 200
    made = client.post("/account/tokens", data={"_csrf_token": csrf_from(page.text)})
    assert made.status_code == 200
    token = html(made).cssselect("#new-token-text")[0].text_content().strip()
    assert claims(token)["token_type"] == "refresh"
    again = client.get("/account/tokens")
    assert token not in again.text and f"…{token[-6:]}" in again.text
    # every control is labelled: the revoke buttons say which token they revoke
    labels = [b.get("aria-label") for b in html(again).cssselect("form button[aria-label]")]
    assert f"Revoke the token ending {token[-6:]}" in labels
    form = [f for f in html(again).cssselect("form") if f.get("action", "").endswith("/revoke")
            and f"…{token[-6:]}" in f.getparent().getparent().text_content()][0]
    revoked = client.post(form.get("action"), data={"_csrf_token": csrf_from(again.text)})
    assert revoked.status_code in (302, 303)
    assert f"…{token[-6:]}" not in client.get("/account/tokens").text
    with server.client() as anonymous:
        assert anonymous.post("/api/token/refresh/", json={"refresh": token}).status_code == 401
    assert "Personal access tokens" in " ".join(text_of(client.get("/account/tokens"), "h1"))


def test_project_counts_and_annotators_through_sdk_2x(server, sdk, make_project, make_user, api):
    """Two more calls a 2.x script makes: the projects' counters, and who annotated a project."""
    project = make_project(label_config='<View><Text name="t" value="$t"/><Choices name="c" toName="t">'
                                        '<Choice value="a"/></Choices></View>')
    task = api.post("/api/tasks", json={"project": project["id"], "data": {"t": "x"}}).json()
    result = [{"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["a"]}}]
    assert api.post(f"/api/tasks/{task['id']}/annotations", json={"result": result, "ground_truth": True}).status_code == 201
    counts = {c.id: c for c in sdk.projects.list_counts(page_size=100).results}
    mine = counts[project["id"]]
    assert (mine.task_number, mine.total_annotations_number, mine.ground_truth_number) == (1, 1, 1)
    people = sdk.projects.list_unique_annotators(id=project["id"])
    assert [p.email for p in people] == [api.get("/api/current-user/whoami").json()["email"]]
    annotator = make_user("annotator")
    api.post(f"/api/projects/{project['id']}/members", json={"user": annotator["id"], "role": "annotator"})
    member = browser(server, annotator["email"], annotator["password"])
    assert member.get(f"/api/projects/{project['id']}").status_code == 200  # a member, yet
    assert member.get(f"/api/projects/{project['id']}/annotators").status_code == 403  # not who else works
