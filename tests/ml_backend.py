"""A real HTTP ML backend speaking the label_studio_ml protocol, for tests and benchmarks.

It imitates, on the wire, both SDK generations described in /work/shared/reference/ml-backend.md:
generation 1 is label-studio-ml 1.0.9 (PyPI), generation 2 the 2.0.x line. Quirks are kept on
purpose (integer model versions, 500 before /setup, Basic auth on /health, ...) because Labelwell
must cope with unchanged real backends. Predictions are deterministic so tests can compute them.

    python -m tests.ml_backend --port 9090 --generation 1 [--mode ok] [--log requests.jsonl]
"""

from __future__ import annotations

import argparse
import base64
import functools
import http
import json
import os
import re
import signal
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple

from lxml import etree

MODES = ("ok", "slow", "garbage", "mismatch", "one-result", "flaky", "wrong-count", "instant", "gated", "poison")
# The SDKs disagree: 1.0.9 trains on PROJECT_UPDATED but not START_TRAINING, 2.x the other way round.
TRAIN_EVENTS = {
    1: {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_DELETED", "PROJECT_UPDATED"},
    2: {"ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_DELETED", "START_TRAINING"},
}
INITIAL_VERSION = {1: "INITIAL", 2: "0.0.1"}
SPAN = re.compile(r"[A-Z][a-z]+(?: [A-Z][a-z]+)*")
# JPEG start-of-frame markers carry the size; C4, C8 and CC share the range but are not frames.
JPEG_SOF = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class Reply(NamedTuple):
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple = ()


class Control(NamedTuple):
    tag: str  # Labels, Choices or RectangleLabels
    from_name: str
    to_name: str
    key: str  # task data key of the object tag, "$text" -> "text"
    value: str  # first Label/Choice value
    object_tag: str = ""  # the tag it labels: Text, Audio, ...
    transcript: str = ""  # the name of a perRegion <TextArea> on the same object, if any


def json_reply(status: int, obj) -> Reply:
    return Reply(status, json.dumps(obj).encode())


def html_reply(status: int) -> Reply:
    """Flask's plain error page: what Labelwell gets when a route is missing or not wrapped."""
    phrase = http.HTTPStatus(status).phrase
    return Reply(status, f"<!doctype html>\n<title>{status} {phrase}</title>\n<h1>{phrase}</h1>\n".encode(),
                 "text/html; charset=utf-8")


class Backend:
    """Everything a request may read or change; request threads share one instance."""

    def __init__(self, generation: int, mode: str = "ok", basic_auth: str | None = None, log: str | None = None,
                 delay: float = 5.0, model_dir: str | None = None,
                 label_studio_url: str | None = None, api_key: str | None = None, gate: str | None = None):
        if generation not in (1, 2) or mode not in MODES:
            raise ValueError(f"bad generation {generation!r} or mode {mode!r}")
        self.generation, self.mode, self.delay, self.model_dir = generation, mode, delay, model_dir
        self.gate = gate  # gated mode: /predict answers once this file exists (the test decides when)
        self.basic_auth = basic_auth if generation == 2 else None  # 1.0.9 has no auth at all
        self.log_file = open(log, "a", encoding="utf-8") if log and mode != "instant" else None  # noqa: SIM115
        # Only 2.x reads these (from env); 1.0.9 uses /setup's hostname and access_token instead.
        self.ls_url = label_studio_url or os.environ.get("LABEL_STUDIO_URL") or os.environ.get("LABEL_STUDIO_HOST")
        self.ls_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY") or os.environ.get("LABEL_STUDIO_ACCESS_TOKEN")
        self.lock, self.log_lock = threading.Lock(), threading.Lock()
        self.predict_calls = 0
        self.setup: dict | None = None  # gen 1: the one process-wide model, made by /setup
        self.loaded_version: str | int = "INITIAL"  # gen 1: version of that model
        self.jobs: list[int] = []  # gen 1: finished training job ids, oldest first
        self.last_job = 0
        self.versions: dict[str, str] = {}  # gen 2: project id -> semver (2.x keeps it in sqlite)
        self.extra_params: dict[str, object] = {}  # gen 2: project id -> /setup extra_params

    def new_job(self, trains: bool) -> int:
        # 1.0.9 uses the unix time as job id; two jobs in one second must still be distinct and ordered.
        # It trains in a forked job; finishing inline keeps tests free of races.
        with self.lock:
            self.last_job = max(int(time.time()), self.last_job + 1)
            if trains:
                self.jobs.append(self.last_job)
            return self.last_job

    def auth_ok(self, header: str | None) -> bool:
        if not self.basic_auth:
            return True
        scheme, _, encoded = (header or "").partition(" ")
        try:
            return scheme.lower() == "basic" and base64.b64decode(encoded).decode() == self.basic_auth
        except ValueError:
            return False

    def log(self, method: str, path: str, body, auth: str | None, status: int) -> None:
        if self.log_file is None:
            return
        line = json.dumps({"method": method, "path": path, "body": body, "auth": auth, "status": status})
        with self.log_lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()


# ---- the model -----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=128)
def first_control(config: str) -> Control | None:
    """The first Labels/Choices/RectangleLabels tag; cached because every request re-sends the config."""
    # A parser per call: lxml parsers must not be shared between threads.
    root = etree.fromstring(config.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    for ctrl in root.iter("Labels", "Choices", "RectangleLabels"):
        to_name = ctrl.get("toName", "").split(",")[0]
        obj = next((el for el in root.iter(tag=etree.Element) if el.get("name") == to_name and el is not ctrl), None)
        label = next(ctrl.iterchildren("Label", "Choice"), None)
        key = (obj.get("value", "") if obj is not None else "").lstrip("$")
        transcript = next((t.get("name", "") for t in root.iter("TextArea") if t.get("toName") == to_name
                           and t.get("perRegion", "").lower() == "true"), "")
        return Control(ctrl.tag, ctrl.get("name", ""), to_name, key, label.get("value", "") if label is not None else "",
                       str(obj.tag) if obj is not None else "", transcript)
    return None


def text_regions(c: Control, task: dict, tid: int) -> list[dict]:
    text = str(task["data"].get(c.key, ""))
    return [{"id": f"t{tid}_r{i}", "from_name": c.from_name, "to_name": c.to_name, "type": "labels",
             "value": {"start": m.start(), "end": m.end(), "text": m.group(), "labels": [c.value]}, "score": 0.9}
            for i, m in enumerate(SPAN.finditer(text))]


def loud_stretches(wav: bytes, window: float = 0.01) -> tuple[list[tuple[float, float]], float]:
    """Where a 16-bit PCM WAV is not silent, in seconds (to the 10 ms window), and its length: what a
    speech detector would say of a tone with silences."""
    import io
    import wave

    with wave.open(io.BytesIO(wav)) as w:
        rate, width, channels, frames = w.getframerate(), w.getsampwidth(), w.getnchannels(), w.readframes(w.getnframes())
    if width != 2:
        raise ValueError("the ASR stand-in reads 16-bit WAV only")
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)[::channels]
    step = max(1, int(rate * window))
    stretches, start = [], None
    for i in range(0, len(samples), step):
        loud = max((abs(x) for x in samples[i:i + step]), default=0) > 1000
        if loud and start is None:
            start = i / rate
        elif not loud and start is not None:
            stretches.append((start, i / rate))
            start = None
    if start is not None:
        stretches.append((start, len(samples) / rate))
    return stretches, len(samples) / rate


def speech_regions(b: Backend, c: Control, task: dict, tid: int, host: str | None, token: str | None) -> list[dict]:
    """ASR pre-labelling as a label_studio_ml speech model writes it: a segment per loud stretch of
    the audio, and its transcript ("segment 1", ...) when the config has a perRegion TextArea."""
    stretches, length = loud_stretches(fetch(*file_url(str(task["data"].get(c.key, "")), tid, host, b.generation), token))
    out = []
    for i, (start, end) in enumerate(stretches):
        where = {"start": round(start, 3), "end": round(end, 3), "channel": 0}
        common = {"id": f"t{tid}_s{i}", "to_name": c.to_name, "original_length": length, "score": 0.8}
        out.append({**common, "from_name": c.from_name, "type": "labels", "value": {**where, "labels": [c.value]}})
        if c.transcript:
            out.append({**common, "from_name": c.transcript, "type": "textarea", "value": {**where, "text": [f"segment {i + 1}"]}})
    return out


def file_url(url: str, tid: int, host: str | None, generation: int) -> tuple[str, bool]:
    """Where label_studio_tools' get_local_path downloads url from, and whether it sends the token."""
    if not host:
        raise ValueError(f"cannot fetch {url!r}: no Label Studio host known")
    host = host.rstrip("/")
    if url.startswith(("upload/", "/upload/")):
        url = "/data/upload/" + url.split("upload/", 1)[1]
    if url.startswith("/"):
        return host + url, True
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("http", "https"):
        return url, parts.netloc == urllib.parse.urlsplit(host).netloc
    # Cloud storage URI: the server must presign it. 2.x base64-encodes the URI, 1.0.9 sends it raw.
    uri = base64.urlsafe_b64encode(url.encode()).decode() if generation == 2 else url
    return f"{host}/tasks/{tid}/presign/?fileuri={uri}", True


def fetch(url: str, send_token: bool, token: str | None) -> bytes:
    req = urllib.request.Request(url)
    if send_token and token:
        # Unredirected, so a presign redirect to S3 does not carry our token along (as with requests).
        req.add_unredirected_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.read()


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG IHDR or JPEG SOF header, so no imaging library is needed."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", data[16:24])
    i = 2 if data[:2] == b"\xff\xd8" else len(data)
    while i + 9 <= len(data):
        marker = data[i + 1]
        if data[i] != 0xFF or marker == 0xFF:  # padding between segments
            i += 1
        elif marker in JPEG_SOF:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            i += 2
        else:
            i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    raise ValueError("image is neither a PNG nor a JPEG with a readable size")


