"""Starting real servers and workers, and talking to them like a browser does."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import lxml.html

from tests.pg import free_port, run_coroutine

CHROMIUM = "/usr/bin/chromium"  # Debian's package: no tool may download a browser of its own

ROOT = Path(__file__).resolve().parent.parent
LABELWELL = [sys.executable, "-m", "app.cli"]


def service_env(data_dir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABELWELL_", "DATABASE_URL", "CELERY_"))}
    env.update(LABELWELL_DATA_DIR=str(data_dir), DATABASE_URL=database_url, **extra)
    return env


@dataclass
class Server:
    base_url: str
    data_dir: Path
    database_url: str
    env: dict[str, str]
    admin_email: str = ""
    admin_password: str = ""
    admin_token: str = ""
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def engine(self) -> str:
        return "postgres" if self.database_url.startswith("postgres") else "sqlite"

    def client(self, token: str | None = None, **kwargs) -> httpx.Client:
        headers = {"Authorization": f"Token {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, **{"timeout": 30, **kwargs})

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""

    def query(self, sql: str, *args) -> list[dict]:
        """Use the server's database directly: for checks no page or API should reveal, and for
        rows no API makes yet. Parameters are $1, $2, … on both engines."""
        if self.engine == "sqlite":
            with sqlite3.connect(self.database_url.removeprefix("sqlite:///"), timeout=30) as conn:
                conn.row_factory = sqlite3.Row
                return [dict(r) for r in conn.execute(re.sub(r"\$\d+", "?", sql), args)]

        async def run() -> list[dict]:
            import asyncpg

            conn = await asyncpg.connect(self.database_url)
            try:
                return [dict(r) for r in await conn.fetch(sql, *args)]
            finally:
                await conn.close()

        return run_coroutine(run)

    def start_worker(self) -> subprocess.Popen:
        log = open(self.data_dir / f"worker-{len(self.workers)}.log", "ab")
        proc = subprocess.Popen([*LABELWELL, "worker", "--concurrency", "1"], env=self.env, cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.workers.append(proc)
        return proc

    def stop(self) -> None:
        for proc in [*self.workers, self.process]:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.workers.clear()


def launch(data_dir: Path, database_url: str, env_extra: dict[str, str] | None = None,
           args: tuple[str, ...] = ("--no-worker",), cwd: Path = ROOT, port: int | None = None) -> Server:
    """Start `labelwell serve` and wait until /health answers; the caller stops it. The same
    data folder and port again is a restart."""
    port = port or free_port()
    # the port in the environment too: a worker started later tells ML backends where we are
    env = service_env(data_dir, database_url, LABELWELL_PORT=str(port), **(env_extra or {}))
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*LABELWELL, "serve", "--port", str(port), "--log-level", "warning", *args],
                                env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    srv = Server(f"http://127.0.0.1:{port}", data_dir, database_url, env, process=proc, log_path=log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"labelwell serve exited with {proc.returncode}:\n{srv.log()}")
        try:
            if httpx.get(srv.base_url + "/health", timeout=2).status_code == 200:
                return srv
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    srv.stop()
    raise RuntimeError(f"labelwell serve did not answer within 60 s:\n{srv.log()}")


def start_server(data_dir: Path, database_url: str, **extra: str) -> Server:
    email, password, token = "admin@example.com", "admin-" + uuid.uuid4().hex[:8], uuid.uuid4().hex
    # local files serving on, from a folder tests may fill (Label Studio's local storage path)
    srv = launch(data_dir, database_url, {"LABELWELL_USERNAME": email, "LABELWELL_PASSWORD": password,
                                          "LABELWELL_USER_TOKEN": token,
                                          "LABELWELL_LOCAL_FILES_ROOT": str(data_dir / "local-files"),
                                          # the test S3 server listens on loopback
                                          "LABELWELL_STORAGE_ALLOW_PRIVATE": "true", **extra})
    srv.admin_email, srv.admin_password, srv.admin_token = email, password, token
    return srv


def csrf_from(html: str) -> str:
    tokens = lxml.html.fromstring(html).xpath("//input[@name='_csrf_token']/@value")
    assert tokens, "the page has no form with a CSRF token"
    return tokens[0]


def submit(client: httpx.Client, page: str, action: str, data: dict, **kwargs) -> httpx.Response:
    """Open `page`, then post its form to `action` with the CSRF token the page carries."""
    response = client.get(page)
    assert response.status_code == 200, f"GET {page}: {response.status_code}"
    return client.post(action, data={"_csrf_token": csrf_from(response.text), **data}, **kwargs)


def browser(server: Server, email: str | None = None, password: str | None = None) -> httpx.Client:
    """A cookie-keeping client, logged in through the login form like a person."""
    client = server.client()
    response = submit(client, "/login", "/login",
                      {"email": email or server.admin_email, "password": password or server.admin_password})
    assert response.status_code == 302, f"login failed: {response.status_code} {response.text[:300]}"
    return client


def run_bench(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """A benchmark's smoke run (small sizes), with its own temp folder, which it must leave empty.
    The folder is in the system's temp folder, not pytest's (`tmp_path` is unused): PostgreSQL's
    user must reach the throwaway cluster a benchmark makes there."""
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="lw-bench-check-"))
    scratch.chmod(0o755)
    try:
        out = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, "TMPDIR": str(scratch)})
        assert out.returncode == 0, out.stderr
        left = sorted(p.name for p in scratch.iterdir())
        assert not left, f"{args[0]} left {left} in the temp folder"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return out


def wait_job(api: httpx.Client, job_id: int, timeout: float = 60) -> dict:
    """Poll a background job until it is done or failed."""
    import pytest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    pytest.fail(f"job {job_id} still {job['state']} after {timeout} s")


def html(response: httpx.Response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.text)


def text_of(response: httpx.Response, selector: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in html(response).cssselect(selector)]


@dataclass
class MLBackendProcess:
    """tests/ml_backend.py running in its own process; `requests()` reads what it was sent."""

    url: str
    port: int
    log_path: Path
    process: subprocess.Popen
    args: list[str]

    @classmethod
    def start(cls, log_path: Path, generation: int, mode: str = "ok", port: int | None = None,
              basic_auth: str | None = None, delay: float | None = None, gate: Path | None = None,
              env: dict | None = None) -> MLBackendProcess:
        args = ["--generation", str(generation), "--mode", mode, "--log", str(log_path),
                "--model-dir", str(log_path.parent / "model")]
        if basic_auth:
            args += ["--basic-auth", basic_auth]
        if delay is not None:
            args += ["--delay", str(delay)]
        if gate is not None:
            args += ["--gate", str(gate)]
        port = port or free_port()
        proc = subprocess.Popen([sys.executable, "-m", "tests.ml_backend", "--port", str(port), *args], cwd=ROOT,
                                env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        import select

        ready, _, _ = select.select([proc.stdout], [], [], 30)  # a backend that never starts fails, not hangs
        line = proc.stdout.readline() if ready else "no ready line within 30 s"
        if not line.startswith("ready"):
            proc.kill()
            raise RuntimeError(f"the ML backend did not start: {line}{proc.stdout.read()}")
        return cls(line.split()[1], port, log_path, proc, args)

    def requests(self, path: str | None = None) -> list[dict]:
        if not self.log_path.exists():
            return []
        found = [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]
        return [r for r in found if path is None or r["path"].split("?")[0] == path]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


# what every interactive element of a page must have (WCAG 2.1: 4.1.2 name, role, value; and no
# control inside another, which keyboard and screen-reader users cannot reach apart)
ACCESSIBILITY = """root => {
  const interactive = 'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"]), audio[controls], video[controls]';
  const problems = [];
  const nameOf = (el) => (el.getAttribute('aria-label') || '').trim()
    || [...(el.getAttribute('aria-labelledby') || '').split(/\\s+/)].map((id) => id && document.getElementById(id))
         .filter(Boolean).map((l) => l.textContent.trim()).join(' ')
    || (el.labels ? [...el.labels].map((l) => l.textContent.trim()).join(' ') : '')
    || (el.getAttribute('title') || '').trim()
    || (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) ? '' : el.textContent.trim());
  for (const el of (root || document).querySelectorAll(interactive)) {
    if (el.closest('[hidden], [inert]')) continue;
    const what = el.outerHTML.slice(0, 120);
    if (!nameOf(el)) problems.push('no accessible name: ' + what);
    const outer = el.parentElement && el.parentElement.closest(interactive);
    if (outer && !(outer.tagName === 'LABEL')) problems.push('inside another control: ' + what);
  }
  return problems;
}"""


def accessibility_problems(page, selector: str | None = None) -> list[str]:
    """Interactive elements (of the page, or inside `selector`) without a name, or inside another."""
    root = page.locator(selector).element_handle() if selector else None
    return page.evaluate(ACCESSIBILITY, root)


@contextmanager
def chromium_page(server: Server, email: str, password: str, viewport: dict | None = None):
    """A page of Debian's headless Chromium logged in to `server` (for benchmarks and scripts; the
    tests' own pages come from conftest's fixtures)."""
    import shutil
    import tempfile

    from playwright.sync_api import sync_playwright

    # a temp folder of its own: Chromium removes its scratch files a moment after it exits, and a
    # benchmark must leave the system's temp folder as it found it
    scratch = tempfile.mkdtemp(prefix="lw-chromium-")
    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
                                   env={**os.environ, "TMPDIR": scratch})
        try:
            page = chrome.new_context(base_url=server.base_url, viewport=viewport or {"width": 1280, "height": 900}).new_page()
            page.goto("/login")
            page.fill("#email", email)
            page.fill("#password", password)
            page.press("#password", "Enter")
            page.wait_for_url(lambda url: "/login" not in url)
            yield page
        finally:
            chrome.close()
            shutil.rmtree(scratch, ignore_errors=True)
