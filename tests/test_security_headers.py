"""Security headers on every kind of response, cookie flags with and without
LABELWELL_COOKIE_SECURE, and the main pages working in Chromium under the Content-Security-Policy."""

from __future__ import annotations

import io
import uuid
from contextlib import closing

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.helpers import browser, csrf_from, launch
from tests.test_browser import log_in
from tests.test_workspace_browser import ready

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy as directive -> sources."""
    directives = [d.split() for d in response.headers["content-security-policy"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def assert_secured(response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.headers.get(name))
    permissions = response.headers["permissions-policy"]
    for feature in ("camera", "microphone", "geolocation"):
        assert f"{feature}=()" in permissions
    csp = policy(response)
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    # task images live on other hosts, or in data: URLs
    assert {"http:", "https:", "data:", "blob:"} <= set(csp["img-src"])
    assert {"http:", "https:", "data:", "blob:"} <= set(csp["media-src"])  # and so do their audio files


def test_every_kind_of_response_carries_the_security_headers(server, api, make_user, ner_project):
    annotator = make_user("annotator")
    key = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', annotator["id"])[0]["key"]
    with server.client() as anonymous, server.client(token=key) as annotator_api, closing(browser(server)) as admin:
        answers = {
            "page": admin.get(f"/projects/{ner_project['id']}"),
            "api json": api.get("/api/projects"),
            "static file": anonymous.get("/static/app.css"),
            "login page": anonymous.get("/login"),
            "login redirect": anonymous.get("/projects"),
            "401 from the api": anonymous.get("/api/projects"),
            "403 from the api": annotator_api.get("/api/users"),
            "404 page from the router": admin.get("/no-such-page"),
            "404 page from a handler": admin.get("/projects/999999"),
            "404 from the api": api.get("/api/projects/999999"),
            "405 from the router": anonymous.put("/health"),
            "openapi schema": anonymous.get("/schema/openapi.json"),
        }
    statuses = {what: r.status_code for what, r in answers.items()}
    assert statuses == {"page": 200, "api json": 200, "static file": 200, "login page": 200, "login redirect": 302,
                        "401 from the api": 401, "403 from the api": 403, "404 page from the router": 404,
                        "404 page from a handler": 404, "404 from the api": 404, "405 from the router": 405,
                        "openapi schema": 200}
    assert answers["login redirect"].headers["location"] == "/login?next=/projects"
    for what, response in answers.items():
        try:
            assert_secured(response)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{what}: {exc!r}") from exc


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 100, 50)).save(out, "PNG")
    return out.getvalue()


def test_an_upload_keeps_its_own_sandbox_policy(api, make_project, sample_config):
    project = make_project(label_config=sample_config("bbox.xml"))
    assert api.post(f"/api/projects/{project['id']}/import", files=[("file", ("a.png", png()))]).status_code == 201
    url = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]["data"]["image"]
    served = api.get(url)
    assert served.status_code == 200
    assert served.headers.get_list("content-security-policy") == ["sandbox"]
    assert served.headers["x-frame-options"] == "DENY" and served.headers["x-content-type-options"] == "nosniff"


def test_the_schema_is_served_but_not_the_ui_pages_that_need_cdn_scripts(server):
    with server.client() as client:
        assert "/api/projects" in client.get("/schema/openapi.json").json()["paths"]
        assert "/api/projects" in client.get("/schema/openapi.yaml").text
        for ui in ("swagger", "redoc", "elements", "rapidoc"):
            assert client.get(f"/schema/{ui}").status_code == 404, ui


def cookie_flags(response, prefix: str) -> dict[str, str | bool]:
    """The attributes of the first Set-Cookie whose name starts with `prefix`, lower-cased."""
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        if first.split("=")[0].startswith(prefix):
            return {k.lower(): (v.lower() if sep else True) for k, sep, v in (a.partition("=") for a in attributes)}
    raise AssertionError(f"no {prefix} cookie in {response.headers.get_list('set-cookie')}")


def log_in_by_hand(base_url: str, email: str, password: str):
    """The login page, then its form posted: both answers, their Set-Cookie untouched. The cookie is
    carried by hand because an HTTP client keeps a Secure cookie from a plain-HTTP server to itself."""
    import httpx

    with httpx.Client(base_url=base_url, timeout=30) as client:
        form = client.get("/login")
        token = form.cookies["csrftoken"]
        login = client.post("/login", data={"_csrf_token": csrf_from(form.text), "email": email, "password": password},
                            headers={"cookie": f"csrftoken={token}"})
    assert login.status_code == 302, login.text[:300]
    return form, login


def test_cookies_are_httponly_and_samesite_but_not_secure_by_default(server):
    form, login = log_in_by_hand(server.base_url, server.admin_email, server.admin_password)
    session, csrf = cookie_flags(login, "lw_session"), cookie_flags(form, "csrftoken")
    assert session.get("httponly") is True and session.get("samesite") == "lax" and "secure" not in session
    assert csrf.get("samesite") in ("lax", "strict") and "secure" not in csrf


def test_cookies_are_secure_when_labelwell_cookie_secure_is_true(tmp_path, database_url_factory):
    email, password = "admin@example.com", "pw-" + uuid.uuid4().hex[:10]
    srv = launch(tmp_path / "data", database_url_factory("sqlite"),
                 {"LABELWELL_COOKIE_SECURE": "true", "LABELWELL_USERNAME": email, "LABELWELL_PASSWORD": password})
    try:
        form, login = log_in_by_hand(srv.base_url, email, password)
        # the same switch says the site is served over HTTPS: browsers are told to stay on it
        assert httpx.get(srv.base_url + "/login").headers["strict-transport-security"] == "max-age=31536000"
    finally:
        srv.stop()
    session, csrf = cookie_flags(login, "lw_session"), cookie_flags(form, "csrftoken")
    assert session.get("secure") is True and session.get("httponly") is True and session.get("samesite") == "lax"
    assert csrf.get("secure") is True and csrf.get("samesite") in ("lax", "strict")


# Every Content-Security-Policy violation, on every page, reported as a console error.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.cspViolations.push(e.violatedDirective);
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""
# label config CSS makes an inline <style>: it must still apply
STYLED_NER = "<View>\n  <Style>.lw-text-body { letter-spacing: 3px }</Style>"


@pytest.fixture
def watched(page):
    """The browser tab, with every CSP violation, console error and uncaught exception collected."""
    problems: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"{page.url}: uncaught {exc}"))
    return page, problems


def image_loaded(page, selector: str) -> None:
    page.wait_for_function(f"() => {{ const i = document.querySelector({selector!r}); "
                           "return i && i.complete && i.naturalWidth > 0; }")


def test_main_pages_run_under_the_policy_without_violations(watched, server, api, make_user, make_project,
                                                             sample_config):
    page, problems = watched
    ner = make_project(label_config=sample_config("ner.xml").replace("<View>", STYLED_NER, 1), maximum_annotations=2)
    api.post(f"/api/projects/{ner['id']}/import", json=[{"text": "Ada Lovelace met Charles Babbage"}] * 2)
    task, fresh = sorted(api.get(f"/api/tasks?project={ner['id']}").json()["tasks"], key=lambda t: t["inner_id"])
    annotator = make_user("annotator")
    api.post(f"/api/projects/{ner['id']}/members", json={"user": annotator["id"]})
    key = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', annotator["id"])[0]["key"]
    span = {"from_name": "label", "to_name": "text", "type": "labels"}
    with server.client(token=key) as annotator_api:
        for client, label in ((api, "PERSON"), (annotator_api, "ORG")):
            response = client.post(f"/api/tasks/{task['id']}/annotations", json={"result": [
                {**span, "id": label, "value": {"start": 0, "end": 3, "text": "Ada", "labels": [label]}}]})
            assert response.status_code == 201, response.text
    images = make_project(label_config=sample_config("bbox.xml"))
    api.post(f"/api/projects/{images['id']}/import", files=[("file", ("street.png", png()))])
    # the same server under another host name is another origin, as a task's image host would be
    elsewhere = server.base_url.replace("127.0.0.1", "localhost") + "/static/favicon.svg"
    api.post(f"/api/projects/{images['id']}/import", json=[{"image": elsewhere}])
    image_tasks = sorted(api.get(f"/api/tasks?project={images['id']}").json()["tasks"], key=lambda t: t["inner_id"])

    log_in(page, server.admin_email, server.admin_password)
    base = f"/projects/{ner['id']}"
    for path in ("/projects", base, f"{base}/tasks", f"{base}/tasks/{task['id']}", f"{base}/edit",
                 f"{base}/review", f"{base}/review/{task['id']}", f"{base}/agreement", "/settings", "/account"):
        page.goto(path)
        expect(page.locator("main h1").first).to_be_visible()
        if path == f"{base}/edit":  # the live preview arrives through htmx
            expect(page.locator("#config-feedback .lw-form")).to_be_visible()
    page.goto(f"{base}/label/{fresh['id']}")
    ready(page)
    assert page.locator(".lw-text-body").first.evaluate("e => getComputedStyle(e).letterSpacing") == "3px"
    for image_task in image_tasks:
        page.goto(f"/projects/{images['id']}/label/{image_task['id']}")
        ready(page)
        image_loaded(page, ".lw-image img")
    # htmx-boosted navigation swaps pages in without a reload
    page.get_by_role("link", name="Projects", exact=True).first.click()
    expect(page).to_have_url("/projects")
    expect(page.locator(f"a[href='{base}']").first).to_be_visible()
    assert page.evaluate("window.cspViolations") == []
    assert problems == []


def test_the_policy_blocks_inline_script_and_eval(watched, server):
    page, problems = watched
    log_in(page, server.admin_email, server.admin_password)
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.inlineRan = true';
        document.head.append(s);
        document.body.insertAdjacentHTML('beforeend', '<img src="data:," onerror="window.handlerRan = true">');
        setTimeout('window.evalRan = true');  // a string is eval: 'unsafe-eval' is not allowed either
        setTimeout(() => { window.later = true; }, 50);
    }""")
    page.wait_for_function("() => window.later && window.cspViolations.length >= 3")
    assert page.evaluate("[window.inlineRan, window.handlerRan, window.evalRan]") == [None, None, None]
    # htmx keeps to the policy too: no eval, no <style> of its own
    assert page.evaluate("[htmx.config.allowEval, htmx.config.includeIndicatorStyles]") == [False, False]
    assert page.locator("head style").count() == 0
    assert {v.split("-elem")[0].split("-attr")[0] for v in page.evaluate("window.cspViolations")} == {"script-src"}
    assert any("CSP violation" in p for p in problems)  # the recorder the page test relies on does report