def predict_task(b: Backend, task: dict, config: str, version, host: str | None, token: str | None) -> dict:
    c = first_control(config)
    tid = int(task.get("id") or 0)
    if c is None:
        regions = []
    elif c.tag == "Labels" and c.object_tag in ("Audio", "AudioPlus"):
        regions = speech_regions(b, c, task, tid, host, token)
    elif c.tag == "Labels":
        regions = text_regions(c, task, tid)
    elif c.tag == "Choices":
        regions = [{"from_name": c.from_name, "to_name": c.to_name, "type": "choices", "value": {"choices": [c.value]}}]
    else:
        width, height = image_size(fetch(*file_url(str(task["data"].get(c.key, "")), tid, host, b.generation), token))
        regions = [{"from_name": c.from_name, "to_name": c.to_name, "type": "rectanglelabels",
                    "value": {"x": 10, "y": 20, "width": 30, "height": 40, "rotation": 0, "rectanglelabels": [c.value]},
                    "original_width": width, "original_height": height, "image_rotation": 0}]
    # A varying score gives uncertainty sampling something to sort; a trained model is visibly different.
    trained = version != INITIAL_VERSION[b.generation]
    return {"result": regions, "score": 0.95 if trained else round(0.5 + tid % 5 / 10, 2), "model_version": version}


