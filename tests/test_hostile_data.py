"""Hostile data gets nowhere: markup in a project's texts, its label config, task data, an imported
file's name, people's names, annotations, review comments and an ML backend's title is shown as
text on every page that shows it, and never runs (checked in the HTML and in Chromium)."""

from __future__ import annotations

import json
import re
from contextlib import closing
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

import lxml.html
import pytest
from playwright.sync_api import expect

from tests.helpers import browser, csrf_from, wait_job
from tests.test_workspace_browser import ready, select_text

MARK = "__pwned"  # every payload sets window.__pwned: seeing it run anywhere is the failure
IMG = "<img src=x onerror=window.__pwned=1>"
SVG = '"><svg onload=window.__pwned=1>'
SCRIPT = "<script>window.__pwned=1</script>"
JS_URL = "javascript:window.__pwned=1"
EVERYTHING = f"{SCRIPT} {SVG} {IMG} '><img src=x onerror=window.__pwned=1>"
HYPERTEXT = (f"<p>kept <b>bold</b></p>{SCRIPT}{IMG}<a href=\"{JS_URL}\">link</a>"
             f"<iframe src=\"{JS_URL}\"></iframe><svg onload=window.__pwned=1></svg>"
             "<div onclick=window.__pwned=1 style=\"background:url(javascript:window.__pwned=1)\">div</div>")

CONFIG = f"""<View>
  <Header value={quoteattr(IMG)}/>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value={quoteattr(IMG)}/><Label value="PER"/></Labels>
  <Choices name="mood" toName="text">
    <Choice value={quoteattr(SVG)} hint={quoteattr(SVG)}/><Choice value="calm" alias={quoteattr(SCRIPT)}/>
  </Choices>
  <TextArea name={quoteattr(SVG)} toName="text" placeholder={quoteattr(SVG)} label={quoteattr(IMG)}/>
  <HyperText name="page" value="$html"/>
  <Image name="picture" value="$image"/>
  <Text name="link" value="$link" valueType="url"/>
</View>"""
DATA = {"text": EVERYTHING, "html": HYPERTEXT, "image": JS_URL, "link": JS_URL, IMG: SVG}
FILE_NAME = f'"><img src=x onerror=window.{MARK}=1>.json'


@dataclass
class Person:
    user: dict
    token: str

    @property
    def email(self) -> str:
        return self.user["email"]


@dataclass
class Hostile:
    project: dict
    tasks: list[int]
    annotations: list[int]
    job: int
    annotator: Person
    reviewer: Person


def person(server, api, project: dict, role: str, name: str) -> Person:
    password = "pass-hostile-1"
    made = api.post("/api/users", json={"email": f"{role}-{MARK}-{project['id']}@example.com", "password": password,
                                        "role": role, "first_name": name, "last_name": SCRIPT})
    assert made.status_code == 201, made.text
    api.post(f"/api/projects/{project['id']}/members", json={"user": made.json()["id"], "role": role})
    token = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', made.json()["id"])[0]["key"]
    return Person({**made.json(), "password": password}, token)


