"""The rest of Label Studio Community's account API, driven by its SDKs as a script would: the
organization (title, invitation link, one member), the current user, the JWT settings that turn
token kinds on and off, and annotations made in bulk."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from tests.helpers import browser, submit

RESULT = [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]
CONFIG = """<View><Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>"""


def test_organization_title_and_one_member(sdk, make_user, api):
    org = sdk.organizations.update(id=1, title="Acme labelling", contact_info="ops@acme.test")
    assert (org.title, org.contact_info) == ("Acme labelling", "ops@acme.test")
    assert sdk.organizations.get(id=1).title == "Acme labelling"
    assert api.patch("/api/organizations/1", json={"title": ""}).status_code == 400
    person = make_user()
    member = api.get(f"/api/organizations/1/memberships/{person['id']}").json()
    assert member["user"]["email"] == person["email"] and member["role"] == "AN"
    sdk.organizations.members.delete(id=1, user_pk=person["id"])
    assert api.get(f"/api/users/{person['id']}").json()["is_active"] is False
    me = sdk.users.whoami().id
    refused = api.delete(f"/api/organizations/1/memberships/{me}")
    assert refused.status_code == 400 and "yourself" in refused.text


def test_invitation_link_signs_up_an_annotator_while_sign_up_is_off(server, sdk):
    link = sdk.organizations.invites.get_invite_link()
    assert link.invite_url == f"/user/signup/?token={link.token}"
    assert sdk.organizations.invites.get_invite_link().token == link.token  # the same link every time
    with server.client() as guest:
        assert guest.get("/signup").status_code == 404  # open sign-up is off
        assert guest.get("/user/signup/?token=wrong").status_code == 404
        page = guest.get(link.invite_url)
        assert page.status_code == 200 and link.token in page.text
        done = submit(guest, link.invite_url, "/signup", {"token": link.token, "email": "invited@example.com",
                                                          "password": "long-enough-1"})
        assert done.status_code == 302
        assert guest.get("/api/current-user/whoami").json()["role"] == "annotator"
    fresh = sdk.organizations.reset_token()
    assert fresh.token != link.token
    with server.client() as guest:
        assert guest.get(link.invite_url).status_code == 404  # the old link stopped working
        assert guest.get(fresh.invite_url).status_code == 200


def test_current_user_reads_and_changes_the_name(sdk, api):
    me = sdk.users.get_current_user()
    assert me.email and me.active_organization == 1
    try:
        changed = sdk.users.update_current_user(first_name="Ada", last_name="Lovelace")
        assert (changed.first_name, changed.last_name) == ("Ada", "Lovelace")
        assert api.get("/api/current-user/whoami").json()["first_name"] == "Ada"
        refused = api.patch("/api/current-user", json={"password": "new-password-1"})
        assert refused.status_code == 400 and "account page" in refused.text
        assert api.patch("/api/current-user", json={"shoe_size": 9}).status_code == 400
    finally:  # the shared admin's pages show the name instead of the email: other tests look for the email
        api.patch("/api/current-user", json={"first_name": me.first_name or "", "last_name": me.last_name or ""})


def test_jwt_settings_turn_token_kinds_off_and_on(server, sdk, legacy_sdk, api):
    import label_studio_sdk
    from label_studio_sdk.client import LabelStudio

    settings = sdk.jwt_settings.get()
    assert (settings.api_tokens_enabled, settings.legacy_api_tokens_enabled) == (True, True)
    refresh = api.post("/api/token").json()["token"]
    current = LabelStudio(base_url=server.base_url, api_key=refresh)
    assert current.users.whoami().email == server.admin_email
    try:
        sdk.jwt_settings.update(api_tokens_enabled=True, legacy_api_tokens_enabled=False, api_token_ttl_days=30)
        with pytest.raises(Exception) as refused:
            label_studio_sdk.Client(url=server.base_url, api_key=server.admin_token).get_projects()
        assert "401" in str(refused.value)
        answer = httpx.get(f"{server.base_url}/api/projects", headers={"Authorization": f"Token {server.admin_token}"})
        assert answer.status_code == 401 and "turned off" in answer.text
        assert current.jwt_settings.get().api_token_ttl_days == 30  # personal tokens still work
        made = current.tokens.create()
        lifetime = dt.datetime.fromisoformat(str(made.expires_at)) - dt.datetime.fromisoformat(str(made.created_at))
        assert lifetime == dt.timedelta(days=30)
        current.jwt_settings.update(api_tokens_enabled=False, legacy_api_tokens_enabled=True, api_token_ttl_days=73000)
        assert api.get("/api/projects").status_code == 200
        shut = api.post("/api/token/refresh", json={"refresh": refresh})
        assert shut.status_code == 401 and "turned off" in shut.text
        bad = api.post("/api/jwt/settings", json={"api_token_ttl_days": 0})
        assert bad.status_code == 400 and "api_token_ttl_days" in bad.text
    finally:
        api.post("/api/jwt/settings", json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True,
                                            "api_token_ttl_days": 73000})
    assert current.users.whoami().email == server.admin_email


def test_annotations_in_bulk(server, sdk, legacy_sdk, api, make_user):
    project = legacy_sdk.start_project(title="Bulk", label_config=CONFIG)
    ids = project.import_tasks([{"text": f"t{i}"} for i in range(5)])
    made = sdk.annotations.create_bulk(tasks=ids[:2], project=project.id, result=RESULT, lead_time=1.5)
    assert len(made) == 2
    stored = api.get(f"/api/tasks/{ids[0]}/annotations").json()
    assert stored[0]["result"][0]["value"] == {"choices": ["Positive"]} and stored[0]["lead_time"] == 1.5
    # the data manager's selection: every task but one; those already annotated are left alone
    more = sdk.annotations.create_bulk(selected_items={"all": True, "excluded": [ids[4]]}, project=project.id,
                                       result=RESULT)
    assert len(more) == 2
    counts = {t["id"]: t["total_annotations"] for t in api.get(f"/api/tasks?project={project.id}").json()["tasks"]}
    assert counts == {ids[0]: 1, ids[1]: 1, ids[2]: 1, ids[3]: 1, ids[4]: 0}
    wrong = api.post("/api/annotations/bulk", json={"tasks": [ids[4]], "result": [
        {**RESULT[0], "value": {"choices": ["Maybe"]}, "from_name": "nope"}]})
    assert wrong.status_code == 400 and "nope" in wrong.text
    assert api.get(f"/api/tasks/{ids[4]}").json()["total_annotations"] == 0
    person = make_user()
    key = browser(server, person["email"], person["password"]).get("/api/current-user/token").json()["token"]
    with server.client(token=key) as annotator:
        assert annotator.post("/api/annotations/bulk", json={"tasks": [ids[4]], "result": RESULT}).status_code == 403
