"""Agreement on a large project: is it kept up to date cheaply, and do the pages that read it answer
at once? Per engine, --tasks tasks, each with two annotators' annotations (spans and a choice),
imported as a Label Studio export:

1. the background job that scores every imported task (tasks/s);
2. a third annotator's submit (POST /api/tasks/{id}/annotations), which rescores its task in the
   request: p50 / p95 against a Litestar hello-world round trip measured in the same run;
3. reading: GET /api/projects/{id}/agreement (kappa and alpha included), the dashboard page, the
   review queue's first page (worst first) and the task list: p50.

    .venv/bin/python bench/agreement.py --engine both               # 20,000 tasks
    .venv/bin/python bench/agreement.py --tasks 200 --engine sqlite   # CI smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engines import on_engines  # noqa: E402
from bench.http_roundtrip import start_hello  # noqa: E402
from tests.helpers import launch, wait_job  # noqa: E402

CONFIG = """<View><Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Choices name="mood" toName="text"><Choice value="pos"/><Choice value="neg"/><Choice value="neu"/></Choices></View>"""
TEXT = "Ada Lovelace met Charles Babbage at ACME in London"
TOKEN = "bench-agreement-token"


def result(rng: random.Random) -> list[dict]:
    spans = [(0, 12, "PER"), (17, 32, "PER"), (36, 40, "ORG"), (44, 50, "ORG")]
    chosen = [s for s in spans if rng.random() < 0.8]
    out = [{"from_name": "ner", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": TEXT[s:e], "labels": [rng.choice([label, label, "PER", "ORG"])]}}
           for s, e, label in chosen]
    return out + [{"from_name": "mood", "to_name": "text", "type": "choices",
                   "value": {"choices": [rng.choice(["pos", "pos", "neg", "neu"])]}}]


def timed(call, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = call()
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:300]
    return out


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def run(engine: str, url: str, args: argparse.Namespace, folder: Path, floor: float) -> None:
    srv = launch(folder / engine, url, {"LABELWELL_USER_TOKEN": TOKEN})
    try:
        srv.start_worker()
        rng = random.Random(7)
        with srv.client(token=TOKEN, timeout=600) as api:
            people = []
            for name in ("a", "b", "c"):
                body = {"email": f"{name}-{engine}@bench.example", "password": "bench-password", "role": "annotator"}
                people.append(api.post("/api/users", json=body).json())
            project = api.post("/api/projects", json={"title": "Agreement bench", "label_config": CONFIG,
                                                      "maximum_annotations": 2}).json()
            for person in people:
                api.post(f"/api/projects/{project['id']}/members", json={"user": person["id"]})
            items = [{"data": {"text": TEXT}, "annotations": [
                {"completed_by": people[0]["email"], "result": result(rng)},
                {"completed_by": people[1]["email"], "result": result(rng)}]} for _ in range(args.tasks)]
            api.post(f"/api/projects/{project['id']}/import", json=items).raise_for_status()
            job = api.get(f"/api/projects/{project['id']}/jobs?kind=agreement").json()[0]
            job = wait_job(api, job["id"], timeout=3600)
            took = (dt.datetime.fromisoformat(job["finished_at"]) - dt.datetime.fromisoformat(job["started_at"])).total_seconds()
            print(f"[{engine}] score {args.tasks:,} imported tasks (job): {took:.1f} s = {args.tasks / took:,.0f} tasks/s")

            key = srv.query('SELECT key FROM lw_api_token WHERE "user" = $1', people[2]["id"])[0]["key"]
            ids = [t["id"] for t in api.get(f"/api/tasks?project={project['id']}&page_size={args.submits}").json()["tasks"]]
            with srv.client(token=key) as third:
                submits = []
                for task_id in ids[:args.submits]:
                    start = time.perf_counter()
                    third.post(f"/api/tasks/{task_id}/annotations", json={"result": result(rng)}).raise_for_status()
                    submits.append((time.perf_counter() - start) * 1000)
            print(f"[{engine}] submit with rescoring (3 annotators): p50 {p(submits, .5):.1f} ms "
                  f"(p95 {p(submits, .95):.1f}) = {p(submits, .5) / floor:.1f}x the floor")
            api_times = timed(lambda: api.get(f"/api/projects/{project['id']}/agreement"), args.requests)
        with srv.client(token=TOKEN) as web:  # pages take the token too
            pages = {"GET /api/projects/{id}/agreement": api_times,
                     "dashboard page": timed(lambda: web.get(f"/projects/{project['id']}/agreement"), args.requests),
                     "review queue, page 1": timed(lambda: web.get(f"/projects/{project['id']}/review"), args.requests),
                     "task list, page 1": timed(lambda: web.get(f"/projects/{project['id']}/tasks"), args.requests)}
        for name, values in pages.items():
            print(f"[{engine}] {name}: p50 {p(values, .5):.1f} ms ({p(values, .5) / floor:.0f}x the floor)")
    finally:
        srv.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--submits", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    hello, hello_url = start_hello()
    try:
        with httpx.Client(base_url=hello_url) as client:
            floor = statistics.median(timed(lambda: client.get("/"), 200))
        print(f"hello-world floor: {floor:.2f} ms")
        with tempfile.TemporaryDirectory(prefix="lw-bench-agreement-") as tmp:
            on_engines(args.engine, Path(tmp), lambda engine, url: run(engine, url, args, Path(tmp), floor))
    finally:
        hello.terminate()


if __name__ == "__main__":
    main()
