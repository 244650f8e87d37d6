"""PDF pages (issue 20): what a long PDF costs. A --pages page PDF (fpdf2, seeded filler text) is
uploaded and imported; the worker renders it once. Figures:
1. worker: seconds from the import's answer until page 1 can be served, and until every page can;
2. browser (Chromium): ms from opening the workspace until page 1 is on screen, and for a jump to
   page 150 (or the last page of a shorter PDF) through "Go to page".

    .venv/bin/python bench/pdf_pages.py              # 200 pages
    .venv/bin/python bench/pdf_pages.py --pages 5    # the smoke run

`run(pages)` returns the figures as a dict (bench/masks.py calls it)."""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import chromium_page, launch  # noqa: E402

CONFIG = """<View>
  <Pdf name="pdf" value="$pdf"/>
  <Choices name="kind" toName="pdf"><Choice value="Invoice"/><Choice value="Letter"/></Choices>
</View>"""
EMAIL, PASSWORD = "bench@example.com", "bench-pass"
JUMP = 150


def make_pdf(pages: int, seed: int = 20) -> bytes:
    from fpdf import FPDF  # noqa: PLC0415 - a test extra: only the benchmark needs it

    rng = random.Random(seed)
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=11)
    for number in range(1, pages + 1):
        pdf.add_page()
        for line in range(40):
            pdf.text(40, 60 + line * 18, f"{number}.{line} " + " ".join(rng.choice(("total", "amount", "name", "date"))
                                                                       for _ in range(10)))
    return bytes(pdf.output())


def until(api: httpx.Client, url: str, timeout: float = 900) -> float:
    deadline = time.monotonic() + timeout
    while api.get(url).status_code != 200:
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} was not there within {timeout} s")
        time.sleep(0.05)
    return time.monotonic()


def run(pages: int = 200) -> dict[str, float]:
    """Make the PDF, start a server and a worker, and measure; the figures, also printed."""
    folder = Path(tempfile.mkdtemp(prefix="labelwell-bench-pdf-"))
    server = launch(folder / "data", f"sqlite:///{folder / 'bench.sqlite3'}",
                    {"LABELWELL_USER_TOKEN": "bench", "LABELWELL_PASSWORD": PASSWORD, "LABELWELL_USERNAME": EMAIL})
    try:
        server.start_worker()
        api = server.client(token="bench", timeout=600)
        project = api.post("/api/projects", json={"title": "PDF bench", "label_config": CONFIG}).json()["id"]
        content = make_pdf(pages)
        started = time.monotonic()
        response = api.post(f"/api/projects/{project}/import", files=[("file", ("bench.pdf", content))])
        assert response.status_code == 201, response.text[:300]
        imported = time.monotonic()
        task = api.get(f"/api/tasks?project={project}&fields=all").json()["tasks"][0]
        address = task["data"]["pdf"]
        first = until(api, f"{address}/pages/1") - imported
        every = until(api, f"{address}/pages/{pages}") - imported
        jump = min(JUMP, pages)
        with chromium_page(server, EMAIL, PASSWORD, {"width": 1200, "height": 900}) as page:
            opened = time.monotonic()
            page.goto(f"/projects/{project}/label/{task['id']}")
            page.wait_for_selector(".lw-pdf-page[data-loaded='1']", timeout=60_000)
            open_ms = (time.monotonic() - opened) * 1000
            page.wait_for_selector(".lw-workspace[data-ready=true]")
            jumped = time.monotonic()
            page.fill("[data-pdf=goto]", str(jump))
            page.press("[data-pdf=goto]", "Enter")
            page.wait_for_selector(f".lw-pdf-page[data-loaded='{jump}']", timeout=60_000)
            jump_ms = (time.monotonic() - jumped) * 1000
        figures = {"pages": pages, "bytes": len(content), "import_s": round(imported - started, 3),
                   "first_page_s": round(first, 3), "all_pages_s": round(every, 3),
                   "pages_per_s": round(pages / every, 1) if every else 0.0,
                   "open_first_page_ms": round(open_ms, 1), "jump_page": jump, "jump_ms": round(jump_ms, 1)}
        print(f"PDF of {pages} pages ({len(content):,} bytes): import {figures['import_s']} s")
        print(f"worker: page 1 ready {figures['first_page_s']} s after the import, all pages {figures['all_pages_s']} s "
              f"({figures['pages_per_s']} pages/s)")
        print(f"browser: workspace open to page 1 on screen {figures['open_first_page_ms']} ms; "
              f"jump to page {jump} {figures['jump_ms']} ms")
        return figures
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200, help="pages of the generated PDF")
    run(parser.parse_args().pages)


if __name__ == "__main__":
    main()
