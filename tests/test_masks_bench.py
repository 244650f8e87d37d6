"""bench/masks.py's smoke run: RLE figures beside Label Studio's SDK and the floor, and a workspace
with 20 masks on the server and in Chromium (its PDF part is bench/pdf_pages.py, smoke-run by
tests/test_pdf_bench.py)."""

from __future__ import annotations

import os

from tests.conftest import CHROMIUM, missing
from tests.helpers import run_bench


def test_masks_benchmark_smoke_run(tmp_path):
    if not os.path.exists(CHROMIUM):
        missing("the masks benchmark needs Chromium")
    out = run_bench(tmp_path, "bench/masks.py", "--small", "--repeat", "2", "--no-pdf", timeout=240)
    assert out.stdout.count("MP mask") == 2 and out.stdout.count("Label Studio's SDK: encode") == 2
    assert "workspace with 20 masks of 1000 x 750" in out.stdout and "all 20 masks on screen" in out.stdout
    assert "PDF of" not in out.stdout