@pytest.fixture(scope="module")
def hostile(server) -> Hostile:
    """One project per engine with a payload in every place a person can put one."""
    api = server.client(token=server.admin_token)
    project = api.post("/api/projects", json={"title": IMG, "description": EVERYTHING, "label_config": CONFIG,
                                              "expert_instruction": HYPERTEXT, "maximum_annotations": 2}).json()
    assert "id" in project, project
    pid = project["id"]
    body = json.dumps([{"data": DATA}, {"data": {**DATA, "link": f"/second{SVG}"}}]).encode()
    imported = api.post(f"/api/projects/{pid}/import?return_task_ids=true", files=[("file", (FILE_NAME, body))])
    assert imported.status_code == 201, imported.text
    tasks = imported.json()["task_ids"]
    annotator = person(server, api, project, "annotator", IMG)
    reviewer = person(server, api, project, "reviewer", SVG)
    start = EVERYTHING.index("<img")
    result = [{"id": "r1", "from_name": "ner", "to_name": "text", "type": "labels",
               "value": {"start": start, "end": start + len(IMG), "text": IMG, "labels": [IMG]}},
              {"id": "r2", "from_name": "mood", "to_name": "text", "type": "choices", "value": {"choices": [SVG]}},
              {"id": "r3", "from_name": SVG, "to_name": "text", "type": "textarea", "value": {"text": [SCRIPT, SVG]}}]
    annotations = []
    with server.client(token=annotator.token) as client:
        for task in tasks:
            made = client.post(f"/api/tasks/{task}/annotations", json={"result": result})
            assert made.status_code == 201, made.text
            annotations.append(made.json()["id"])
    other = api.post(f"/api/tasks/{tasks[0]}/annotations", json={"result": result[1:]})  # a disagreement to review
    assert other.status_code == 201, other.text
    with server.client(token=reviewer.token) as client:
        rejected = client.post(f"/api/annotations/{annotations[0]}/review", json={"accepted": False, "comment": EVERYTHING})
        assert rejected.status_code == 200, rejected.text
    prediction = api.post("/api/predictions", json={"task": tasks[1], "result": result[1:2], "model_version": IMG})
    assert prediction.status_code == 201, prediction.text
    backend = api.post("/api/ml", json={"project": pid, "url": "http://127.0.0.1:9", "title": IMG,
                                        "description": EVERYTHING})
    assert backend.status_code == 201, backend.text
    job = failed_import(server, pid)
    api.close()
    return Hostile(project, tasks, annotations, job, annotator, reviewer)


def failed_import(server, project_id: int) -> int:
    """An import from the project page whose file (named with markup) the worker refuses: its
    errors name the file."""
    if not server.workers:
        server.start_worker()
    with closing(browser(server)) as web:
        page = web.get(f"/projects/{project_id}")
        response = web.post(f"/projects/{project_id}/import", data={"_csrf_token": csrf_from(page.text)},
                            files=[("file", (FILE_NAME, b'[{"data": {"nope": 1}}]'))])
        assert response.status_code in (302, 303), response.text[:500]
        job = int(response.headers["location"].split("job=")[1].split("#")[0])
    with server.client(token=server.admin_token) as api:
        assert wait_job(api, job)["state"] == "failed"
    return job


def assert_inert(text: str, where: str) -> lxml.html.HtmlElement:
    """No handler, script, javascript: address or element came out of a payload (a payload's
    <svg> or <img> would carry its on* handler)."""
    doc = lxml.html.fromstring(text)
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        for name, value in el.attrib.items():
            assert not (name.lower().startswith("on") and MARK in value), f"{where}: <{el.tag} {name}={value!r}>"
            if name.lower() in ("href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"):
                assert not value.strip().lower().startswith("javascript:"), f"{where}: <{el.tag} {name}={value!r}>"
        if el.tag == "script" and not el.get("src"):
            assert MARK not in (el.text or ""), f"{where}: an inline script carries a payload"
        tag = el.tag.lower().rpartition("}")[2]
        assert not (tag == "img" and el.get("src") == "x" and not in_hypertext(el)), f"{where}: a payload's <img>"
        assert tag not in ("iframe", "object", "embed"), f"{where}: <{tag}>"
    return doc


def in_hypertext(el) -> bool:
    """The sanitiser keeps a harmless <img src="x"> of HyperText data (as formatting)."""
    return any("lw-hypertext-body" in (a.get("class") or "") or "instructions" in (a.get("class") or "")
               for a in el.iterancestors())


def text_seen(doc: lxml.html.HtmlElement) -> str:
    return " ".join(doc.text_content().split())


def pages(h: Hostile) -> dict[str, list[str]]:
    pid, (t1, t2), (a1, _) = h.project["id"], h.tasks, h.annotations
    return {
        "admin": ["/projects", f"/projects/{pid}", f"/projects/{pid}?job={h.job}", f"/projects/{pid}/jobs/{h.job}",
                  f"/projects/{pid}/edit", f"/projects/{pid}/tasks", f"/projects/{pid}/tasks?q=svg",
                  f"/projects/{pid}/tasks/{t1}", f"/projects/{pid}/tasks/{t2}", f"/projects/{pid}/label/{t1}",
                  f"/projects/{pid}/review", f"/projects/{pid}/review/{t1}",
                  f"/projects/{pid}/review/{t1}/adjudicate?from={a1}", f"/projects/{pid}/agreement",
                  f"/projects/{pid}/model", f"/projects/{pid}/model/quality", "/settings", "/account",
                  "/settings/projects", "/settings/audit", "/settings/jobs", "/settings/instance"],
        "annotator": ["/projects", f"/projects/{pid}", f"/projects/{pid}/tasks", f"/projects/{pid}/label/{t1}",
                      f"/projects/{pid}/label/{t2}", f"/projects/{pid}/label/history", "/account"],
        "reviewer": [f"/projects/{pid}", f"/projects/{pid}/review", f"/projects/{pid}/review/{t1}",
                     f"/projects/{pid}/review/{t2}", f"/projects/{pid}/review/{t1}/adjudicate?from={a1}",
                     f"/projects/{pid}/agreement", f"/projects/{pid}/model/quality"],
    }


