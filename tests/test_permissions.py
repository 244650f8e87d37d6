"""The permission matrix of docs/permissions.md, enforced: every registered route is requested by
every kind of user, and the outcome must be the one its row states. A route without a row fails,
and so does a row without a route. Then the id-guessing checks: an id from another project never
works in a path, for admins (404) or members (403/404, without the other project's data).

The rules do not depend on the database engine, so this module walks its own SQLite server."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

from tests import s3server
from tests.helpers import ROOT, Server, browser, start_server, wait_job

DOC = ROOT / "docs" / "permissions.md"
COLUMNS = ("anonymous", "annotator member", "annotator non-member", "reviewer member", "reviewer non-member", "admin")
OUTCOMES = {"ok", "login", "401", "403", "404"}
SAFE = {"GET", "HEAD", "OPTIONS"}
ROW = re.compile(r"^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`?([^|`]+?)`?\s*\|(.*)\|\s*$")
CONFIG = ('<View><Text name="text" value="$text"/><Choices name="mood" toName="text">'
          '<Choice value="pos"/><Choice value="neg"/></Choices></View>')
RESULT = [{"from_name": "mood", "to_name": "text", "type": "choices", "value": {"choices": ["pos"]}}]
LIST_ROUTES = """import json
from app.asgi import app
print(json.dumps(sorted({(m, r.path) for r in app.routes for m in getattr(r, "route_handler_map", {})
                         if m not in ("HEAD", "OPTIONS")})))"""


# -- the doc and the app ---------------------------------------------------------------------------

def doc_rows() -> dict[tuple[str, str], dict[str, str]]:
    """(method, path) -> {column: cell} from every matrix row of the doc."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for number, line in enumerate(DOC.read_text().splitlines(), 1):
        match = ROW.match(line.strip())
        if not match:
            continue
        cells = [c.strip().strip("`") for c in match[3].split("|")]
        key = (match[1], match[2].strip())
        assert len(cells) == len(COLUMNS), f"docs/permissions.md:{number}: {len(COLUMNS)} cells after the path"
        assert set(cells) <= OUTCOMES, f"docs/permissions.md:{number}: cells are {', '.join(sorted(OUTCOMES))}"
        assert key not in rows, f"docs/permissions.md:{number}: {key[0]} {key[1]} has two rows"
        rows[key] = dict(zip(COLUMNS, cells))
    return rows


