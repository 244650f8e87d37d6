"""Users, the organization and invitations through Label Studio's own SDKs, as a script uses them:
the legacy `Client` (whose pydantic User wants `last_activity` and `phone`) and 2.x `LabelStudio`."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from label_studio_sdk._legacy.users import UserRole

from tests.helpers import browser, csrf_from

SECRETS = ("password", "token", "key", "argon2")


def no_secrets(payload) -> None:
    text = json.dumps(payload).lower()
    assert not any(f'"{word}"' in text for word in SECRETS[:3]) and "argon2" not in text


def test_legacy_users_and_organization(server, api, legacy_sdk, make_user):
    make_user("reviewer")
    users = legacy_sdk.get_users()
    assert server.admin_email in [u.email for u in users]
    assert all(isinstance(u.last_activity, dt.datetime) and isinstance(u.phone, str) for u in users)
    assert all(u.active_organization == 1 for u in users)
    no_secrets(api.get("/api/users").json())
    organization = legacy_sdk.get_organization()
    assert organization["id"] == 1 and organization["title"] and organization["created_at"]
    assert api.get("/api/organizations/2").status_code == 404
    person = next(u for u in users if u.email != server.admin_email and u.org_membership[0].role == UserRole.REVIEWER)
    assert person.set_role(UserRole.ANNOTATOR).status_code == 200
    assert api.get(f"/api/users/{person.id}").json()["role"] == "annotator"
    members = api.get("/api/organizations/1/memberships").json()
    assert members["count"] == len(members["results"]) >= 2
    assert api.patch("/api/organizations/1/memberships", json={"user_id": person.id, "role": "XX"}).status_code == 400


def test_legacy_create_user_without_password_invites(server, api, legacy_sdk):
    email = f"invited-{uuid.uuid4().hex[:6]}@example.com"
    user = legacy_sdk.create_user({"username": email, "email": email, "first_name": "In", "last_name": "Vited",
                                   "phone": ""})
    assert user is not None and user.email == email and user.initials == "IV"
    # the admin saw the link in the answer; the same call by API shows it
    again = api.post("/api/users", json={"username": f"x-{email}", "email": f"x-{email}"})
    assert again.status_code == 201 and "/invite/" in again.json()["invite_url"]
    no_secrets({k: v for k, v in again.json().items() if k != "invite_url"})
    link = again.json()["invite_url"]
    visitor = server.client()
    page = visitor.get(link)
    assert page.status_code == 200
    done = visitor.post(link, data={"_csrf_token": csrf_from(page.text), "password": "joined-pass-1",
                                    "password2": "joined-pass-1"})
    assert done.status_code == 302
    assert server.client().get(link).status_code == 410  # once only
    browser(server, f"x-{email}", "joined-pass-1")


def test_current_sdk_users(server, sdk):
    me = sdk.users.whoami()
    assert me.email == server.admin_email and me.active_organization == 1 and me.last_activity is not None
    listed = sdk.users.list()
    assert me.id in [u.id for u in listed]
    email = f"sdk-{uuid.uuid4().hex[:6]}@example.com"
    created = sdk.users.create(username=email, email=email, first_name="Sd", password="sdk-pass-123")
    assert created.id and created.username == email and created.phone == ""
    assert sdk.users.get(id=created.id).first_name == "Sd"
    assert sdk.users.update(id=created.id, last_name="Kay").last_name == "Kay"
    browser(server, email, "sdk-pass-123")
