"""Cloud storage on a big image project: how fast a bucket syncs, and whether a project of bucket
images opens as fast as a text project. Against moto's standalone S3 server on loopback (started
here unless LABELWELL_TEST_S3_URL names one), on SQLite or PostgreSQL:

1. sync of --objects image objects (use_blob_urls): the job's objects/s, and the peak RSS of the
   worker's processes (listing is page by page, so it stays flat however big the bucket);
2. the workspace (GET /projects/{id}/label, server and page) and the task list page (with its
   thumbnails made) for the bucket project against a text project of as many tasks, p50 and the
   ratio;
3. the resolver's answer (a 303 to a presigned URL): p50 against the hello-world floor.

Filling the bucket is moto's speed, not ours (about 150 objects/s here), so it is reported apart.

    .venv/bin/python bench/storage.py                            # 100,000 objects
    .venv/bin/python bench/storage.py --objects 300 --requests 3   # CI smoke run
"""

from __future__ import annotations

import argparse
import os
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
from tests import s3server  # noqa: E402
from tests.helpers import launch, wait_job  # noqa: E402

TOKEN = "bench-storage-token"
IMAGE = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="a"/></Choices></View>'
TEXT = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices></View>'
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cf"
                    "c0f01f0005000201e2a6c1d70000000049454e44ae426082")


def tree_peak_mib(pid: int) -> float:
    """The largest peak RSS (VmHWM) among `pid` and its descendants."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    family, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    peak = 0.0
    for member in family:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def p50(call, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = call()
        samples.append((time.perf_counter() - start) * 1000)
        assert answer.status_code in (200, 303), answer.text[:300]
    return statistics.median(samples)


def fill_bucket(endpoint: str, n: int) -> tuple[str, float]:
    start = time.perf_counter()
    bucket = s3server.new_bucket(endpoint, {f"img/{i:07}.png": PNG for i in range(n)})
    return bucket, time.perf_counter() - start


def run(engine: str, url: str, args: argparse.Namespace, folder: Path, endpoint: str, floor: float) -> None:
    bucket, filled = fill_bucket(endpoint, args.objects)
    print(f"[{engine}] bucket of {args.objects:,} objects filled in {filled:.1f} s (moto's speed)")
    srv = launch(folder / engine, url, {"LABELWELL_USER_TOKEN": TOKEN, "LABELWELL_STORAGE_ALLOW_PRIVATE": "true"})
    try:
        worker = srv.start_worker()
        with srv.client(token=TOKEN, timeout=3600) as api:
            image = api.post("/api/projects", json={"title": "Bucket images", "label_config": IMAGE}).json()
            storage = api.post("/api/storages/s3", json={
                "project": image["id"], "bucket": bucket, "prefix": "img", "use_blob_urls": True,
                "s3_endpoint": endpoint, "aws_access_key_id": s3server.KEY_ID,
                "aws_secret_access_key": s3server.SECRET}).json()
            job = api.post(f"/api/storages/s3/{storage['id']}/sync").json()["last_sync_job"]
            done = wait_job(api, int(job), timeout=7200)
            took = max(1e-6, (_when(done["finished_at"]) - _when(done["started_at"])))
            print(f"[{engine}] sync {args.objects:,} objects: {took:.2f} s = {args.objects / took:,.0f} objects/s; "
                  f"worker peak RSS {tree_peak_mib(worker.pid):.0f} MiB")
            # the list's first visit hands the page's thumbnails to the worker: timed once they are made
            began = time.perf_counter()
            api.get(f"/projects/{image['id']}/tasks").raise_for_status()
            for made in api.get(f"/api/projects/{image['id']}/jobs?kind=thumbnails").json():
                wait_job(api, made["id"], timeout=600)
            print(f"[{engine}] the task list's first page of thumbnails made in {time.perf_counter() - began:.2f} s")
            text = api.post("/api/projects", json={"title": "Text", "label_config": TEXT}).json()
            api.post(f"/api/projects/{text['id']}/import",
                     json=[{"text": f"task {i}"} for i in range(args.objects)]).raise_for_status()
            times = {}
            for name, project in (("bucket images", image), ("text", text)):
                times[name] = (p50(lambda: api.get(f"/projects/{project['id']}/label", follow_redirects=True),
                                   args.requests),
                               p50(lambda: api.get(f"/projects/{project['id']}/tasks"), args.requests))
            task = api.get(f"/api/tasks?project={image['id']}&page_size=1").json()["tasks"][0]
            page = api.get(f"/projects/{image['id']}/label", follow_redirects=True).text
            address = "/tasks/" + page.split('src="/tasks/', 1)[1].split('"', 1)[0].replace("&amp;", "&")
            resolver = p50(lambda: api.get(address), args.requests)
        for name, (workspace, listing) in times.items():
            print(f"[{engine}] {name}, {args.objects:,} tasks: workspace open p50 {workspace:.1f} ms, "
                  f"task list page p50 {listing:.1f} ms")
        (wi, li), (wt, lt) = times["bucket images"], times["text"]
        print(f"[{engine}] bucket images / text: workspace {wi / wt:.2f}x, task list {li / lt:.2f}x (goal: about 1x)")
        print(f"[{engine}] resolver 303 to a presigned URL (task {task['id']}): p50 {resolver:.1f} ms "
              f"= {resolver / floor:.1f}x the floor")
    finally:
        srv.stop()


def _when(value: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    endpoint, moto = os.environ.get("LABELWELL_TEST_S3_URL", "").strip(), None
    if not endpoint:
        endpoint, moto = s3server.start()
    hello, hello_url = start_hello()
    try:
        with httpx.Client(base_url=hello_url) as client:
            for _ in range(50):
                try:
                    client.get("/")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            floor = p50(lambda: client.get("/"), 200)
        print(f"hello-world floor: {floor:.2f} ms")
        with tempfile.TemporaryDirectory(prefix="lw-bench-storage-") as tmp:
            on_engines(args.engine, Path(tmp), lambda engine, url: run(engine, url, args, Path(tmp), endpoint, floor))
    finally:
        hello.terminate()
        if moto is not None:
            moto.terminate()


if __name__ == "__main__":
    main()
