"""The settings area, driven as an admin does it: users, invitations and resets, sessions and
tokens, project membership, live instance settings, and the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import subprocess
import sys
import uuid

import pytest

from tests.helpers import ROOT, browser, csrf_from, html, submit, text_of

LINK = re.compile(r"https?://[^\s]+/invite/[A-Za-z0-9_-]+")


def flash_after(client, response) -> str:
    """The flash message a redirect leaves on the page it leads to."""
    assert response.status_code == 302, response.text[:500]
    return " ".join(text_of(client.get(response.headers["location"]), "#flash"))


def settings_post(client, action: str, data: dict, page: str = "/settings"):
    return submit(client, page, action, data)


def user_id_of(server, email: str) -> int:
    return server.query("SELECT id FROM lw_user WHERE email = $1", email)[0]["id"]


def logged_in(client) -> bool:
    return client.get("/projects").status_code == 200


# -- every change declares whether the audit log keeps it ---------------------------------------

def test_every_unsafe_route_says_what_the_audit_log_keeps(server):
    script = ("import json; from app.asgi import app; print(json.dumps(["
              "[m, r.path, 'audit' in (h[0] if isinstance(h, tuple) else h).opt] for r in app.routes "
              "for m, h in getattr(r, 'route_handler_map', {}).items() if m not in ('GET', 'HEAD', 'OPTIONS')]))")
    found = json.loads(subprocess.run([sys.executable, "-c", script], env=server.env, cwd=ROOT, check=True,
                                      capture_output=True, text=True).stdout.strip().splitlines()[-1])
    assert len(found) > 50
    silent = [f"{method} {path}" for method, path, declared in found if not declared]
    assert not silent, ("these routes change things but do not say whether the audit log keeps it; "
                        f"give each opt={{'audit': '<action>'}} or opt={{'audit': None}}: {silent}")


# -- users ---------------------------------------------------------------------------------------

def test_invitation_link_sets_the_password_once(server):
    admin = browser(server)
    email = f"invitee-{uuid.uuid4().hex[:6]}@example.com"
    response = settings_post(admin, "/settings/users", {"email": email, "first_name": "Ines", "role": "reviewer"})
    message = flash_after(admin, response)
    link = LINK.search(message).group(0)
    assert "valid 7 days" in message
    visitor = server.client()
    # before the link is used, nobody knows a password that works
    assert submit(visitor, "/login", "/login", {"email": email, "password": ""}).status_code == 400
    page = visitor.get(link)
    assert page.status_code == 200 and email in page.text
    mismatch = visitor.post(link, data={"_csrf_token": csrf_from(page.text), "password": "first-pass-1",
                                        "password2": "other-pass-1"})
    assert mismatch.status_code == 400 and "The two passwords differ." in text_of(mismatch, ".field-error")
    short = visitor.post(link, data={"_csrf_token": csrf_from(page.text), "password": "short", "password2": "short"})
    assert short.status_code == 400  # a bad password keeps the link usable
    done = visitor.post(link, data={"_csrf_token": csrf_from(page.text), "password": "first-pass-1",
                                    "password2": "first-pass-1"})
    assert done.status_code == 302 and logged_in(visitor)
    assert visitor.get("/api/current-user/whoami").json()["role"] == "reviewer"
    assert server.client().get(link).status_code == 410  # once only
    browser(server, email, "first-pass-1")


def test_admin_reset_link_ends_the_users_sessions(server, make_user):
    user = make_user("annotator")
    laptop = browser(server, user["email"], user["password"])
    admin = browser(server)
    page = f"/settings/users/{user['id']}"
    message = flash_after(admin, settings_post(admin, f"{page}/password", {"password": ""}, page))
    link = LINK.search(message).group(0)
    assert logged_in(laptop)  # a link alone changes nothing yet
    other = server.client()
    form = other.get(link)
    assert other.post(link, data={"_csrf_token": csrf_from(form.text), "password": "reset-pass-1",
                                  "password2": "reset-pass-1"}).status_code == 302
    assert not logged_in(laptop)
    with pytest.raises(AssertionError):
        browser(server, user["email"], user["password"])
    browser(server, user["email"], "reset-pass-1")


def test_admin_sets_a_password_and_signs_the_user_out_everywhere(server, make_user):
    user = make_user("annotator")
    first, second = browser(server, user["email"], user["password"]), browser(server, user["email"], user["password"])
    admin = browser(server)
    page = f"/settings/users/{user['id']}"
    sessions = admin.get(page)
    assert len(text_of(sessions, "#sessions tbody tr")) == 2
    assert "2 sessions" in flash_after(admin, settings_post(admin, f"{page}/sessions/end", {}, page))
    assert not logged_in(first) and not logged_in(second)
    again = browser(server, user["email"], user["password"])
    flash_after(admin, settings_post(admin, f"{page}/password", {"password": "admin-chosen-1"}, page))
    assert not logged_in(again)
    browser(server, user["email"], "admin-chosen-1")


def test_deactivating_keeps_the_work_and_ends_access(server, api, make_user, make_project):
    project = make_project(label_config='<View><Text name="t" value="$text"/><Choices name="c" toName="t">'
                                        '<Choice value="A"/></Choices></View>')
    user = make_user("annotator")
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"], "role": "annotator"})
    task = api.post("/api/tasks", json={"project": project["id"], "data": {"text": "x"}}).json()
    client = browser(server, user["email"], user["password"])
    token = client.get("/api/current-user/token", headers={}).json()["token"]
    assert server.client(token=token).post(f"/api/tasks/{task['id']}/annotations", json={"result": [
        {"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["A"]}}]}).status_code == 201
    admin = browser(server)
    response = settings_post(admin, f"/settings/users/{user['id']}", {"role": "annotator"}, f"/settings/users/{user['id']}")
    assert "updated" in flash_after(admin, response)
    assert not logged_in(client)
    assert server.client(token=token).get("/api/projects").status_code == 401
    listing = admin.get("/settings", params={"q": user["email"]})
    row = [r for r in text_of(listing, "table.users tbody tr") if user["email"] in r][0]
    assert " 1 " in f" {row} "  # the annotation still counts as theirs
    assert len(api.get(f"/api/tasks/{task['id']}/annotations").json()) == 1


def test_user_list_searches_names_and_counts_work(server, api, make_user):
    marker = uuid.uuid4().hex[:6]
    named = make_user("reviewer", first_name=f"Zed{marker}", last_name="Under_score")
    make_user("annotator")
    admin = browser(server)
    found = text_of(admin.get("/settings", params={"q": f"zed{marker}"}), "table.users tbody tr")
    assert len(found) == 1 and named["email"] in found[0]
    # % and _ are what was typed, not wildcards
    assert named["email"] in " ".join(text_of(admin.get("/settings", params={"q": "under_score"}), "table.users td"))
    assert text_of(admin.get("/settings", params={"q": "%%%"}), "table.users tbody tr") == ["No user matches “%%%”."]
    detail = admin.get(f"/settings/users/{named['id']}")
    assert "0 annotations, 0 skips, 0 review decisions" in " ".join(text_of(detail, "#profile dd"))


def test_role_change_from_the_users_page(server, make_user):
    user = make_user("annotator")
    admin = browser(server)
    page = f"/settings/users/{user['id']}"
    flash_after(admin, settings_post(admin, page, {"role": "reviewer", "is_active": "on", "first_name": "Rae",
                                                   "last_name": ""}, page))
    assert server.query("SELECT role, first_name FROM lw_user WHERE id = $1", user["id"]) == [
        {"role": "reviewer", "first_name": "Rae"}]


def test_admins_cannot_lock_themselves_out(server):
    admin = browser(server)
    me = user_id_of(server, server.admin_email)
    page = f"/settings/users/{me}"
    message = flash_after(admin, settings_post(admin, page, {"role": "admin"}, page))  # "active" unticked
    assert "You cannot deactivate yourself." in message
    assert logged_in(admin)


def test_tokens_are_revoked_and_regenerated_by_an_admin(server, make_user):
    user = make_user("annotator")
    old = browser(server, user["email"], user["password"]).get("/api/current-user/token").json()["token"]
    assert server.client(token=old).get("/api/current-user/whoami").status_code == 200
    admin = browser(server)
    page = f"/settings/users/{user['id']}"
    assert old[:4] in " ".join(text_of(admin.get(page), "#token p"))
    assert old not in admin.get(page).text  # the page shows a hint of the key, never the key
    flash_after(admin, settings_post(admin, f"{page}/token/revoke", {}, page))
    assert server.client(token=old).get("/api/current-user/whoami").status_code == 401
    assert "No token" in " ".join(text_of(admin.get(page), "#token p"))
    message = flash_after(admin, settings_post(admin, f"{page}/token/regenerate", {}, page))
    new = re.search(r"\b[0-9a-f]{40}\b", message).group(0)
    assert server.client(token=new).get("/api/current-user/whoami").json()["email"] == user["email"]
    assert server.client(token=old).get("/api/current-user/whoami").status_code == 401


def test_membership_from_the_settings_area(server, api, make_user, make_project):
    project = make_project()
    user = make_user("annotator")
    client = browser(server, user["email"], user["password"])
    assert client.get(f"/projects/{project['id']}").status_code == 404
    admin = browser(server)
    flash_after(admin, settings_post(admin, "/settings/memberships",
                                     {"user": str(user["id"]), "project": str(project["id"]), "role": "reviewer"},
                                     "/settings/projects"))
    overview = admin.get("/settings/projects")
    row = [r for r in text_of(overview, "table.memberships tbody tr") if project["title"] in r][0]
    assert user["email"] in row
    assert client.get(f"/projects/{project['id']}").status_code == 200
    assert api.get(f"/api/projects/{project['id']}/members").json()[0]["role"] == "reviewer"
    page = f"/settings/users/{user['id']}"
    flash_after(admin, settings_post(admin, "/settings/memberships",
                                     {"user": str(user["id"]), "project": str(project["id"]), "role": "none"}, page))
    assert client.get(f"/projects/{project['id']}").status_code == 404


@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_the_settings_area_is_for_admins_only(server, make_user, role):
    user = make_user(role)
    client = browser(server, user["email"], user["password"])
    for path in ("/settings", "/settings/projects", "/settings/instance", "/settings/audit", "/settings/audit.csv",
                 f"/settings/users/{user['id']}"):
        assert client.get(path).status_code == 403, path
    token = client.cookies.get("csrftoken")
    refused = client.post("/settings/instance", data={"allow_signup": "on"}, headers={"x-csrftoken": token})
    assert refused.status_code == 403


# -- instance settings ---------------------------------------------------------------------------

@pytest.fixture
def instance_settings(server):
    """Change instance settings through the page; put the defaults back afterwards."""
    admin = browser(server)
    defaults = {"session_hours": "336", "task_lock_minutes": "10", "upload_max_mb": "250", "default_overlap": "1",
                "api_tokens_enabled": "on", "legacy_tokens_enabled": "on", "api_token_ttl_days": "73000"}

    def change(**values):
        form = {**defaults, **{k: str(v) for k, v in values.items() if v is not False}}
        return settings_post(admin, "/settings/instance", form, "/settings/instance")

    change.admin = admin  # whose session holds the flash message the change leaves
    yield change
    server.query("DELETE FROM lw_instance_setting")
    settings_post(admin, "/settings/instance", defaults, "/settings/instance")  # and refresh the server's copy


def test_instance_settings_name_bad_values(server, instance_settings):
    response = instance_settings(session_hours="forever", upload_max_mb="-3", default_overlap="2.5")
    assert response.status_code == 400
    errors = text_of(response, ".field-error")
    assert "Session lifetime: enter a number." in errors
    assert "Upload size limit: between 0.01 and 102400 MB." in errors
    assert "Default overlap: enter a whole number." in errors


def test_signup_follows_the_live_setting(server, instance_settings):
    visitor = server.client()
    assert visitor.get("/signup").status_code == 404
    assert "Create an account" not in visitor.get("/login").text
    assert flash_after(instance_settings.admin, instance_settings(allow_signup="on")).startswith("Saved")
    page = visitor.get("/login")
    assert "Create an account" in page.text
    email = f"signup-{uuid.uuid4().hex[:6]}@example.com"
    response = submit(visitor, "/signup", "/signup", {"email": email, "password": "signup-pass-1",
                                                      "first_name": "<b>Sam</b>"})
    assert response.status_code == 302 and logged_in(visitor)
    me = visitor.get("/api/current-user/whoami").json()
    assert me["role"] == "annotator" and me["first_name"] == "<b>Sam</b>"
    assert visitor.get("/api/projects").json()["count"] == 0  # in no project until an admin adds them
    instance_settings()  # off again
    assert server.client().get("/signup").status_code == 404


def test_session_lifetime_applies_to_open_sessions(server, make_user, instance_settings):
    user = make_user("annotator")
    client = browser(server, user["email"], user["password"])
    two_hours_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)
    stamp = two_hours_ago if server.engine == "postgres" else two_hours_ago.isoformat(sep=" ", timespec="microseconds")
    server.query('UPDATE lw_session SET created_at = $1 WHERE "user" = $2', stamp, user["id"])
    assert logged_in(client)  # the default lifetime is two weeks
    instance_settings(session_hours=1)
    assert client.get("/projects").headers.get("location", "").startswith("/login")


def test_task_lock_time_is_live(server, api, make_user, make_project, instance_settings):
    project = make_project(label_config='<View><Text name="t" value="$text"/><Choices name="c" toName="t">'
                                        '<Choice value="A"/></Choices></View>')
    api.post("/api/tasks", json={"project": project["id"], "data": {"text": "lock me"}})
    instance_settings(task_lock_minutes=2)
    admin = browser(server)
    assert admin.get(f"/projects/{project['id']}/label").status_code in (200, 302)
    admin.get(f"/projects/{project['id']}/label", follow_redirects=True)
    row = server.query("SELECT l.expire_at FROM lw_task_lock l JOIN lw_task t ON t.id = l.task WHERE t.project = $1",
                       project["id"])[0]
    expire = row["expire_at"]
    if isinstance(expire, str):
        expire = dt.datetime.fromisoformat(expire)
    left = (expire - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert 60 < left <= 120


def test_upload_limit_and_default_overlap_are_live(server, api, instance_settings):
    instance_settings(upload_max_mb=0.01, default_overlap=3)
    project = api.post("/api/projects", json={"title": "Overlap default"}).json()
    assert project["maximum_annotations"] == 3
    assert api.post("/api/projects", json={"title": "Own overlap", "maximum_annotations": 2}).json()[
        "maximum_annotations"] == 2
    big = "\n".join(json.dumps({"text": "x" * 100}) for _ in range(200)).encode()
    response = api.post(f"/api/projects/{project['id']}/import", files={"file": ("big.jsonl", big)})
    assert response.status_code == 400
    assert "big.jsonl is larger than the upload limit of 0.01 MB" in response.text
    assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == 0


# -- audit log -----------------------------------------------------------------------------------

def audit_rows(client, **filters) -> list[str]:
    return text_of(client.get("/settings/audit", params=filters), "table.audit tbody tr")


def test_audit_log_keeps_admin_changes_and_every_deletion(server, api, make_user, make_project):
    admin = browser(server)
    annotator = make_user("annotator")
    project = make_project(title="=HYPERLINK(\"http://evil\")",
                           label_config='<View><Text name="t" value="$text"/><Choices name="c" toName="t">'
                                        '<Choice value="A"/></Choices></View>')
    api.post(f"/api/projects/{project['id']}/members", json={"user": annotator["id"], "role": "annotator"})
    task = api.post("/api/tasks", json={"project": project["id"], "data": {"text": "x"}}).json()
    token = browser(server, annotator["email"], annotator["password"]).get("/api/current-user/token").json()["token"]
    worker = server.client(token=token)
    result = [{"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["A"]}}]
    made = worker.post(f"/api/tasks/{task['id']}/annotations", json={"result": result}).json()
    assert worker.delete(f"/api/annotations/{made['id']}").status_code == 204  # the annotator's own deletion
    page = f"/settings/users/{annotator['id']}"
    settings_post(admin, page, {"role": "reviewer", "is_active": "on"}, page)
    assert api.delete(f"/api/projects/{project['id']}").status_code == 204

    mine = audit_rows(admin, project=project["id"])
    joined = "\n".join(mine)
    assert "annotation.delete" in joined and annotator["email"] in joined
    assert "project.delete" in joined and "HYPERLINK" in joined  # the title outlives the project
    assert "member.set" in joined
    # labelling work is not an audited change
    assert not any("annotation.create" in r for r in mine)
    role_change = audit_rows(admin, action="user.update", actor=user_id_of(server, server.admin_email))
    assert any(f"{annotator['email']}; role: annotator → reviewer" in r for r in role_change)
    # filters: by actor and by date
    by_annotator = audit_rows(admin, actor=annotator["id"])
    assert by_annotator and all(annotator["email"] in r for r in by_annotator)
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert audit_rows(admin, since=tomorrow, project=project["id"]) == ["Nothing logged matches these filters."]
    bad = admin.get("/settings/audit", params={"since": "yesterday"})
    assert bad.status_code == 400 and "since must be a date like 2026-11-28." in bad.text

    export = admin.get("/settings/audit.csv", params={"project": project["id"]})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(export.text)))
    assert {r["action"] for r in table} >= {"annotation.delete", "project.delete", "member.set"}
    deleted = [r for r in table if r["action"] == "project.delete"][0]
    assert deleted["summary"].startswith("Deleted project")
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in table for cell in r.values())
    assert any("'=HYPERLINK" in cell or "HYPERLINK" in cell for cell in deleted.values())


def test_a_refused_change_is_not_logged(server, make_user):
    admin = browser(server)
    before = len(audit_rows(admin, action="member.set"))
    response = settings_post(admin, "/settings/memberships", {"user": "999999", "project": "999999", "role": "annotator"},
                             "/settings/projects")
    assert "Choose a user and a project that exist." in flash_after(admin, response)
    assert len(audit_rows(admin, action="member.set")) == before


# -- sign-in hardening -----------------------------------------------------------------------------

def test_login_is_throttled_after_repeated_failures(server, make_user):
    user = make_user("annotator")
    visitor = server.client()
    for _ in range(5):
        assert submit(visitor, "/login", "/login", {"email": user["email"], "password": "wrong"}).status_code == 400
    locked = submit(visitor, "/login", "/login", {"email": user["email"], "password": user["password"]})
    assert locked.status_code == 429
    assert "Too many failed logins. Try again in 15 minutes" in " ".join(text_of(locked, ".form-error"))
    browser(server)  # other accounts from the same address still sign in
    server.query("UPDATE lw_login_failure SET locked_until = NULL")  # as if the quarter of an hour had passed
    browser(server, user["email"], user["password"])


def test_login_rotates_the_session_and_logout_ends_it(server, make_user):
    user = make_user("annotator")
    client = server.client()
    client.get("/login")
    before = client.cookies.get("lw_session")
    submit(client, "/login", "/login", {"email": user["email"], "password": user["password"]})
    first = client.cookies.get("lw_session")
    assert first and first != before
    submit(client, "/login", "/login", {"email": user["email"], "password": user["password"]})
    second = client.cookies.get("lw_session")
    assert second != first
    replay = server.client(cookies={"lw_session": first})
    assert not logged_in(replay)  # the earlier session ended with the new sign-in
    assert logged_in(server.client(cookies={"lw_session": second}))
    page = client.get("/projects")
    client.post("/logout", data={"_csrf_token": csrf_from(page.text)})
    # a copy of the cookie taken before logging out opens nothing afterwards
    assert not logged_in(server.client(cookies={"lw_session": second}))


def test_audit_log_for_scripts(server, api, make_user):
    user = make_user("annotator")
    assert api.patch(f"/api/users/{user['id']}", json={"first_name": "Scripted"}).status_code == 200
    found = api.get("/api/audit", params={"action": "user.update", "page_size": 5}).json()
    assert found["count"] >= 1
    newest = found["results"][0]
    assert newest["target"] == f"user {user['id']}" and newest["actor_email"] == server.admin_email
    assert newest["method"] == "PATCH" and newest["path"] == f"/api/users/{user['id']}"
    assert api.get("/api/audit", params={"project": "x"}).status_code == 400
    token = browser(server, user["email"], user["password"]).get("/api/current-user/token").json()["token"]
    assert server.client(token=token).get("/api/audit").status_code == 403


def test_the_user_list_pages_through_many_users(server, api, make_user):
    for _ in range(max(0, 51 - len(api.get("/api/users").json()))):
        make_user("annotator")
    admin = browser(server)
    first = admin.get("/settings")
    emails = text_of(first, "table.users tbody td:first-child")
    assert len(emails) == 50
    following = html(first).cssselect(".pager a[rel=next]")[0].get("href")
    second = text_of(admin.get("/settings" + following), "table.users tbody td:first-child")
    assert second and not set(second) & set(emails)
    # a search keeps itself across pages
    searched = admin.get("/settings", params={"q": "@example.com"})
    assert "q=%40example.com" in html(searched).cssselect(".pager a[rel=next]")[0].get("href")


@pytest.mark.parametrize("query", [{"until": "9999-12-31"}, {"project": "³"}, {"actor": "1" * 12}, {"since": "soon"}])
def test_odd_audit_filters_are_named_not_crashes(api, query):
    response = api.get("/api/audit", params=query)
    assert response.status_code == 400
    assert next(iter(query)) in response.text