def test_every_page_shows_the_payloads_as_text(server, hostile):
    logins = {"admin": (server.admin_email, server.admin_password),
              "annotator": (hostile.annotator.email, hostile.annotator.user["password"]),
              "reviewer": (hostile.reviewer.email, hostile.reviewer.user["password"])}
    shown = []
    for who, paths in pages(hostile).items():
        with closing(browser(server, *logins[who])) as web:
            for path in paths:
                response = web.get(path)
                assert response.status_code == 200, f"{who} {path}: {response.status_code}"
                shown.append(text_seen(assert_inert(response.text, f"{who} {path}")))
    seen = " ".join(shown)
    # the payloads were there to be escaped, not dropped: each shows as the text it is
    for payload in (IMG, SVG, SCRIPT, FILE_NAME):
        assert payload in seen, payload


def test_the_payloads_reach_the_pages_that_name_them(server, hostile):
    """Each payload is on the page that should show it, as text (so the checks above saw it)."""
    pid, (t1, _) = hostile.project["id"], hostile.tasks
    with closing(browser(server)) as web:
        def seen(path: str, css: str) -> str:
            doc = assert_inert(web.get(path).text, path)
            return " ".join(text_seen(el) for el in doc.cssselect(css))

        assert IMG in seen("/projects", "main")  # the title
        assert FILE_NAME in seen(f"/projects/{pid}/jobs/{hostile.job}", ".job")
        assert SVG in seen(f"/projects/{pid}/tasks", "main")  # a data key's value in its column
        assert IMG in seen(f"/projects/{pid}/model", "main")  # the backend's title
        assert hostile.annotator.email in seen(f"/projects/{pid}", "#members")
        review = seen(f"/projects/{pid}/review/{t1}", "main")
        assert SCRIPT in review and IMG in review  # the comment and the label
        # the annotator's first name, in the user list (searched: the list is paged) and on their page
        assert IMG in seen(f"/settings?q={hostile.annotator.email}", "main")
        assert IMG in seen(f"/settings/users/{hostile.annotator.user['id']}", "main")
        assert IMG in seen(f"/projects/{pid}/agreement", "main")  # the label, in the per-label table
        assert IMG in seen(f"/projects/{pid}/model/quality", "main")  # the prediction's model version
    with closing(browser(server, hostile.annotator.email, hostile.annotator.user["password"])) as web:
        page = web.get(f"/projects/{pid}/label/{t1}")
        doc = assert_inert(page.text, "workspace")
        assert SCRIPT in " ".join(text_seen(el) for el in doc.cssselect("[data-testid=rejection]"))
        assert IMG in " ".join(text_seen(el) for el in doc.cssselect(".who"))  # the nav shows their first name
        areas = [el.text_content() for el in doc.cssselect("textarea")]
        assert SCRIPT in areas and SVG in areas


