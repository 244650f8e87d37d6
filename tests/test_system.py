"""Open endpoints for containers and scripts, the OpenAPI schema, and the benchmark smoke run."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT, run_bench


def test_health_needs_no_login(server):
    response = server.client().get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "UP", "database": server.engine}


def test_version(server):
    assert server.client().get("/api/version/").json()["release"] == "0.1.0"


def test_openapi_schema_lists_the_label_studio_paths(server):
    schema = server.client().get("/schema/openapi.json").json()
    for path in ("/api/projects", "/api/projects/{project_id}", "/api/users", "/api/current-user/whoami"):
        assert path in schema["paths"], path


def test_render_benchmark_smoke_run(tmp_path):
    out = run_bench(tmp_path, "bench/render.py", "--repeat", "1", "--spans", "50", timeout=120)
    assert "render 100 KB text, 50 spans" in out.stdout


def test_data_benchmark_smoke_run(tmp_path, postgres_admin_url):
    out = run_bench(tmp_path, "bench/data.py", "--tasks", "300", "--engine", "both", "--requests", "2", timeout=300)
    for engine in ("sqlite", "postgres"):
        assert f"[{engine}] import 300 tasks" in out.stdout and f"[{engine}] export CONLL2003" in out.stdout


def test_benchmark_smoke_run(tmp_path):
    out = run_bench(tmp_path, "bench/http_roundtrip.py", "--requests", "5", timeout=120)
    assert "hello-world floor" in out.stdout and "PATCH /api/projects/{id}" in out.stdout


def test_workspace_benchmark_smoke_run(tmp_path):
    out = run_bench(tmp_path, "bench/workspace.py", "--tasks", "80", "--work", "20", "--annotators", "4", "--drafts", "20",
                    "--requests", "5", "--engine", "sqlite", timeout=180)
    assert "[sqlite] next, 1 annotator" in out.stdout and "next, 4 annotators at once" in out.stdout
    assert "draft save + swap" in out.stdout
    assert out.stdout.count("each annotated once: yes") == 2


def test_predictions_benchmark_smoke_run(tmp_path):
    out = run_bench(tmp_path, "bench/predictions.py", "--tasks", "300", "--batch", "50", "--engine", "sqlite",
                    timeout=180)
    assert "[sqlite] 300 tasks, batches of 50" in out.stdout and "floor (the backend alone" in out.stdout


def test_agreement_benchmark_smoke_run(tmp_path):
    out = run_bench(tmp_path, "bench/agreement.py", "--tasks", "150", "--submits", "5", "--requests", "2",
                    "--engine", "sqlite", timeout=240)
    assert "[sqlite] score 150 imported tasks (job)" in out.stdout and "review queue, page 1" in out.stdout
