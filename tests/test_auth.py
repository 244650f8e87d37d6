"""Logging in and out, sessions, CSRF and API tokens, driven over HTTP."""

from __future__ import annotations

from tests.helpers import browser, csrf_from, submit, text_of


def test_login_shows_the_user_and_role(server):
    client = browser(server)
    page = client.get("/projects")
    assert page.status_code == 200
    assert text_of(page, ".who a") == [server.admin_email]
    assert text_of(page, ".who .role") == ["admin"]


def test_login_redirects_to_the_page_asked_for(server):
    client = server.client()
    assert client.get("/account").headers["location"] == "/login?next=/account"
    response = submit(client, "/login?next=/account", "/login",
                      {"email": server.admin_email, "password": server.admin_password, "next": "/account"})
    assert response.headers["location"] == "/account"


def test_login_never_redirects_off_site(server):
    client = server.client()
    response = submit(client, "/login", "/login", {"email": server.admin_email,
                                                    "password": server.admin_password, "next": "//evil.example"})
    assert response.headers["location"] == "/projects"


def test_wrong_password_is_refused(server):
    client = server.client()
    response = submit(client, "/login", "/login", {"email": server.admin_email, "password": "not-the-password"})
    assert response.status_code == 400
    assert text_of(response, ".form-error") == ["Wrong email or password."]
    assert client.get("/projects").status_code == 302  # still not logged in


def test_unknown_email_gets_the_same_answer(server):
    response = submit(server.client(), "/login", "/login", {"email": "nobody@example.com", "password": "whatever1"})
    assert response.status_code == 400
    assert text_of(response, ".form-error") == ["Wrong email or password."]


def test_logout_ends_the_session(server):
    client = browser(server)
    page = client.get("/projects")
    assert client.post("/logout", data={"_csrf_token": csrf_from(page.text)}).headers["location"] == "/login"
    response = client.get("/projects")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/login")