def test_what_comes_back_from_a_request_is_text_too(server, hostile):
    """Query strings echoed into forms, flash messages naming the backend, and error pages."""
    from urllib.parse import quote

    pid, (t1, _) = hostile.project["id"], hostile.tasks
    with closing(browser(server)) as web:
        for path in (f"/projects/{pid}/tasks?q={quote(SVG)}&sort={quote(SVG)}", f"/projects/{pid}/review?q={quote(SVG)}",
                     f"/projects/{pid}/tasks?annotator={quote(IMG)}", f"/projects/{pid}/review/{t1}/adjudicate?from={quote(IMG)}",
                     f"/projects/{pid}/model?job={quote(SVG)}", f"/projects/{quote(IMG)}", f"/{quote(SCRIPT)}"):
            response = web.get(path)
            assert response.status_code < 500, path
            assert_inert(response.text, path)
        backend = web.get(f"/api/ml?project={pid}", headers={"Authorization": f"Token {server.admin_token}"}).json()[0]
        page = web.get(f"/projects/{pid}/model")
        checked = web.post(f"/projects/{pid}/model/backends/{backend['id']}/check",
                           data={"_csrf_token": csrf_from(page.text)}, follow_redirects=True)
        doc = assert_inert(checked.text, "the model page after a check")
        assert IMG in " ".join(text_seen(el) for el in doc.cssselect(".flash"))  # the title, as text
        # the config editor: errors that quote the config, and a preview of hostile sample data
        sample = json.dumps({"data": DATA}).replace("--", "- -")
        for config in ((f'<View><Text name="t" value="$t"/><Choices name={quoteattr(IMG)} toName={quoteattr(SVG)}>'
                        f'<Choice value={quoteattr(SCRIPT)}/></Choices><{SVG[3:7]} /></View>'),
                       f'{CONFIG}\n<!-- {sample} -->', f"<View><Header value='{IMG}'/></View>"):
            preview = web.post("/projects/config/preview", data={"label_config": config},
                               headers={"HX-Request": "true", "x-csrftoken": web.cookies["csrftoken"]})
            assert preview.status_code == 200
            assert_inert(preview.text, "the config preview")
        refused = web.post("/projects/new", data={"title": IMG, "description": SCRIPT, "label_config": f"<View>{SVG}",
                                                  "_csrf_token": web.cookies["csrftoken"]})
        assert refused.status_code == 400
        assert SVG in " ".join(el.text_content() for el in assert_inert(refused.text, "the refused form").cssselect("textarea"))
    with closing(server.client()) as anonymous:
        for path in (f"/login?next={quote(JS_URL)}", f"/login?next={quote(SVG)}"):
            assert_inert(anonymous.get(path).text, path)


def test_hypertext_keeps_formatting_and_loses_every_handler(server, hostile):
    pid, (t1, _) = hostile.project["id"], hostile.tasks
    with closing(browser(server)) as web:
        for path in (f"/projects/{pid}/label/{t1}", f"/projects/{pid}/tasks/{t1}", f"/projects/{pid}/review/{t1}"):
            doc = assert_inert(web.get(path).text, path)
            bodies = doc.cssselect(".lw-hypertext-body")
            assert bodies, path
            for body in bodies:
                assert body.cssselect("p b") and "kept" in body.text_content()  # formatting stays
                for el in body.iter():
                    if not isinstance(el.tag, str):
                        continue
                    assert el.tag not in ("script", "iframe", "svg", "style"), (path, el.tag)
                    assert not [a for a in el.attrib if a.lower().startswith("on") or a.lower() == "style"], (path, el.tag)
                    assert not (el.get("href") or "").lower().startswith("javascript:"), path
        # the project's instructions go through the same sanitiser
        doc = assert_inert(web.get(f"/projects/{pid}").text, "project page")
        instructions = doc.cssselect(".instructions")
        assert instructions and instructions[0].cssselect("p b")
        assert not instructions[0].cssselect("script, iframe, svg, [onclick], [onerror], [onload]")


@pytest.mark.db  # hostile data as each engine stores it, then shown: on both
def test_nothing_runs_in_a_browser(page, server, hostile):
    pid, (t1, _) = hostile.project["id"], hostile.tasks
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def log_in(email: str, password: str) -> None:
        page.context.clear_cookies()
        page.goto("/login")
        page.fill("#email", email)
        page.fill("#password", password)
        page.press("#password", "Enter")
        page.wait_for_url("**/projects")

    def untouched(path: str) -> None:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(f"typeof window.{MARK}") == "undefined", path
        assert not dialogs, (path, dialogs)

    log_in(hostile.annotator.email, hostile.annotator.user["password"])
    untouched(f"/projects/{pid}/label/{t1}")
    ready(page)
    # the workspace's scripts take the hostile label, text and choice into a new region and a draft
    select_text(page, "svg onload")
    page.get_by_test_id(f"label-{IMG}").click()
    expect(page.locator("mark.lw-span")).to_have_count(2)
    page.get_by_test_id(f"choice-{SVG}").check()
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    untouched(f"/projects/{pid}/label/{t1}")  # the draft, rendered again
    expect(page.locator("mark.lw-span")).to_have_count(2)
    untouched(f"/projects/{pid}/tasks")
    log_in(hostile.reviewer.email, hostile.reviewer.user["password"])
    untouched(f"/projects/{pid}/review")
    untouched(f"/projects/{pid}/review/{t1}")
    untouched(f"/projects/{pid}/review/{t1}/adjudicate?from={hostile.annotations[0]}")
    log_in(server.admin_email, server.admin_password)
    for path in (f"/projects/{pid}", f"/projects/{pid}/tasks", f"/projects/{pid}/tasks/{t1}", f"/projects/{pid}/model",
                 f"/projects/{pid}/agreement", "/settings", "/projects"):
        untouched(path)