def app_routes(server: Server) -> list[tuple[str, str]]:
    out = subprocess.run([sys.executable, "-c", LIST_ROUTES], env=server.env, cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return [tuple(r) for r in json.loads(out.stdout.splitlines()[-1])]


def row_text(method: str, path: str, cells: dict[str, str]) -> str:
    return f"| {method} | {path} | " + " | ".join(cells[c] for c in COLUMNS) + " |"


# -- the people ------------------------------------------------------------------------------------

@dataclass
class Person:
    """One column of the matrix: a token client for /api/ paths, a cookie session for pages."""

    column: str
    server: Server
    user: dict = field(default_factory=dict)
    api: httpx.Client | None = None
    session: httpx.Client | None = None

    def login(self) -> None:
        if self.session is not None:
            self.session.close()
        if self.user:
            self.session = browser(self.server, self.user["email"], self.user["password"])
        else:  # anonymous, but holding a CSRF cookie as any visitor's browser does
            self.session = self.server.client()
            self.session.get("/login")

    def set_token(self) -> None:
        if self.api is not None:
            self.api.close()
        key = self.server.query('SELECT key FROM lw_api_token WHERE "user" = $1', self.user["id"])[0]["key"] \
            if self.user else None
        self.api = self.server.client(token=key)

    def repair(self) -> None:
        """After an unsafe route: a reset token or an ended session is renewed (/logout, /account/token)."""
        if self.user and self.session.get("/api/current-user/whoami").status_code != 200:
            self.login()
        if self.user and self.api.get("/api/current-user/whoami").status_code != 200:
            self.set_token()


def send(person: Person, method: str, url: str, via: str) -> httpx.Response:
    """The request as a script (via="token") or a browser (via="session") sends it, with an empty body."""
    unsafe = method not in SAFE
    client = person.api if via == "token" else person.session
    headers = {"x-csrftoken": client.cookies.get("csrftoken", "")} if unsafe and via == "session" else {}
    body = ({"json": {}} if url.startswith("/api/") else {"data": {}}) if unsafe else {}
    return client.request(method, url, headers=headers, **body)


def outcome(response: httpx.Response) -> str:
    if response.status_code >= 500:
        return f"{response.status_code} (a server error: see the server log)"
    if response.status_code in (401, 403, 404):
        return str(response.status_code)
    if response.is_redirect and response.headers.get("location", "").startswith("/login?next="):
        return "login"
    return "ok"


# -- the world -------------------------------------------------------------------------------------

class Side:
    """One project of a world and its objects; the slow ones are made when a path first asks."""

    def __init__(self, world: World, name: str, annotator: Person, reviewer: Person) -> None:
        self.world, self.name, self.annotator, self.reviewer = world, name, annotator, reviewer
        admin, server = world.admin.api, world.server
        self.marker = f"secret-{name}-{uuid.uuid4().hex[:10]}"  # must never show up in a refusal
        self.project = created(admin.post("/api/projects", json={"title": f"Walk {self.marker}", "label_config": CONFIG}))["id"]
        for person, role in ((annotator, "annotator"), (reviewer, "reviewer")):
            created(admin.post(f"/api/projects/{self.project}/members", json={"user": person.user["id"], "role": role}))
        self.local_file = f"{self.marker}.txt"
        (server.data_dir / "local-files").mkdir(exist_ok=True)
        (server.data_dir / "local-files" / self.local_file).write_text(self.marker)
        self.file_uri = f"/data/local-files/?d={self.local_file}"
        tasks = [{"text": f"{self.marker} {i}", "doc": self.file_uri} for i in range(8)]
        report = created(admin.post(f"/api/projects/{self.project}/import?return_task_ids=1",
                                    files={"file": ("tasks.json", json.dumps(tasks), "application/json")}))
        self.task = report["task_ids"][0]
        stored = server.query("SELECT file FROM lw_file_upload WHERE id = $1", report["file_upload_ids"][0])
        self.upload = stored[0]["file"].split("/", 1)[1]
        self.upload_id = report["file_upload_ids"][0]
        self.annotation = created(annotator.api.post(f"/api/tasks/{self.task}/annotations", json={"result": RESULT}))["id"]
        self.prediction = created(admin.post("/api/predictions", json={"task": self.task, "result": RESULT,
                                                                       "score": 0.5, "model_version": "v1"}))["id"]
        created(reviewer.api.post(f"/api/annotations/{self.annotation}/review", json={"accepted": True}))
        self._backend = self._job = self._member = self._view = None
        self._webhook = None
        self._storages: dict[str, int] = {}

    def view(self) -> int:
        if self._view is None:  # a saved view (a data manager tab), made by the admin
            self._view = created(self.world.admin.api.post("/api/dm/views", json={
                "project": self.project, "data": {"title": "Walk view"}}))["id"]
        return self._view

    def backend(self) -> int:
        if self._backend is None:  # nothing listens there: the backend is saved in an error state
            self._backend = created(self.world.admin.api.post("/api/ml", json={
                "project": self.project, "url": "http://127.0.0.1:9", "title": "nobody home"}))["id"]
        return self._backend

    def job(self) -> int:
        if self._job is None:  # a finished recount: the worker runs it
            job = created(self.world.admin.api.post(f"/api/projects/{self.project}/recount"))
            assert wait_job(self.world.admin.api, job["id"])["state"] == "done"
            self._job = job["id"]
        return self._job

    def import_job(self) -> int:
        """A finished background import (Label Studio's import id is its job's)."""
        if getattr(self, "_import", None) is None:
            queued = created(self.world.admin.api.post(f"/api/projects/{self.project}/import?background=1",
                                                       json=[{"text": f"{self.marker} later"}]))
            assert wait_job(self.world.admin.api, queued["import"])["state"] == "done"
            self._import = queued["import"]
        return self._import

    def export(self) -> int:
        """A completed export snapshot (Label Studio's /exports), written by the worker."""
        if getattr(self, "_export", None) is None:
            admin = self.world.admin.api
            snapshot = created(admin.post(f"/api/projects/{self.project}/exports", json={"title": "Walk export"}))
            deadline = time.monotonic() + 60
            while admin.get(f"/api/projects/{self.project}/exports/{snapshot['id']}").json()["status"] != "completed":
                assert time.monotonic() < deadline, "the export snapshot was not written in 60 s"
                time.sleep(0.1)
            self._export = snapshot["id"]
        return self._export

    def webhook(self) -> int:
        """A webhook that wants no event (and, at a public address, would be allowed): nothing is sent."""
        if self._webhook is None:
            self._webhook = created(self.world.admin.api.post("/api/webhooks", json={
                "project": self.project, "url": "http://93.184.215.14/hook", "send_for_all_actions": False,
                "actions": []}))["id"]
        return self._webhook

    def storage(self, path: str) -> int:
        """A storage of the kind and role the path is about: a local-files folder, or a bucket on the test S3 server."""
        role, kind = ("export/" if "/export/" in path else ""), ("s3" if "/s3/" in path else "localfiles")
        if role + kind not in self._storages:
            body: dict = {"project": self.project, "title": "walk"}
            if kind == "s3":
                endpoint = self.world.server.s3_endpoint
                body.update(bucket=s3server.new_bucket(endpoint, {"walk/a.json": b'{"text": "x"}'}), prefix="walk",
                            s3_endpoint=endpoint, aws_access_key_id=s3server.KEY_ID,
                            aws_secret_access_key=s3server.SECRET)
            else:
                folder = self.world.server.data_dir / "local-files" / f"walk-{uuid.uuid4().hex[:8]}"
                folder.mkdir(parents=True)
                (folder / "a.json").write_text('{"text": "x"}')
                body["path"] = str(folder)
            self._storages[role + kind] = created(self.world.admin.api.post(f"/api/storages/{role}{kind}",
                                                                            json=body))["id"]
        return self._storages[role + kind]

    def member(self) -> int:
        """A user of no column, member of this project: the one user routes change or remove."""
        if self._member is None:
            user = created(self.world.admin.api.post("/api/users", json={
                "email": f"spare-{uuid.uuid4().hex[:8]}@example.com", "password": "pass-" + uuid.uuid4().hex[:10],
                "role": "annotator"}))
            created(self.world.admin.api.post(f"/api/projects/{self.project}/members",
                                              json={"user": user["id"], "role": "annotator"}))
            self._member = user["id"]
        return self._member


class World:
    """Project A (the member columns' project) and project B (the non-member columns' project, made
    when first asked: routes name A's objects, so a fresh world for one route needs no B)."""

    def __init__(self, people: dict[str, Person]) -> None:
        self.people, self.admin, self.server = people, people["admin"], people["admin"].server
        self.A = Side(self, "A", people["annotator member"], people["reviewer member"])

    @functools.cached_property
    def B(self) -> Side:
        return Side(self, "B", self.people["annotator non-member"], self.people["reviewer non-member"])


def created(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201, 202), f"{response.request.method} {response.request.url}: " \
        f"{response.status_code} {response.text[:300]}"
    return response.json()


# What a path parameter (or a query placeholder) names, by its name, in one side of the world.
# A new route with a parameter of another name fails below: teach it here.
RESOLVERS: dict[str, Callable[[Side], object]] = {
    "project_id": lambda s: s.project, "task_id": lambda s: s.task, "annotation_id": lambda s: s.annotation,
    "prediction_id": lambda s: s.prediction, "backend_id": Side.backend, "job_id": Side.job, "export_id": Side.export,
    "user_id": Side.member, "view_id": Side.view, "webhook_id": Side.webhook, "name": lambda s: s.upload, "upload_id": lambda s: s.upload_id,
    "import_id": Side.import_job, "local_file": lambda s: s.local_file,
    "file_uri": lambda s: s.file_uri, "file_path": lambda s: "app.css",
    "token": lambda s: "made-up-link",  # an invite link: a used or made-up one answers 410 to anyone
    "token_id": lambda s: 1,  # a personal access token: each person revokes only their own, by id
}
OBJECTS = {"task_id", "annotation_id", "prediction_id", "backend_id", "job_id", "user_id", "name", "view_id",
           "export_id", "webhook_id", "upload_id", "import_id", "storage_id"}
# Path parameters that are a word the handler picks its action by ({what} means something else in
# each route, so these go by route): a word it knows, else every cell would be a 404.
WORDS = {
    "/projects/{project_id:int}/model/backends/{backend_id:int}/{action:str}": {"action": "check"},
    "/projects/{project_id:int}/review/{task_id:int}/adjudicate/{what:str}": {"what": "lock"},
    "/settings/users/{user_id:int}/token/{what:str}": {"what": "revoke"},
    "/api/tasks/{task_id:int}/timeseries/{name_of_series:str}": {"name_of_series": "ts"},
    "/schema/{path:str}": {"path": "swagger"},
    "/data/upload/{project_id:int}/{name:str}/pages/{page:int}": {"page": "1"},  # a PDF's page
    "/data/upload/{project_id:int}/{name:str}/pages/{page:int}/text": {"page": "1"},
    # the one organization (Label Studio's ids; only 1 exists)
    "/api/organizations/{organization_id:int}": {"organization_id": "1"},
    "/api/organizations/{organization_id:int}/memberships": {"organization_id": "1"},
    "/api/organizations/{organization_id:int}/memberships/{user_id:int}": {"organization_id": "1"},
}
# Handlers that find their object in the query string get one, so a refusal is about the user.
QUERIES = {
    "/api/tasks": "project={project_id}", "/api/predictions": "project={project_id}",
    "/api/ml": "project={project_id}", "/api/dm/actions": "project={project_id}&id=retrieve_tasks_predictions",
    "/api/dm/views": "project={project_id}", "/api/dm/views/reset": "project={project_id}",
    "/api/dm/views/order": "project={project_id}",
    "/data/local-files": "d={local_file}", "/tasks/{task_id:int}/presign": "fileuri={file_uri}",
    "/tasks/{task_id:int}/resolve": "fileuri={file_uri}",
    **{f"/api/storages{p}": "project={project_id}" for p in ("", "/export", "/s3", "/localfiles", "/export/s3",
                                                             "/export/localfiles")},
}
PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def url_for(method: str, path: str, sides: Callable[[str], Side]) -> str:
    """The path with its parameters filled: `sides(name)` is the side a parameter's object comes from."""
    def fill(match: re.Match) -> str:
        name = match[1]
        if name in WORDS.get(path, {}):
            return WORDS[path][name]
        if name == "storage_id":  # one of the kind and role the path names
            return str(sides(name).storage(path))
        if name not in RESOLVERS:
            pytest.fail(f"{method} {path}: tests/test_permissions.py does not know what to put for {{{name}}}; "
                        "teach it: RESOLVERS (an object, by parameter name) or WORDS (a keyword, by route)")
        return str(RESOLVERS[name](sides(name)))

    query = QUERIES.get(path)
    return PARAM.sub(fill, path) + ("?" + PARAM.sub(fill, query) if query else "")


# -- the walk --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url_factory, s3_endpoint):
    """This module's own SQLite server, with a worker for the finished export job (and the S3
    server its storages connect to)."""
    srv = start_server(tmp_path_factory.mktemp("data-permissions"), database_url_factory("sqlite"))
    srv.s3_endpoint = s3_endpoint
    srv.start_worker()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def routes(server) -> list[tuple[str, str]]:
    """(method, path) of every route the app registers, read from the app object itself."""
    return sorted(app_routes(server), key=lambda r: (r[1], r[0]))


@pytest.fixture(scope="module")
def people(server) -> dict[str, Person]:
    people = {"anonymous": Person("anonymous", server)}
    admin = Person("admin", server, {"email": server.admin_email, "password": server.admin_password})
    admin.api = server.client(token=server.admin_token)
    admin.user["id"] = created(admin.api.get("/api/current-user/whoami"))["id"]
    for column in COLUMNS[1:-1]:
        role = column.split()[0]
        password = "pass-" + uuid.uuid4().hex[:10]
        user = created(admin.api.post("/api/users", json={
            "email": f"{column.replace(' ', '-')}-{uuid.uuid4().hex[:6]}@example.com", "password": password,
            "role": role}))
        people[column] = Person(column, server, {**user, "password": password})
    people["admin"] = admin
    for person in people.values():
        person.login()
        if person.column != "admin":
            person.set_token()
    yield people
    for person in people.values():
        person.api.close()
        person.session.close()


def check(person: Person, method: str, url: str, marker: str) -> str:
    """The outcome for this person; by token and by session for a safe /api/ request (they must agree)."""
    if not url.startswith("/api/"):
        vias = ["session"]
    else:
        vias = ["token"] if method not in SAFE or person.column == "anonymous" else ["token", "session"]
    seen = []
    for via in vias:
        response = send(person, method, url, via)
        got = outcome(response)
        if got != "ok" and marker in response.text:
            got += " (and the refusal shows the project's data)"
        seen.append(got)
    return seen[0] if len(set(seen)) == 1 else " / ".join(f"{v} by {w}" for v, w in zip(seen, vias))


def test_every_route_has_a_row_and_every_row_a_route(routes):
    documented, registered = set(doc_rows()), set(routes)
    missing = sorted(registered - documented, key=lambda r: (r[1], r[0]))
    stale = sorted(documented - registered, key=lambda r: (r[1], r[0]))
    message = ""
    if missing:
        message += "routes without a permission rule: add a row to docs/permissions.md for each\n" + \
            "".join(f"  {m} {p}\n" for m, p in missing)
    if stale:
        message += "rows of docs/permissions.md for routes the app no longer has: remove them\n" + \
            "".join(f"  {m} {p}\n" for m, p in stale)
    assert not message, message


def test_every_route_answers_every_kind_of_user_as_documented(routes, people):
    """Unsafe routes get a fresh world (and another one after each success, as a success may delete
    what the next person needs); the people expected to be refused go first."""
    documented, started = doc_rows(), time.monotonic()
    shared, problems, suggestions = World(people), [], []
    assert shared.B  # the non-member columns are members there, as in a real instance
    for method, path in routes:
        expected = documented.get((method, path))
        order = sorted(COLUMNS, key=lambda c: (expected is not None and expected[c] == "ok", COLUMNS.index(c)))
        world, spent = shared if method in SAFE else World(people), False
        got: dict[str, str] = {}
        for column in order:
            world, spent = (World(people), False) if spent else (world, spent)
            url = url_for(method, path, lambda name, side=world.A: side)
            got[column] = check(people[column], method, url, world.A.marker)
            if method not in SAFE and got[column] == "ok":  # a refusal changes nothing
                people[column].repair()
                spent = True
        if expected is None:
            suggestions.append(row_text(method, path, got))
        elif got != expected:
            problems.append(f"{method} {path}:\n    documented {row_text(method, path, expected)}\n"
                            f"    observed   {row_text(method, path, got)}")
    print(f"\nthe permission walk took {time.monotonic() - started:.1f} s")
    message = "routes that do not answer as docs/permissions.md says:\n" + "".join(f"{p}\n" for p in problems) \
        if problems else ""
    if suggestions:
        message += "routes without a row in docs/permissions.md; what they answer now (check it against " \
            "the policy table before you add it):\n" + "".join(f"  {s}\n" for s in suggestions)
    assert not message, message


def via(url: str) -> str:
    return "token" if url.startswith("/api/") else "session"


def test_an_admin_mixing_two_projects_ids_in_a_path_gets_404(routes, people):
    """Project A's id with an object of project B: never B's object, never a 500."""
    world, admin, problems = World(people), people["admin"], []
    for method, path in routes:
        names = set(PARAM.findall(path))
        if "project_id" not in names or not names & OBJECTS:
            continue
        url = url_for(method, path, lambda name: world.A if name == "project_id" else world.B)
        response = send(admin, method, url, via(url))
        if response.status_code != 404 or world.B.marker in response.text:
            problems.append(f"{method} {url}: {response.status_code} {response.text[:200]}")
    assert not problems, "an id from project B inside project A's path:\n" + "\n".join(problems)


def test_members_get_nothing_of_another_projects_objects(routes, people):
    """Project A's members asking for B's tasks, annotations, files, jobs…: 403 or 404, and none of B's data."""
    world, problems = World(people), []
    for method, path in routes:
        if not set(PARAM.findall(path)) & OBJECTS:
            continue
        url = url_for(method, path, lambda name: world.B)
        for column in ("annotator member", "reviewer member"):
            response = send(people[column], method, url, via(url))
            if response.status_code not in (403, 404) or world.B.marker in response.text:
                problems.append(f"{column}: {method} {url}: {response.status_code} {response.text[:200]}")
    assert not problems, "project A's members reaching project B's objects:\n" + "\n".join(problems)
