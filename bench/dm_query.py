"""The data manager's filters on a big project: GET /api/tasks with a `query` (Label Studio's
filter language) on N generated tasks, with and without the indexes the filters read (the
migration labelwell_2026_12_02t01 adds lw_task_project_created and lw_task_project_cancelled; the
others were there). Prints median/p95 milliseconds per filtered page; asserts nothing.

    .venv/bin/python bench/dm_query.py --tasks 200000 --engine both
"""

from __future__ import annotations

import argparse
import json
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
from tests.helpers import launch  # noqa: E402

NEW_INDEXES = {
    "lw_task_project_created": "CREATE INDEX lw_task_project_created ON lw_task (project, created_at, id)",
    "lw_task_project_cancelled": "CREATE INDEX lw_task_project_cancelled ON lw_task (project, cancelled_annotations, id)",
}


def item(column: str, operator: str, kind: str, value) -> dict:
    return {"filter": f"filter:tasks:{column}", "operator": operator, "type": kind, "value": value}


def filters(n: int) -> dict[str, dict]:
    return {
        "id > last 50": {"filters": {"conjunction": "and", "items": [item("inner_id", "greater", "Number", n - 50)]}},
        "inner_id in range": {"filters": {"conjunction": "and", "items": [item("inner_id", "in", "Number",
                                                                               {"min": n // 2, "max": n // 2 + 99})]}},
        "created_at in last day": {"filters": {"conjunction": "and", "items": [item(
            "created_at", "greater", "Datetime", "2026-01-30T00:00:00Z")]}},
        "cancelled = 1": {"filters": {"conjunction": "and", "items": [item("cancelled_annotations", "equal", "Number", 1)]}},
        "total_annotations > 1": {"filters": {"conjunction": "and", "items": [item("total_annotations", "greater", "Number", 1)]}},
        "labeled (completed_at not empty)": {"filters": {"conjunction": "and", "items": [item(
            "completed_at", "empty", "Datetime", False)]}},
        "data.n in range (a scan)": {"filters": {"conjunction": "and", "items": [item("data.n", "in", "Number",
                                                                                      {"min": 10, "max": 20})]}},
    }


def fill(server, project: int, n: int) -> None:
    """N tasks straight into the table: ~1 in 1000 skipped once, 1 in 500 with two annotations,
    created one a minute back from 2026-01-31, so "the last day" holds 1,440 of them."""
    if server.engine == "sqlite":
        series = f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) SELECT"
        stamp = "strftime('%Y-%m-%d %H:%M:%f+00:00', '2026-01-31', '-' || ({n} - i) || ' minutes')".format(n=n)
        data = "json_object('text', 'task ' || i, 'n', i % 1000)"
        tail = "FROM s"
    else:
        series, tail = "SELECT", f"FROM generate_series(1, {n}) AS i"
        stamp = f"TIMESTAMPTZ '2026-01-31' - make_interval(mins => {n} - i)"
        data = "jsonb_build_object('text', 'task ' || i, 'n', i % 1000)"
    server.query(f"""INSERT INTO lw_task (project, inner_id, data, meta, is_labeled, overlap, total_annotations,
        cancelled_annotations, total_predictions, created_at, updated_at)
        {series} {project}, i, {data}, '{{}}', i % 500 = 0, 1, CASE WHEN i % 500 = 0 THEN 2 ELSE 0 END,
        CASE WHEN i % 1000 = 7 THEN 1 ELSE 0 END, 0, {stamp}, {stamp} {tail}""")
    server.query("UPDATE lw_project SET task_number = $1 WHERE id = $2", n, project)
    server.query("ANALYZE" if server.engine == "sqlite" else "ANALYZE lw_task")


def timed(client: httpx.Client, project: int, body: dict, requests: int) -> tuple[float, float, int]:
    params = {"project": project, "page_size": 100, "fields": "task_only", "query": json.dumps(body)}
    times, total = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get("/api/tasks", params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        total = response.json()["total"]
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], total


def run(engine: str, database_url: str, n: int, requests: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-dm-{engine}-"))
    server = launch(data_dir, database_url, {"LABELWELL_USER_TOKEN": "bench", "LABELWELL_PASSWORD": "bench-pass",
                                             "LABELWELL_USERNAME": "bench@example.com"})
    try:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": "Token bench"}, timeout=120) as client:
            project = client.post("/api/projects", json={"title": "bench", "label_config": "<View></View>"}).json()["id"]
            started = time.perf_counter()
            fill(server, project, n)
            print(f"[{engine}] {n:,} tasks inserted in {time.perf_counter() - started:.1f} s")
            for label, body in filters(n).items():
                with_ms, with_p95, total = timed(client, project, body, requests)
                print(f"[{engine}] {label:34} {total:>7,} match: {with_ms:7.1f} ms median, {with_p95:7.1f} ms p95 (indexed)")
            for name in NEW_INDEXES:
                server.query(f"DROP INDEX {name}")
            for label in ("created_at in last day", "cancelled = 1"):
                without, without_p95, _ = timed(client, project, filters(n)[label], requests)
                print(f"[{engine}] {label:34} without the new index: {without:7.1f} ms median, {without_p95:7.1f} ms p95")
            for sql in NEW_INDEXES.values():
                server.query(sql)
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)  # a benchmark leaves nothing behind


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=7)
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        on_engines(args.engine, Path(folder), lambda engine, url: run(engine, url, args.tasks, args.requests))


if __name__ == "__main__":
    main()
