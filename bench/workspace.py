"""The labelling workspace under load, on a project of a million tasks: the queue, concurrent
annotators, draft saves and page loads.

An annotator's day is a loop of "give me the next task" and "here is my annotation", and in the
browser every change saves a draft and swaps in the re-rendered form. Those requests must stay close
to the floor, so each is timed against a Litestar hello-world round trip measured in the same run,
before and after (on a shared machine a ratio travels better than bare milliseconds), and against
Label Studio 1.23 on this machine (~80 ms per next task, ~115 ms per submitted annotation, 9-10
annotations/s whatever the number of clients). Per engine, on one project of --tasks tasks:

1. queue, one annotator: GET /api/projects/{id}/next then POST /api/tasks/{id}/annotations, --work tasks;
2. queue, --annotators at once (threads, one token each), --work tasks between them: p50/p95, tasks/s,
   and no task handed out twice;
3. draft saves: POST /projects/{id}/label/{task}/draft as htmx sends it after a label is applied,
   with 1, 2, ... --drafts spans, answered by the re-rendered form that htmx swaps in;
4. workspace page loads: a short new task, and the long task with its many-span draft restored.

    .venv/bin/python bench/workspace.py --engine both     # 1,000,000 tasks, 16 annotators
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import lxml.html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.http_roundtrip import start_hello  # noqa: E402
from bench.engines import on_engines  # noqa: E402
from tests.helpers import Server, browser, launch  # noqa: E402

CONFIG = """<View>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
  <Choices name="mood" toName="text"><Choice value="pos"/><Choice value="neg"/></Choices>
</View>"""
WORDS = "the of and to in is was for on that with as by at from ACME Paris naïve café 東京".split()
RESULT = [{"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
           "value": {"start": 0, "end": 3, "text": "Zoë", "labels": ["PER"]}},
          {"id": "c1", "from_name": "mood", "to_name": "text", "type": "choices", "value": {"choices": ["pos"]}}]
LABEL_STUDIO = {"next": 80.0, "submit": 115.0}  # ms, measured on this machine (see the docstring)
META = ("_csrf_token", "key", "lead_time", "revision", "prediction")


def texts(n: int, rng: random.Random) -> list[str]:
    """Short sentences, each starting with "Zoë" so that one result fits them all."""
    return ["Zoë " + " ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(n)]


def summary(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(client: httpx.Client, method: str, url: str, **kwargs) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = client.request(method, url, **kwargs)
    return response, (time.perf_counter() - start) * 1000


def floor(url: str, n: int) -> float:
    """Mean ms of the hello-world round trip, sequential keep-alive requests like the others."""
    with httpx.Client(base_url=url) as client:
        client.get("/")
        return statistics.fmean(timed(client, "GET", "/")[1] for _ in range(n))


def new_project(api: httpx.Client, title: str, members: list[dict]) -> int:
    response = api.post("/api/projects", json={"title": title, "label_config": CONFIG})
    assert response.status_code == 201, response.text[:300]
    project = response.json()["id"]
    for user in members:
        assert api.post(f"/api/projects/{project}/members", json={"user": user["id"]}).status_code in (200, 201)
    return project


def import_texts(api: httpx.Client, project: int, items: list[str] | None, n: int, folder: Path) -> float:
    """Import `items`, then generated short texts up to `n` tasks, as one streamed JSONL file; seconds."""
    rng = random.Random(5)
    path = folder / f"tasks-{project}.jsonl"
    with open(path, "w") as fh:
        for text in items or []:
            fh.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        for text in texts(n - len(items or []), rng):
            fh.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    start = time.perf_counter()
    with open(path, "rb") as fh:
        response = api.post(f"/api/projects/{project}/import?filename=tasks.jsonl", content=fh,
                            headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 201, response.text[:300]
    path.unlink()
    return time.perf_counter() - start


class Quota:
    """Tasks left to annotate in this phase, shared by the annotators' threads."""

    def __init__(self, n: int) -> None:
        self.left, self.lock = n, threading.Lock()

    def take(self) -> bool:
        with self.lock:
            self.left -= 1
            return self.left >= 0


