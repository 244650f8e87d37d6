"""bench/timeseries.py's smoke run: two small series, server and browser times, and the ratio line."""

from __future__ import annotations

import os

from tests.conftest import CHROMIUM, missing
from tests.helpers import run_bench


def test_time_series_benchmark_smoke_run(tmp_path):
    if not os.path.exists(CHROMIUM):
        missing("the time series benchmark needs Chromium")
    out = run_bench(tmp_path, "bench/timeseries.py", "--small", "--repeat", "2", timeout=120)
    assert out.stdout.count("rows x 3 channels: open (cold, parse)") == 2 and "first draw at" in out.stdout
    assert "ratio 20,000/1,000 rows, zoom 1 % (server)" in out.stdout and "(goal: under 3x)" in out.stdout