# -- exports: no cell a spreadsheet would run ------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"https://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]
SHEET_CONFIG = f"""<View>
  <Text name="text" value="$text"/>
  <Labels name="ner" toName="text">{"".join(f"<Label value={quoteattr(f)}/>" for f in FORMULAS[:4])}</Labels>
  <Choices name="single" toName="text">{"".join(f"<Choice value={quoteattr(f)}/>" for f in FORMULAS)}</Choices>
  <Choices name="several" toName="text" choice="multiple"><Choice value="=1+1"/><Choice value="-1"/></Choices>
  <TextArea name="@note" toName="text"/>
</View>"""


def spreadsheet_cells(text: str, delimiter: str) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


@pytest.mark.parametrize("kind", ["CSV", "TSV"])
def test_no_exported_cell_can_become_a_formula(api, make_project, kind):
    project = make_project(label_config=SHEET_CONFIG)
    text = "Ada met =Babbage"
    tasks = []
    for n, formula in enumerate(FORMULAS):
        result = [{"id": f"s{n}", "from_name": "ner", "to_name": "text", "type": "labels",
                   "value": {"start": 0, "end": 3, "text": "Ada", "labels": [FORMULAS[n % 4]]}},
                  {"id": f"c{n}", "from_name": "single", "to_name": "text", "type": "choices", "value": {"choices": [formula]}},
                  {"id": f"m{n}", "from_name": "several", "to_name": "text", "type": "choices",
                   "value": {"choices": ["=1+1", "-1"]}},
                  {"id": f"t{n}", "from_name": "@note", "to_name": "text", "type": "textarea", "value": {"text": [formula]}}]
        # a formula in every kind of column: the text, a data key named like a formula, one named
        # like a control (written as _data_<name>), the annotation's columns
        tasks.append({"data": {"text": formula if n else text, formula[:2] + "key": formula, "single": formula,
                               "number": -5 - n},
                      "annotations": [{"result": result, "lead_time": 1.5}]})
    imported = api.post(f"/api/projects/{project['id']}/import", json=tasks)
    assert imported.status_code == 201, imported.text
    response = api.get(f"/api/projects/{project['id']}/export?exportType={kind}&download_all_tasks=true")
    assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment")
    rows = spreadsheet_cells(response.text, "," if kind == "CSV" else "\t")
    header, body = rows[0], rows[1:]
    assert len(body) == len(FORMULAS)
    for row in rows:
        assert len(row) == len(header)  # a tab or a line break inside a value stays in its cell
        for value in row:
            number = re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value)  # a number is read as one, never run
            assert number or not value.startswith(("=", "+", "-", "@", "\t", "\r")), (kind, value)
    assert "'@note" in header and "'=Hkey" in header  # names from the config and the data, guarded too
    by_name = [dict(zip(header, row)) for row in body]
    for n, (row, formula) in enumerate(zip(by_name, FORMULAS)):
        assert row["single"] == "'" + formula  # the value is kept, behind the apostrophe
        assert row["'@note"] == "'" + formula
        assert row["_data_single"] == "'" + formula
        assert row["'" + formula[:2] + "key"] == "'" + formula
        assert json.loads(row["ner"])[0]["labels"] == [FORMULAS[n % 4]]  # JSON, which starts with "["
        assert json.loads(row["several"]) == {"choices": ["=1+1", "-1"]}
        assert row["number"] == str(-5 - n)  # a number is a number, not a formula
    assert by_name[0]["text"] == text and by_name[1]["text"] == "'" + FORMULAS[1]