# ---- /predict and the failure modes ----------------------------------------------------------------

def mode_before(b: Backend, body: dict | None = None) -> Reply | None:
    if b.mode == "flaky":
        with b.lock:
            b.predict_calls += 1
            first = b.predict_calls == 1
        if first:
            return json_reply(503, {"status": 503, "detail": "flaky mode: the first /predict fails"})
    if b.mode == "slow":
        time.sleep(b.delay)
    if b.mode == "gated":
        deadline = time.monotonic() + 60
        while b.gate and not os.path.exists(b.gate) and time.monotonic() < deadline:
            time.sleep(0.05)
    if b.mode == "garbage":
        return Reply(200, b"not json at all <html>", "text/html; charset=utf-8")
    if b.mode == "poison" and "POISON" in json.dumps((body or {}).get("tasks")):
        # a model that crashes on one input fails the whole request that carries it
        raise ValueError("poison mode: the model crashed on a task")
    return None


def mode_after(b: Backend, results: list[dict]) -> list[dict]:
    if b.mode == "mismatch":
        for r in results:
            r["result"] = r["result"] or [{"to_name": "text", "type": "choices", "value": {"choices": ["x"]}}]
            for region in r["result"]:
                region["from_name"] = "no_such_control"
    if b.mode == "one-result" and len(results) > 1:
        return results[:1]
    if b.mode == "wrong-count":
        return results[:-1]
    return results


