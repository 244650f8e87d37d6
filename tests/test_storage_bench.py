"""bench/storage.py's smoke run: a small bucket synced, both projects opened, the resolver timed."""

from __future__ import annotations

from tests.helpers import run_bench


def test_storage_benchmark_smoke_run(tmp_path, s3_endpoint):
    out = run_bench(tmp_path, "bench/storage.py", "--objects", "300", "--requests", "3", timeout=240)
    assert "sync 300 objects" in out.stdout and "objects/s; worker peak RSS" in out.stdout
    assert "bucket images / text: workspace" in out.stdout and "resolver 303 to a presigned URL" in out.stdout
    assert "first page of thumbnails made in" in out.stdout