def test_session_cookie_is_httponly_and_samesite(server):
    client = server.client()
    response = submit(client, "/login", "/login", {"email": server.admin_email, "password": server.admin_password})
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("lw_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie or "samesite=lax" in cookie.lower()


def test_page_without_session_redirects_to_login(server):
    response = server.client().get("/projects/1/edit")
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=/projects/1/edit"


def test_api_without_credentials_is_401_json(server):
    client = server.client()
    for method, path in [("GET", "/api/projects"), ("POST", "/api/projects"), ("GET", "/api/current-user/whoami")]:
        response = client.request(method, path, json={"title": "x"} if method == "POST" else None)
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["detail"]


def test_api_with_a_wrong_token_is_401(server):
    response = server.client(token="0" * 40).get("/api/projects")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token"


def test_form_post_without_csrf_token_is_rejected(server):
    client = browser(server)
    response = client.post("/projects/new", data={"title": "No token", "label_config": "<View/>"})
    assert response.status_code == 403
    assert "CSRF" in response.text
    titles = [p["title"] for p in server.client(token=server.admin_token).get("/api/projects?page_size=1000").json()["results"]]
    assert "No token" not in titles


def test_login_form_without_csrf_token_is_rejected(server):
    client = server.client()
    client.get("/login")
    response = client.post("/login", data={"email": server.admin_email, "password": server.admin_password})
    assert response.status_code == 403


def test_api_call_riding_the_session_cookie_needs_csrf(server):
    client = browser(server)
    refused = client.post("/api/projects", json={"title": "Cookie only"})
    assert refused.status_code == 403
    token = client.cookies.get("csrftoken")
    allowed = client.post("/api/projects", json={"title": "Cookie plus CSRF"}, headers={"x-csrftoken": token})
    assert allowed.status_code == 201


def test_api_token_page_and_regeneration(server, make_user):
    user = make_user("annotator")
    client = browser(server, user["email"], user["password"])
    page = client.get("/account")
    old = text_of(page, "#api-token")[0]
    assert server.client(token=old).get("/api/current-user/whoami").json()["email"] == user["email"]
    assert client.post("/account/token", data={"_csrf_token": csrf_from(page.text)}).status_code == 302
    new = text_of(client.get("/account"), "#api-token")[0]
    assert new != old
    assert server.client(token=old).get("/api/current-user/whoami").status_code == 401
    assert server.client(token=new).get("/api/current-user/token").json() == {"token": new}


def test_password_change_signs_out_other_sessions(server, make_user):
    user = make_user("annotator")
    laptop = browser(server, user["email"], user["password"])
    phone = browser(server, user["email"], user["password"])
    response = submit(laptop, "/account", "/account/password", {
        "current_password": user["password"], "new_password": "brand-new-pass", "new_password2": "brand-new-pass"})
    assert response.status_code == 302
    assert laptop.get("/projects").status_code == 200  # the session that changed it stays in
    assert phone.get("/projects").status_code == 302  # the other one is out
    browser(server, user["email"], "brand-new-pass")


def test_password_change_needs_the_current_password(server, make_user):
    user = make_user("annotator")
    client = browser(server, user["email"], user["password"])
    response = submit(client, "/account", "/account/password", {
        "current_password": "wrong-one", "new_password": "brand-new-pass", "new_password2": "brand-new-pass"})
    assert response.status_code == 400
    assert text_of(response, ".field-error") == ["That is not your current password."]


def test_passwords_are_stored_as_argon2_hashes(server, make_user):
    user = make_user("annotator", password="plain-text-password")
    row = server.query("SELECT password FROM lw_user WHERE email = $1", user["email"])[0]
    assert row["password"].startswith("$argon2id$")
    assert "plain-text-password" not in row["password"]


def test_deactivated_user_cannot_log_in_or_use_the_token(server, api, make_user):
    user = make_user("annotator")
    client = browser(server, user["email"], user["password"])
    token = text_of(client.get("/account"), "#api-token")[0]
    assert api.patch(f"/api/users/{user['id']}", json={"is_active": False}).status_code == 200
    assert client.get("/projects").status_code == 302
    assert server.client(token=token).get("/api/projects").status_code == 401
    response = submit(server.client(), "/login", "/login", {"email": user["email"], "password": user["password"]})
    assert response.status_code == 400


def test_csrf_token_is_bound_to_the_session_and_rotates_at_login_and_logout(server, make_user):
    user = make_user("annotator")
    client = server.client()
    before_login = csrf_from(client.get("/login").text)
    assert submit(client, "/login", "/login", {"email": user["email"], "password": user["password"]}).status_code == 302
    mine = csrf_from(client.get("/account").text)
    assert mine != before_login and client.cookies.get("csrftoken") == mine  # rotated by the login itself
    # the token from before login no longer works, cookie or not
    stale = client.post("/account/token", data={"_csrf_token": before_login},
                        headers={"cookie": f"csrftoken={before_login}; lw_session={client.cookies.get('lw_session')}"})
    assert stale.status_code == 403
    # another session's token does not work in this one, even sent as the cookie too
    other = browser(server)
    theirs = csrf_from(other.get("/account").text)
    forged = client.post("/account/token", data={"_csrf_token": theirs},
                         headers={"cookie": f"csrftoken={theirs}; lw_session={client.cookies.get('lw_session')}"})
    assert forged.status_code == 403
    assert client.post("/account/token", data={"_csrf_token": mine}).status_code == 302
    # after logout the old session's token is worth nothing, and a new one is issued at once
    assert client.post("/logout", data={"_csrf_token": mine}).status_code == 302
    assert client.cookies.get("csrftoken") not in (None, mine)
    replay = client.post("/login", data={"_csrf_token": mine, "email": user["email"], "password": user["password"]},
                         headers={"cookie": f"csrftoken={mine}"})
    assert replay.status_code == 403
    odd = client.post("/account/token", data={"_csrf_token": "ÿé漢字"})  # not ASCII: refused, not a 500
    assert odd.status_code == 403
