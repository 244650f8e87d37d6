"""Retrieving predictions: --tasks tasks (10,000) sent to an ML backend that answers at once, so
the figure is Labelwell's overhead (batching, the HTTP round trips, checking every prediction
against the config, storing it), not the model's.

Per engine: a real `labelwell serve` and a separate `labelwell worker` (the embedded filesystem
broker), the test backend (tests/ml_backend.py, generation 1, mode `instant`) in its own process.
Printed:
- the job's own time (started → finished) and predictions/s, and the time from the click to done
  (which adds the worker picking the job up);
- the floor, measured in the same run: the same /predict requests sent straight to the backend
  by one client, i.e. what no annotation server can beat. The ratio is our overhead.

    .venv/bin/python bench/predictions.py --engine both            # 10,000 tasks, batches of 100
    .venv/bin/python bench/predictions.py --tasks 500 --engine sqlite   # CI smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engines import on_engines  # noqa: E402
from tests.helpers import MLBackendProcess, launch  # noqa: E402

CONFIG = """<View><Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/></View>"""
TOKEN = "bench-predictions-token"


def texts(n: int) -> list[dict]:
    return [{"text": f"Task {i}: Ada Lovelace met Charles Babbage in London on day {i}"} for i in range(n)]


def floor(url: str, tasks: list[dict], batch: int) -> float:
    """Seconds for the backend alone to answer every batch, sent one after another by one client."""
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/setup", json={"project": "1.0", "schema": CONFIG})
        start = time.perf_counter()
        for i in range(0, len(tasks), batch):
            chunk = [{"id": i + k + 1, "data": t} for k, t in enumerate(tasks[i:i + batch])]
            client.post("/predict", json={"tasks": chunk, "project": "1.0", "label_config": CONFIG}).raise_for_status()
        return time.perf_counter() - start


def run(engine: str, database_url: str, args: argparse.Namespace, folder: Path) -> None:
    srv = launch(folder / engine, database_url, {"LABELWELL_USER_TOKEN": TOKEN,
                                                 "LABELWELL_ML_BATCH_SIZE": str(args.batch)})
    backend = MLBackendProcess.start(folder / f"{engine}-ml.log", 1, "instant")
    try:
        srv.start_worker()
        items = texts(args.tasks)
        with srv.client(token=TOKEN, timeout=600) as api:
            project = api.post("/api/projects", json={"title": "Predictions bench", "label_config": CONFIG}).json()
            api.post(f"/api/projects/{project['id']}/import", json=items).raise_for_status()
            assert api.post("/api/ml", json={"project": project["id"], "url": backend.url}).json()["state"] == "CO"
            clicked = time.perf_counter()
            job = api.post(f"/api/dm/actions?id=retrieve_tasks_predictions&project={project['id']}",
                           json={"selectedItems": {"all": True}}).json()["job"]
            while job["state"] not in ("done", "failed"):
                time.sleep(0.05)
                job = api.get(f"/api/jobs/{job['id']}").json()
            total = time.perf_counter() - clicked
        if job["state"] != "done" or job["result"]["predicted"] != args.tasks:
            raise SystemExit(f"[{engine}] the job did not predict every task: {job}")
        own = (dt.datetime.fromisoformat(job["finished_at"]) - dt.datetime.fromisoformat(job["started_at"])).total_seconds()
        alone = floor(backend.url, items, args.batch)
        print(f"[{engine}] {args.tasks:,} tasks, batches of {args.batch}: job {own:.2f} s = {args.tasks / own:,.0f} "
              f"predictions/s; click to done {total:.2f} s")
        print(f"[{engine}] floor (the backend alone, same batches): {alone:.2f} s = {args.tasks / alone:,.0f}/s; "
              f"Labelwell's job takes {own / alone:.1f}x that")
    finally:
        backend.stop()
        srv.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lw-bench-pred-") as tmp:
        on_engines(args.engine, Path(tmp), lambda engine, url: run(engine, url, args, Path(tmp)))


if __name__ == "__main__":
    main()
