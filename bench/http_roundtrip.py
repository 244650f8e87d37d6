"""Round-trip latency of Labelwell's API against a Litestar hello-world, in one run.

Starts `labelwell serve` on a fresh SQLite data folder (or DATABASE_URL if given) and the
hello-world app, both with uvicorn, then times sequential keep-alive requests. Prints the median
per request and the ratio to the hello-world floor.

    .venv/bin/python bench/http_roundtrip.py [--requests 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import launch  # noqa: E402
from tests.pg import free_port  # noqa: E402


def timed(client: httpx.Client, method: str, path: str, n: int, **kwargs) -> float:
    """Median milliseconds per request."""
    client.request(method, path, **kwargs)  # warm up
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.request(method, path, **kwargs)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code < 400, (path, response.status_code, response.text[:200])
    return statistics.median(samples)


def start_hello() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "bench.hello:app", "--port", str(port),
                             "--log-level", "warning", "--no-access-log"], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/")
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("hello-world did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    n = args.requests

    data = Path(tempfile.mkdtemp(prefix="labelwell-bench-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data / 'bench.sqlite3'}"
    server = launch(data, database_url, {"LABELWELL_USER_TOKEN": "bench-token", "LABELWELL_PASSWORD": "bench-pass"})
    hello, hello_url = start_hello()
    try:
        with httpx.Client(base_url=hello_url) as client:
            floor = timed(client, "GET", "/", n)
        with server.client(token="bench-token") as client:
            pid = client.post("/api/projects", json={"title": "Bench"}).json()["id"]
            rows = [
                ("GET /api/version (no database)", timed(client, "GET", "/api/version", n)),
                ("GET /api/current-user/whoami", timed(client, "GET", "/api/current-user/whoami", n)),
                ("GET /api/projects/{id}", timed(client, "GET", f"/api/projects/{pid}", n)),
                ("GET /api/projects (a page)", timed(client, "GET", "/api/projects", n)),
                ("PATCH /api/projects/{id} (a write)", timed(client, "PATCH", f"/api/projects/{pid}", n,
                                                           json={"description": "x"})),
            ]
    finally:
        server.stop()
        hello.terminate()
        hello.wait()
        shutil.rmtree(data, ignore_errors=True)  # a benchmark leaves nothing behind

    print(f"engine: {server.engine}, {n} sequential keep-alive requests each, median per request")
    print(f"{'hello-world floor':38s} {floor:7.3f} ms   1.0x")
    for name, ms in rows:
        print(f"{name:38s} {ms:7.3f} ms {ms / floor:5.1f}x")


if __name__ == "__main__":
    main()
