"""Data in and out at scale: import N generated tasks, export them as JSON and CoNLL, and time
task-list pages (first and last), on SQLite and PostgreSQL. Prints figures; asserts nothing.

    .venv/bin/python bench/data.py --tasks 100000 --engine both
    .venv/bin/python bench/data.py --tasks 1000000 --engine sqlite

Peak memory is the server process's VmHWM (Linux), read before and after each step.
For reference (the issue's figures for Label Studio 1.23 on this kind of machine): 50,000 short
texts import in ~9 s, a task-list page takes 130-220 ms, a JSON export of 50,000 tasks ~64 s,
and the server grows from ~310 to ~480 MiB.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engines import on_engines  # noqa: E402
from tests.helpers import browser, launch  # noqa: E402

CONFIG = """<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
<Text name="text" value="$text"/></View>"""
WORDS = "the of and to in is was for on that with as by at from Zoë ACME 東京 naïve café".split()


def make_file(path: Path, n: int, annotated_every: int = 10) -> None:
    rng = random.Random(1)
    with open(path, "w") as fh:
        for i in range(n):
            text = " ".join(rng.choice(WORDS) for _ in range(12))
            task: dict = {"data": {"text": text, "n": i}}
            if i % annotated_every == 0:  # some annotated tasks, so exports have work to do
                first = text.split(" ")[0]
                task["annotations"] = [{"result": [{"id": f"r{i}", "from_name": "label", "to_name": "text",
                                                    "type": "labels", "value": {"start": 0, "end": len(first),
                                                    "text": first, "labels": ["PER"]}}], "lead_time": 1.5}]
            fh.write(json.dumps(task, ensure_ascii=False) + "\n")


def memory(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    values = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status.splitlines()
              if line.startswith(("VmRSS", "VmHWM"))}
    return {"rss": values.get("VmRSS", 0), "peak": values.get("VmHWM", 0)}


def latency(client: httpx.Client, url: str, n: int) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def run(engine: str, database_url: str, tasks_file: Path, n: int, requests: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix=f"labelwell-bench-{engine}-"))
    server = launch(data_dir, database_url, {"LABELWELL_USER_TOKEN": "bench", "LABELWELL_PASSWORD": "bench-pass",
                                             "LABELWELL_USERNAME": "bench@example.com"})
    pid = server.process.pid
    try:
        api = server.client(token="bench", timeout=3600)
        project = api.post("/api/projects", json={"title": "Bench", "label_config": CONFIG}).json()["id"]
        before = memory(pid)
        start = time.perf_counter()
        with open(tasks_file, "rb") as fh:
            response = api.post(f"/api/projects/{project}/import?filename=tasks.jsonl", content=fh,
                                headers={"Content-Type": "application/x-ndjson"})
        took = time.perf_counter() - start
        assert response.status_code == 201, response.text[:500]
        after = memory(pid)
        print(f"[{engine}] import {n:,} tasks: {took:.1f} s, {n / took:,.0f} tasks/s; "
              f"server RSS {before['rss']:.0f} -> {after['rss']:.0f} MiB, peak {after['peak']:.0f} MiB")
        for kind, query in (("JSON", "exportType=JSON&download_all_tasks=true"), ("CONLL2003", "exportType=CONLL2003")):
            start, size = time.perf_counter(), 0
            with api.stream("GET", f"/api/projects/{project}/export?{query}") as stream:
                records = int(stream.headers["x-labelwell-records"])
                for chunk in stream.iter_bytes():
                    size += len(chunk)
            took = time.perf_counter() - start
            print(f"[{engine}] export {kind}: {records:,} records, {size / 1e6:.0f} MB in {took:.1f} s, "
                  f"{records / took:,.0f} records/s; server peak {memory(pid)['peak']:.0f} MiB")
        session = browser(server, "bench@example.com", "bench-pass")
        last = -(-n // 50)
        for name, url in (("task list page 1", f"/projects/{project}/tasks"),
                          (f"task list page {last:,} (last)", f"/projects/{project}/tasks?page={last}"),
                          ("task list, text search", f"/projects/{project}/tasks?q=zzz-not-there"),
                          ("API /api/tasks page 1", f"/api/tasks?project={project}&page_size=100"),
                          ("API /api/tasks deep (keyset)", f"/api/tasks?project={project}&page_size=100&after={n - 100}")):
            client = session if not url.startswith("/api") else api
            p50, p95 = latency(client, url, requests if "search" not in url else max(3, requests // 10))
            print(f"[{engine}] {name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
        print(f"[{engine}] server RSS at the end {memory(pid)['rss']:.0f} MiB")
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)  # a benchmark leaves nothing behind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="labelwell-bench-"))
    tasks_file = folder / "tasks.jsonl"
    make_file(tasks_file, args.tasks)
    print(f"{args.tasks:,} tasks, {tasks_file.stat().st_size / 1e6:.0f} MB of JSONL (1 in 10 annotated)")
    try:
        on_engines(args.engine, folder, lambda engine, url: run(engine, url, tasks_file, args.tasks, args.requests))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