def predict(b: Backend, body) -> Reply:
    early = mode_before(b, body)
    if early:
        return early
    if b.generation == 1:
        with b.lock:
            setup, version = b.setup, b.loaded_version
        if setup is None:
            raise Exception(  # noqa: TRY002 - the 500 detail must read "Exception: ..." as observed
                "Model is not loaded for LabelStudioMLManager: run setup() before using predict()")
        # 1.0.9 predicts with the model built from /setup's schema, not the request's label_config.
        config, host, token = setup.get("schema"), setup.get("hostname"), setup.get("access_token")
    else:
        # 2.x builds a fresh model per request from the request itself; state lives in its cache.
        project = body.get("project")
        with b.lock:
            version = b.versions.get(project.split(".", 1)[0] if project else None, "0.0.1")
        config, host, token = body.get("label_config"), b.ls_url, b.ls_key
    results = mode_after(b, [predict_task(b, t, config, version, host, token) for t in body.get("tasks")])
    return json_reply(200, {"model_version": version, "results": results} if b.generation == 1 else {"results": results})


# ---- generation 1 (label-studio-ml 1.0.9) ----------------------------------------------------------

def g1_setup(b: Backend, body) -> Reply:
    # One process-wide model; AUTO_UPDATE makes it load the newest finished training job, unless
    # the request names a model_version: then 1.0.9's fetch() loads exactly that job's result,
    # and a version with no job (such as "INITIAL") gives the untrained model
    with b.lock:
        b.setup = {k: body.get(k) for k in ("project", "schema", "hostname", "access_token")}
        asked = body.get("model_version")
        if asked:
            b.loaded_version = next((job for job in b.jobs if str(job) == str(asked)), "INITIAL")
        else:
            b.loaded_version = b.jobs[-1] if b.jobs else "INITIAL"
        return json_reply(200, {"model_version": b.loaded_version})


def g1_webhook(b: Backend, body) -> Reply:
    data = dict(body)
    event = data.pop("action")
    # Every event spawns a job, but only training events leave a result that /setup will load.
    return json_reply(201, {"job_id": str(b.new_job(trains=event in TRAIN_EVENTS[1]))})


def g1_train(b: Backend, body) -> Reply:
    if not body.get("annotations"):
        return json_reply(400, {"status": "error", "detail": "No annotations provided"})
    return json_reply(201, {"job": b.new_job(trains=True)})


def g1_versions(b: Backend, body) -> Reply:
    with b.lock:
        versions = [str(job) for job in b.jobs]
    return json_reply(200, {"versions": versions, "model_dir": b.model_dir, "v2": False})


# ---- generation 2 (label-studio-ml 2.0.x) ----------------------------------------------------------

def g2_setup(b: Backend, body) -> Reply:
    project_id = body.get("project").split(".", 1)[0]
    with b.lock:
        b.extra_params[project_id] = body.get("extra_params")
        version = b.versions.get(project_id, "0.0.1")
    return json_reply(200, {"model_version": version})


def g2_webhook(b: Backend, body) -> Reply:
    data = dict(body)
    event = data.pop("action")
    if event not in TRAIN_EVENTS[2]:
        return json_reply(200, {"status": "Unknown event"})
    project_id, _ = str(data["project"]["id"]), data["project"]["label_config"]  # KeyError -> HTML 500
    with b.lock:  # "fit" synchronously: bump the patch version, as bump_model_version would
        major, minor, patch = b.versions.get(project_id, "0.0.1").split(".")
        b.versions[project_id] = version = f"{major}.{minor}.{int(patch) + 1}"
    return json_reply(201, {"result": {"model_version": version, "event": event}, "status": "ok"})


