"""Fixtures: real Labelwell servers (one per database engine), HTTP clients, users and projects.

Every test that takes `server` (directly or through another fixture) runs once on SQLite and once
on PostgreSQL (a browser test on SQLite only, unless marked `db`: see pytest_collection_modifyitems).
The servers are real processes (`labelwell serve`), driven over HTTP as a user
or a script would. Under CI=true a missing PostgreSQL is a failure, not a skip."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests import pg
from tests.helpers import CHROMIUM, Server, start_server

ENGINES = ["sqlite", "postgres"]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin_url():
    """A PostgreSQL server URL on which tests may create databases."""
    url = os.environ.get("LABELWELL_TEST_POSTGRES_URL", "").strip()
    if url:
        yield url
        return
    bin_dir = pg.find_bin_dir()
    if bin_dir is None:
        missing("PostgreSQL is not installed (apt-get install postgresql), nor LABELWELL_TEST_POSTGRES_URL set")
    cluster = pg.Cluster(bin_dir)
    try:
        url = cluster.start()
    except Exception as exc:  # noqa: BLE001 - report why, whatever it was
        cluster.stop()
        missing(f"could not start a throwaway PostgreSQL cluster: {exc}")
    yield url
    cluster.stop()


@pytest.fixture(scope="session")
def database_url_factory(request, tmp_path_factory):
    """make(engine) -> a DATABASE_URL for a new, empty database on that engine."""

    def make(engine: str) -> str:
        if engine == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / 'labelwell.sqlite3'}"
        admin_url = request.getfixturevalue("postgres_admin_url")
        return pg.create_database(admin_url, f"lw_{uuid.uuid4().hex[:12]}")

    return make


@pytest.fixture(scope="session", params=ENGINES)
def server(request, tmp_path_factory, database_url_factory) -> Server:
    """A running server on each engine, shared by the tests of the session."""
    srv = start_server(tmp_path_factory.mktemp(f"data-{request.param}"), database_url_factory(request.param))
    yield srv
    srv.stop()


@pytest.fixture
def api(server):
    """An HTTP client authenticated as the first admin by API token."""
    with server.client(token=server.admin_token) as client:
        yield client


@pytest.fixture
def make_user(api):
    def make(role: str = "annotator", **fields) -> dict:
        password = fields.pop("password", "pass-" + uuid.uuid4().hex[:10])
        body = {"email": f"{role}-{uuid.uuid4().hex[:8]}@example.com", "password": password, "role": role, **fields}
        response = api.post("/api/users", json=body)
        assert response.status_code == 201, response.text
        return {**response.json(), "password": password}

    return make


@pytest.fixture
def worker(server):
    """A real Celery worker (embedded filesystem broker) for the server, started once and kept."""
    running = [proc for proc in server.workers if proc.poll() is None]
    return running[0] if running else server.start_worker()


@pytest.fixture
def make_project(api):
    def make(**fields) -> dict:
        body = {"title": "Project " + uuid.uuid4().hex[:6], "label_config": "<View></View>", **fields}
        response = api.post("/api/projects", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make


BROWSER_FIXTURES = {"page", "chromium"}


def pytest_collection_modifyitems(config, items):
    """A browser test runs on SQLite only: Chromium is shown and does the same page on either engine,
    and every page's server side is driven on both by the HTTP tests. Mark one `db` to run it on both.
    A test marked `one_engine` (what it checks happens outside the database) runs on SQLite only too."""
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("server") == "postgres"
        in_browser = bool(BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())))
        one_engine = (in_browser and not item.get_closest_marker("db")) or item.get_closest_marker("one_engine")
        (dropped if on_postgres and one_engine else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, show the end of the server's log: the traceback of a 500 is there."""
    outcome = yield
    report = outcome.get_result()
    srv = item.funcargs.get("server") if hasattr(item, "funcargs") else None
    if report.failed and srv is not None:
        report.sections.append(("server log (last 60 lines)", "\n".join(srv.log().splitlines()[-60:])))
        report.sections.append(("the worker's last jobs", _last_jobs(srv)))


def _last_jobs(srv: Server) -> str:
    """What the worker was busy with: a test that waited for it in vain shows what came first."""
    try:
        rows = srv.query("SELECT id, kind, project, state, created_at, started_at, finished_at, error "
                         "FROM lw_job ORDER BY id DESC LIMIT 25")
    except Exception as exc:  # the database may be what failed
        return f"(not read: {exc})"
    return "\n".join(" | ".join(str(row[k]) for k in row) for row in reversed(rows))




@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright (never a browser Playwright downloads)."""
    if not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, server):
    """A fresh browser tab (its own cookies) pointed at the server."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)  # CI machines are shared: give a busy one time, not a failure
    context = chromium.new_context(base_url=server.base_url, viewport={"width": 1100, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


SAMPLES = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def sample_config():
    return lambda name: (SAMPLES / "configs" / name).read_text()


@pytest.fixture
def ner_project(make_project, sample_config):
    return make_project(label_config=sample_config("ner.xml"))


@pytest.fixture
def ml_backend(tmp_path):
    """start(generation, mode="ok", **options) -> a real HTTP ML backend (tests/ml_backend.py) in its
    own process, speaking label_studio_ml as SDK 1.0.9 or 2.x does; stopped after the test."""
    from tests.helpers import MLBackendProcess

    started: list[MLBackendProcess] = []

    def start(generation: int, mode: str = "ok", **options) -> MLBackendProcess:
        backend = MLBackendProcess.start(tmp_path / f"ml-{len(started)}.log", generation, mode, **options)
        started.append(backend)
        return backend

    yield start
    for backend in started:
        backend.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A Redis broker: LABELWELL_TEST_REDIS_URL (CI starts Debian's redis-server), else a
    throwaway redis-server on a free port."""
    import shutil
    import subprocess

    from tests.pg import free_port

    url = os.environ.get("LABELWELL_TEST_REDIS_URL", "").strip()
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        missing("redis-server is not installed (apt-get install redis-server), nor LABELWELL_TEST_REDIS_URL set")
    port, folder = free_port(), tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    import socket
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        missing("redis-server did not start")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def legacy_sdk(server):
    """Label Studio's legacy SDK client (`label_studio_sdk.Client`, the 0.0.x API most existing
    scripts use; SDK 2.x still ships it), logged in by the first admin's token."""
    import label_studio_sdk

    return label_studio_sdk.Client(url=server.base_url, api_key=server.admin_token)


@pytest.fixture
def sdk(server):
    """Label Studio's current SDK client (`label_studio_sdk.client.LabelStudio`, 2.x)."""
    from label_studio_sdk.client import LabelStudio

    return LabelStudio(base_url=server.base_url, api_key=server.admin_token)


@pytest.fixture(scope="session")
def s3_endpoint():
    """The URL of a real S3-compatible server on loopback (moto's standalone server)."""
    from tests import s3server

    url = os.environ.get("LABELWELL_TEST_S3_URL", "").strip()
    if url:
        yield url
        return
    try:
        url, proc = s3server.start()
    except (RuntimeError, OSError) as exc:
        missing(f"moto_server could not start ({exc}); pip install 'moto[server]' or set LABELWELL_TEST_S3_URL")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def make_bucket(s3_endpoint):
    """make({key: bytes}) -> the name of a new bucket holding those objects, on the test S3 server."""
    from tests import s3server

    return lambda objects=None: s3server.new_bucket(s3_endpoint, objects)
