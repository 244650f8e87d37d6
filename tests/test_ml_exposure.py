"""A backend URL is any address the admin types, so the server must not become a way to read other
services' answers (only a label_studio_ml error's status and message are shown), and the project
owner's token goes only to a backend that answers /health as label_studio_ml does."""

from __future__ import annotations

import json
import threading
from contextlib import closing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers import browser

SECRET = "internal-secret-7f3a9c"


@contextmanager
def service(routes: dict[str, tuple[int, str, str]]):
    """A plain HTTP service on loopback: path -> (status, content type, body); records what it got."""
    seen: list[tuple[str, str, bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen.append((self.command, self.path, self.rfile.read(length) if length else b""))
            status, kind, body = routes.get(self.path.split("?")[0], (404, "text/plain", "not here"))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_an_internal_service_answer_is_never_shown(server, api, make_project):
    project = make_project()
    routes = {"/health": (500, "text/html", f"<h1>admin console</h1><p>{SECRET}</p>"),
              "/internal/health": (200, "text/plain", SECRET)}
    with service(routes) as (url, _):
        for target in (url, url + "/internal"):
            added = api.post("/api/ml", json={"project": project["id"], "url": target})
            assert added.status_code == 201, added.text
            body = added.json()
            assert SECRET not in added.text
            assert SECRET not in api.get(f"/api/ml/{body['id']}").text
            with closing(browser(server)) as web:
                assert SECRET not in web.get(f"/projects/{project['id']}/model").text
        first = api.get(f"/api/ml?project={project['id']}").json()[0]
        assert first["error_message"].startswith("/health: HTTP 500")


def test_a_label_studio_ml_error_message_is_still_shown(api, make_project):
    project = make_project()
    with service({"/health": (503, "application/json", json.dumps({"detail": "model is loading"}))}) as (url, _):
        added = api.post("/api/ml", json={"project": project["id"], "url": url}).json()
    assert added["error_message"] == "/health: HTTP 503: model is loading"


def test_the_owner_token_goes_only_to_a_label_studio_ml_backend(server, api, make_project):
    project = make_project()
    setup = (200, "application/json", json.dumps({"model_version": "v1"}))
    with service({"/health": (200, "application/json", json.dumps({"ok": True})), "/setup": setup}) as (url, seen):
        api.post("/api/ml", json={"project": project["id"], "url": url})
    sent = [json.loads(body) for method, path, body in seen if path == "/setup"]
    assert sent and all(s["access_token"] == "" for s in sent)
    sdk = json.dumps({"status": "UP", "model_class": "Model"})
    with service({"/health": (200, "application/json", sdk), "/setup": setup}) as (url, seen):
        api.post("/api/ml", json={"project": project["id"], "url": url})
    sent = [json.loads(body) for method, path, body in seen if path == "/setup"]
    assert sent and all(s["access_token"] == server.admin_token for s in sent)