G1_HEALTH = {"GET": lambda b, body: json_reply(200, {"status": "UP", "model_dir": b.model_dir, "v2": False})}
G2_HEALTH = {"GET": lambda b, body: json_reply(200, {"status": "UP", "model_class": "TestModel"})}
METRICS = {"GET": lambda b, body: json_reply(200, {})}
# Path -> method -> handler(backend, parsed body). Anything else is Flask's 404, or 405 for a wrong method.
ROUTES = {
    1: {"/": G1_HEALTH, "/health": G1_HEALTH, "/setup": {"POST": g1_setup}, "/predict": {"POST": predict},
        "/webhook": {"POST": g1_webhook}, "/train": {"POST": g1_train}, "/metrics": METRICS,
        "/versions": {"POST": g1_versions},  # Label Studio sends GET, and so gets 405
        "/is_training": {"GET": lambda b, body: json_reply(200, {"is_training": False})}},
    2: {"/": G2_HEALTH, "/health": G2_HEALTH, "/setup": {"POST": g2_setup}, "/predict": {"POST": predict},
        "/webhook": {"POST": g2_webhook}, "/metrics": METRICS},
}


# ---- HTTP plumbing --------------------------------------------------------------------------------

def dispatch(b: Backend, method: str, path: str, body, body_ok: bool, auth: str | None) -> Reply:
    if not b.auth_ok(auth):  # 2.x checks in before_request, so even unknown routes get 401
        return Reply(401, b"Could not verify your access level for that URL.\nYou have to login with proper credentials",
                     "text/html; charset=utf-8", (("WWW-Authenticate", 'Basic realm="Login required"'),))
    route = path.split("?", 1)[0]
    methods = ROUTES[b.generation].get(route)
    if methods is None:
        return html_reply(404)
    if method not in methods:
        return html_reply(405)
    if route == "/webhook":  # the one route the SDKs leave unwrapped: errors are Flask HTML pages
        try:
            return methods[method](b, body) if body_ok else html_reply(400)
        except Exception:  # noqa: BLE001 - any crash is a 500 page, as in Flask
            return html_reply(500)
    try:
        if not body_ok:
            raise ValueError("Failed to decode JSON object")
        return methods[method](b, body)
    except Exception as e:  # noqa: BLE001 - this is label_studio_ml's exception_handler
        return json_reply(500, {"status": 500, "detail": f"{type(e).__name__}: {e}",
                                "request": body if isinstance(body, dict) else {},
                                "result": {"traceback": traceback.format_exc()}})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the benchmark measures Labelwell, not TCP handshakes

    def handle_any(self) -> None:
        b: Backend = self.server.backend
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body, body_ok = (json.loads(raw) if raw else None), True
        except ValueError:
            body, body_ok = None, False
        auth = self.headers.get("Authorization")
        reply = dispatch(b, self.command, self.path, body, body_ok, auth)
        # Logged before answering, so a test that has its response can already read the line.
        b.log(self.command, self.path, body, auth, reply.status)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    def log_message(self, format, *args) -> None:  # the --log file is the record
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that gave up on a slow /predict must not block shutdown
    request_queue_size = 128  # the benchmark opens many connections at once


def make_server(backend: Backend, host: str, port: int) -> Server:
    server = Server((host, port), Handler)
    server.backend = backend
    return server


def serve_in_thread(generation: int, mode: str = "ok", **opts):
    """Start a backend on a free port in a daemon thread; returns (base_url, stop)."""
    host = opts.pop("host", "127.0.0.1")
    server = make_server(Backend(generation, mode, **opts), host, 0)
    thread = threading.Thread(target=server.serve_forever, name="ml-backend", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return f"http://{host}:{server.server_address[1]}", stop


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.ml_backend", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="0 picks a free port (see the ready line)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--generation", type=int, choices=(1, 2), required=True)
    parser.add_argument("--mode", choices=MODES, default="ok")
    parser.add_argument("--basic-auth", metavar="USER:PASS", help="generation 2 only, like BASIC_AUTH_USER/PASS")
    parser.add_argument("--log", metavar="FILE", help="append one JSON line per request")
    parser.add_argument("--delay", type=float, default=5.0, help="seconds /predict sleeps in slow mode")
    parser.add_argument("--model-dir", metavar="DIR", help="reported by generation 1 /health")
    parser.add_argument("--gate", metavar="FILE", help="gated mode: /predict waits until FILE exists (60 s at most)")
    args = parser.parse_args(argv)
    backend = Backend(args.generation, args.mode, basic_auth=args.basic_auth, log=args.log,
                      delay=args.delay, model_dir=args.model_dir, gate=args.gate)
    server = make_server(backend, args.host, args.port)
    # SystemExit unwinds serve_forever in this thread; shutdown() from here would deadlock.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"ready http://{args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
