"""The labelling workspace under load: the queue, concurrent annotators, draft saves and page loads.

An annotator's day is a loop of "give me the next task" and "here is my annotation", and in the
browser every change saves a draft and re-renders the form. Those are the requests that must stay
close to the floor, so each is timed here against a Litestar hello-world round trip measured in the
same run, before and after (on a shared machine a ratio travels better than bare milliseconds). Per engine:

1. queue, one annotator: GET /api/projects/{id}/next then POST /api/tasks/{id}/annotations, N tasks;
2. queue, 8 annotators at once (threads, one token each): tasks/s, and every task annotated exactly once;
3. draft saves: POST /projects/{id}/label/{task}/draft as htmx sends it, with 1, 2, ... spans;
4. workspace page loads: a short new task, and the long task with its many-span draft restored.

    .venv/bin/python bench/workspace.py --tasks 2000 --engine both
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
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
ANNOTATORS = 8
META = ("_csrf_token", "key", "lead_time", "revision", "prediction")


def texts(n: int, rng: random.Random) -> list[str]:
    """Short sentences, each starting with "Zoë" so that one result fits them all."""
    return ["Zoë " + " ".join(rng.choice(WORDS) for _ in range(12)) for _ in range(n)]


def summary(samples: list[float]) -> tuple[float, float]:
    """Mean and p95 in milliseconds."""
    ordered = sorted(samples)
    return statistics.fmean(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(client: httpx.Client, method: str, url: str, **kwargs) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = client.request(method, url, **kwargs)
    return response, (time.perf_counter() - start) * 1000


def floor(url: str, n: int) -> float:
    """Mean ms of the hello-world round trip, sequential keep-alive requests like the others."""
    with httpx.Client(base_url=url) as client:
        client.get("/")
        return statistics.fmean(timed(client, "GET", "/")[1] for _ in range(n))


def new_project(api: httpx.Client, title: str, items: list[str], members: list[dict]) -> int:
    response = api.post("/api/projects", json={"title": title, "label_config": CONFIG})
    assert response.status_code == 201, response.text[:300]
    project = response.json()["id"]
    response = api.post(f"/api/projects/{project}/import", json=[{"text": t} for t in items])
    assert response.status_code == 201, response.text[:300]
    for user in members:
        assert api.post(f"/api/projects/{project}/members", json={"user": user["id"]}).status_code in (200, 201)
    return project


def annotate_queue(client: httpx.Client, project: int, tasks: int) -> tuple[list[float], list[float], list[int]]:
    """Take and annotate tasks until none is left; (next ms, submit ms, task ids) of this annotator."""
    nexts, submits, done, idle = [], [], [], 0
    while idle < 200:
        response, ms = timed(client, "GET", f"/api/projects/{project}/next")
        if response.status_code == 404:  # finished, or what is left is held by others for a moment
            if client.get(f"/api/projects/{project}").json()["finished_task_number"] >= tasks:
                break
            idle += 1
            time.sleep(0.02)
            continue
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
    rows: list[tuple[str, float, float]] = []  # (name, mean ms, p95 ms)
    try:
        api = server.client(token="bench", timeout=600)
        people = []
        for i in range(ANNOTATORS):
            body = {"email": f"annotator{i}@example.com", "password": f"pass-{i}-bench", "role": "annotator"}
            response = api.post("/api/users", json=body)
            assert response.status_code == 201, response.text[:300]
            with closing(browser(server, body["email"], body["password"])) as web:
                token = web.get("/api/current-user/token").json()["token"]
            people.append({**response.json(), **body, "token": token})
        clients = [server.client(token=p["token"], timeout=120) for p in people]
        n = args.tasks

        # 1. one annotator works through the queue
        project = new_project(api, "Queue, one annotator", texts(n, rng), people[:1])
        start = time.perf_counter()
        nexts, submits, done = annotate_queue(clients[0], project, n)
        took = time.perf_counter() - start
        assert len(done) == n, (len(done), n)
        rows += [("queue: GET next", *summary(nexts)), ("queue: POST annotation", *summary(submits))]
        print(f"[{engine}] 1 annotator: {n:,} tasks in {took:.1f} s, {n / took:.0f} tasks/s")

        # 2. eight annotators at once on a fresh project
        project = new_project(api, "Queue, eight annotators", texts(n, rng), people)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=ANNOTATORS) as pool:
            work = list(pool.map(lambda c: annotate_queue(c, project, n), clients))
        took = time.perf_counter() - start
        handed = [t for _, _, ids in work for t in ids]
        state = api.get(f"/api/projects/{project}").json()
        exactly_once = (len(handed) == len(set(handed)) == n and state["finished_task_number"] == n
                        and state["total_annotations_number"] == n)
        rows.append((f"queue, {ANNOTATORS} at once: GET next (contended)", *summary([ms for m, _, _ in work for ms in m])))
        print(f"[{engine}] {ANNOTATORS} annotators: {n:,} tasks in {took:.1f} s, {n / took:.0f} tasks/s; "
              f"per annotator {[len(ids) for _, _, ids in work]}; finished_task_number "
              f"{state['finished_task_number']:,}, annotations {state['total_annotations_number']:,}: "
              f"every task annotated exactly once: {'yes' if exactly_once else 'NO'}")
        for client in clients:
            client.close()

        # 3. draft saves in the browser's workspace, on a long text, with a growing number of spans
        long_text, offsets = span_text(args.drafts, rng)
        project = new_project(api, "Workspace", [long_text, *texts(n - 1, rng)], people[:1])
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
            rows.append((f"draft save, 1-{len(offsets)} spans (mean over the run)", *summary(samples)))
            rows.append((f"draft save, last 10% ({len(offsets) * 9 // 10}+ spans)",
                         *summary(samples[len(samples) * 9 // 10:])))

            # 4. page loads: the long task restores its draft; then a short, new task (claiming it)
            short = api.get(f"/api/tasks?project={project}&page_size=2").json()["tasks"][1]["id"]
            for name, url in ((f"workspace page, draft of {len(offsets)} spans", base),
                              ("workspace page, a new short task", f"/projects/{project}/label/{short}")):
                web.get(url)  # warm up
                loads = []
                for _ in range(args.requests):
                    response, ms = timed(web, "GET", url)
                    assert response.status_code == 200, (url, response.status_code)
                    loads.append(ms)
                rows.append((name, *summary(loads)))
    finally:
        server.stop()
    after = floor(hello_url, 500)
    hello = (before + after) / 2
    print(f"[{engine}] sequential keep-alive requests, mean and p95; ratio of the mean to the hello-world mean")
    print(f"[{engine}] {'hello-world floor':48s} {hello:7.2f} ms {'':12s}   1.0x"
          f"   (before {before:.2f}, after {after:.2f})")
    for name, mean, p95 in rows:
        print(f"[{engine}] {name:48s} {mean:7.2f} ms  p95 {p95:7.2f} {mean / hello:6.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=2000)
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


if __name__ == "__main__":
    main()
