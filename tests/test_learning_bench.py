"""bench/learning_loop.py's smoke run: both queue orders replayed, the clean corpus scored, the chart
written, and the queue timed over scored predictions."""

from __future__ import annotations

from lxml import etree

from tests.helpers import run_bench


def test_learning_loop_benchmark_smoke_run(tmp_path):
    svg = tmp_path / "loop.svg"
    out = run_bench(tmp_path, "bench/learning_loop.py", "--pool", "200", "--test", "80", "--step", "25",
                    "--budget", "75", "--queue-tasks", "1000", "--svg", str(svg), timeout=240)
    assert "uncertainty order reaches random order's final F1" in out.stdout
    assert "pre-labels accepted unchanged" in out.stdout
    rows = [line for line in out.stdout.splitlines() if line.strip().split(" |")[0].strip() in ("25", "50", "75")]
    assert len(rows) == 3
    assert "queue over 1,000 scored predictions" in out.stdout and "x the floor" in out.stdout
    chart = etree.fromstring(svg.read_bytes())
    assert chart.get("data-testid") == "learning-loop" and len(chart.findall(".//{*}polyline")) == 2
