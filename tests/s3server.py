"""An S3-compatible HTTP server on loopback for the storage tests: moto's standalone server (a
real endpoint that boto3, browsers and Label Studio's SDK talk HTTP to), never its in-process mocks.
CI starts one and sets LABELWELL_TEST_S3_URL; otherwise the tests start their own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.pg import free_port

KEY_ID, SECRET = "lw-test-key", "lw-test-secret-never-shown"


def start(**env: str) -> tuple[str, subprocess.Popen]:
    """A moto server on a free loopback port; `env` for its settings (INITIAL_NO_AUTH_ACTION_COUNT:
    after that many requests it checks every signature against the keys its IAM made)."""
    port = free_port()
    binary = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, "MOTO_ALLOW_NONEXISTENT_REGION": "true", **env})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return f"http://127.0.0.1:{port}", proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto_server did not start")


def client(endpoint: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET)


def new_bucket(endpoint: str, objects: dict[str, bytes] | None = None) -> str:
    """A fresh bucket holding `objects` (key -> bytes)."""
    name = f"lw-{uuid.uuid4().hex[:12]}"
    s3 = client(endpoint)
    s3.create_bucket(Bucket=name)
    with ThreadPoolExecutor(8) as pool:  # thousands of objects in seconds, not a minute
        list(pool.map(lambda item: s3.put_object(Bucket=name, Key=item[0], Body=item[1]), (objects or {}).items()))
    return name


if __name__ == "__main__":  # .ci/run: start one, print its URL and pid, leave it running
    url, process = start()
    print(url, process.pid)
