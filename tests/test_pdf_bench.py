"""bench/pdf_pages.py's smoke run: a 5-page PDF rendered by the worker and paged in Chromium."""

from __future__ import annotations

import os

from tests.conftest import CHROMIUM, missing
from tests.helpers import run_bench


def test_pdf_benchmark_smoke_run(tmp_path):
    if not os.path.exists(CHROMIUM):
        missing("the PDF benchmark needs Chromium")
    out = run_bench(tmp_path, "bench/pdf_pages.py", "--pages", "5", timeout=180)
    assert "PDF of 5 pages" in out.stdout and "all pages" in out.stdout
    assert "jump to page 5" in out.stdout
