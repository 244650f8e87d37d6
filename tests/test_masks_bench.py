"""bench/masks.py's smoke run: RLE figures beside Label Studio's SDK and the floor, a workspace with
20 masks on the server and in Chromium, and a 5-page PDF (bench/pdf_pages.py)."""

from __future__ import annotations

import os

from tests.conftest import CHROMIUM, missing
from tests.helpers import run_bench


def test_masks_benchmark_smoke_run(tmp_path):
    if not os.path.exists(CHROMIUM):
        missing("the masks benchmark needs Chromium")
    out = run_bench(tmp_path, "bench/masks.py", "--small", "--repeat", "2", timeout=240)
    assert out.stdout.count("MP mask") == 2 and out.stdout.count("Label Studio's SDK: encode") == 2
    assert "workspace with 20 masks of 1000 x 750" in out.stdout and "all 20 masks on screen" in out.stdout
    assert "PDF of 5 pages" in out.stdout