def annotate_queue(client: httpx.Client, project: int, quota: Quota) -> tuple[list[float], list[float], list[int]]:
    """Take and annotate tasks while the quota lasts; (next ms, submit ms, task ids) of this annotator."""
    nexts, submits, done = [], [], []
    while quota.take():
        response, ms = timed(client, "GET", f"/api/projects/{project}/next")
        assert response.status_code == 200, response.text[:300]
        task_id = response.json()["id"]
        made, submit_ms = timed(client, "POST", f"/api/tasks/{task_id}/annotations",
                                json={"result": RESULT, "lead_time": 2.5})
        assert made.status_code == 201, made.text[:300]
        nexts.append(ms)
        submits.append(submit_ms)
        done.append(task_id)
    return nexts, submits, done


def span_text(n_spans: int, rng: random.Random) -> tuple[str, list[tuple[int, int]]]:
    """A long text and the offsets of every other word: room for n_spans entities."""
    words = [rng.choice(WORDS) for _ in range(2 * n_spans + 1)]
    offsets, at = [], 0
    for i, word in enumerate(words):
        if i % 2:
            offsets.append((at, at + len(word)))
        at += len(word) + 1
    return " ".join(words), offsets


def run(engine: str, database_url: str, args: argparse.Namespace, hello_url: str) -> None:
    rng = random.Random(3)
    before = floor(hello_url, 500)  # and again after: the floor drifts on a shared machine
    data_dir = Path(tempfile.mkdtemp(prefix=f"labelwell-bench-{engine}-"))
    server: Server = launch(data_dir, database_url, {"LABELWELL_USER_TOKEN": "bench", "LABELWELL_PASSWORD": "bench-pass",
                                                     "LABELWELL_USERNAME": "bench@example.com"})
    rows: list[tuple[str, float, float, float | None]] = []  # (name, p50 ms, p95 ms, Label Studio ms)
    try:
        api = server.client(token="bench", timeout=600)
        people = []
        for i in range(args.annotators):
            body = {"email": f"annotator{i}@example.com", "password": f"pass-{i}-bench", "role": "annotator"}
            response = api.post("/api/users", json=body)
            assert response.status_code == 201, response.text[:300]
            with closing(browser(server, body["email"], body["password"])) as web:
                token = web.get("/api/current-user/token").json()["token"]
            people.append({**response.json(), **body, "token": token})
        clients = [server.client(token=p["token"], timeout=120) for p in people]
        n = args.tasks
        project = new_project(api, "Workspace bench", people)
        took = import_texts(api, project, None, n, data_dir)
        print(f"[{engine}] {n:,} tasks imported in {took:.1f} s")

        # 1. one annotator works through the queue; 2. then all of them at once
        for who in (clients[:1], clients):
            before_state = api.get(f"/api/projects/{project}").json()
            quota = Quota(args.work)
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(who)) as pool:
                work = list(pool.map(lambda c: annotate_queue(c, project, quota), who))
            took = time.perf_counter() - start
            handed = [t for _, _, ids in work for t in ids]
            state = api.get(f"/api/projects/{project}").json()
            once = (len(handed) == len(set(handed)) == args.work and state["total_annotations_number"]
                    - before_state["total_annotations_number"] == args.work)
            label = f"{len(who)} annotator{'s at once' if len(who) > 1 else ''}"
            rows.append((f"next, {label}", *summary([ms for m, _, _ in work for ms in m]), LABEL_STUDIO["next"]))
            rows.append((f"submit, {label}", *summary([ms for _, m, _ in work for ms in m]), LABEL_STUDIO["submit"]))
            print(f"[{engine}] {label}: {args.work:,} tasks in {took:.1f} s, {args.work / took:.0f} tasks/s "
                  f"(Label Studio: 9-10); no task twice, each annotated once: {'yes' if once else 'NO'}")
        for client in clients:
            client.close()

        # 3. draft saves in the browser's workspace, on a long text, with a growing number of spans
        # (in a project of its own, whose first task is that text)
        long_text, offsets = span_text(args.drafts, rng)
        project = new_project(api, "Workspace drafts", people[:1])
        import_texts(api, project, [long_text], 10, data_dir)
        with closing(browser(server, people[0]["email"], people[0]["password"])) as web:
            page = web.get(f"/projects/{project}/label", follow_redirects=True)
            assert page.status_code == 200 and "/label/" in str(page.url), page.status_code
            doc = lxml.html.fromstring(page.text)
            task_id = int(doc.cssselect(".lw-workspace")[0].get("data-task"))
            fields = {el.get("name"): el.get("value") or "" for el in doc.cssselect("#lw-work input[type=hidden]")
                      if el.get("name") in META}
            base = f"/projects/{project}/label/{task_id}"
            regions: list[str] = []
            samples = []
            for i, (begin, end) in enumerate(offsets, 1):
                regions.append(json.dumps({"id": f"r{i}", "from_name": "label", "to_name": "text", "type": "labels",
                                           "value": {"start": begin, "end": end, "labels": ["PER" if i % 2 else "ORG"]}}))
                body = {**fields, "revision": str(i), "lead_time": str(i), "region": regions}
                saved, ms = timed(web, "POST", f"{base}/draft", data=body, headers={"HX-Request": "true"})
                assert saved.status_code == 200, saved.text[:300]
                samples.append(ms)
            assert len(lxml.html.fromstring(saved.text).cssselect("mark.lw-span")) == len(offsets)
            rows.append((f"draft save + swap, 1-{len(offsets)} spans", *summary(samples), None))
            rows.append((f"draft save + swap, {len(offsets) * 9 // 10}+ spans",
                         *summary(samples[len(samples) * 9 // 10:]), None))

            # 4. page loads: the long task restores its draft; then a short, new task (claiming it)
            short = api.get(f"/api/tasks?project={project}&page_size=2").json()["tasks"][1]["id"]  # nobody holds it
            for name, url in ((f"workspace page, draft of {len(offsets)} spans", base),
                              ("workspace page, a new short task", f"/projects/{project}/label/{short}")):
                web.get(url)  # warm up
                loads = []
                for _ in range(args.requests):
                    response, ms = timed(web, "GET", url)
                    assert response.status_code == 200, (url, response.status_code)
                    loads.append(ms)
                rows.append((name, *summary(loads), None))
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)  # a benchmark leaves nothing behind
    after = floor(hello_url, 500)
    hello = (before + after) / 2
    print(f"[{engine}] keep-alive requests: p50 and p95; the p50 over the hello-world mean; Label Studio over our p50")
    print(f"[{engine}] {'hello-world floor':40s} {hello:7.2f} ms {'':12s}   1.0x"
          f"   (before {before:.2f}, after {after:.2f})")
    for name, p50, p95, theirs in rows:
        versus = f"   Label Studio {theirs / p50:5.1f}x slower" if theirs else ""
        print(f"[{engine}] {name:40s} {p50:7.2f} ms  p95 {p95:7.2f} {p50 / hello:6.1f}x{versus}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1_000_000, help="tasks in the project")
    parser.add_argument("--work", type=int, default=2000, help="tasks annotated in each queue phase")
    parser.add_argument("--annotators", type=int, default=16, help="annotators at once in the second phase")
    parser.add_argument("--drafts", type=int, default=300, help="draft saves, the last one with this many spans")
    parser.add_argument("--requests", type=int, default=100, help="page loads of each kind")
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    hello, hello_url = start_hello()
    folder = Path(tempfile.mkdtemp(prefix="labelwell-bench-"))
    try:
        on_engines(args.engine, folder, lambda engine, url: run(engine, url, args, hello_url))
    finally:
        hello.terminate()
        hello.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
