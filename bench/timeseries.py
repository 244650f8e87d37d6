"""Time series (issue 19): how fast a big <TimeSeries> opens and zooms.

For each size (10,000 and 1,000,000 rows of time + 3 channels; 10,000,000 with --huge), a CSV under the
local files root and one task naming it:
1. open, cold: the first GET /api/tasks/{id}/timeseries/ts (the server reads and parses the file once);
2. zoom, warm: GETs of a 1 % window and of the whole series reduced to 1,000 pixels, p50 over --repeat,
   with the bytes each sends;
3. in headless Chromium: from the navigation's start to the chart's first draw (a second visit, the
   file parsed already) and to the first draw after a zoom-in click.
Then the ratio of the biggest size to the smallest (goal: under 3x for the warm figures).

    .venv/bin/python bench/timeseries.py            # 10k and 1M rows
    .venv/bin/python bench/timeseries.py --huge     # and 10M
    .venv/bin/python bench/timeseries.py --small    # a smoke run: 1k and 20k rows
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import CHROMIUM, Server, chromium_page, launch  # noqa: E402

EMAIL, PASSWORD = "bench@example.com", "bench-pass"
CONFIG = """<View>
  <TimeSeriesLabels name="label" toName="ts"><Label value="Run"/></TimeSeriesLabels>
  <TimeSeries name="ts" value="$csv" timeColumn="time">
    <Channel column="a"/><Channel column="b"/><Channel column="c"/>
  </TimeSeries>
</View>"""


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def write_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(19)
    t = np.arange(rows)
    table = np.column_stack([t, np.sin(t / 500), rng.normal(size=rows), np.cumsum(rng.normal(size=rows))])
    np.savetxt(path, table, fmt=["%d", "%.5f", "%.5f", "%.4f"], delimiter=",", header="time,a,b,c", comments="")


def timed(api, address: str, repeat: int) -> tuple[float, int]:
    samples, size = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        response = api.get(address)
        samples.append(ms(start))
        assert response.status_code == 200, response.text[:300]
        size = len(response.content)
    return statistics.median(samples), size


def in_browser(server: Server, project: int, task: int) -> tuple[float, float] | None:
    """(ms from the navigation's start to the first draw, ms from a zoom-in click to the next draw)."""
    if not os.path.exists(CHROMIUM):
        return None
    with chromium_page(server, EMAIL, PASSWORD) as page:
        page.goto(f"/projects/{project}/label/{task}")
        page.wait_for_function("() => document.querySelector('.lw-ts[data-drawn-at]')", timeout=120_000)
        first = float(page.get_attribute(".lw-ts", "data-drawn-at"))
        before = page.evaluate("performance.now()")
        page.click("[data-testid=ts-zoom-in-ts]")
        page.wait_for_function(f"() => +document.querySelector('.lw-ts').dataset.drawnAt > {before}", timeout=60_000)
        return first, float(page.get_attribute(".lw-ts", "data-drawn-at")) - before


def one_size(server: Server, api, project: int, folder: Path, rows: int, repeat: int) -> dict[str, float]:
    path = folder / "files" / f"series-{rows}.csv"
    write_csv(path, rows)
    reply = api.post(f"/api/projects/{project}/import?return_task_ids=true",
                     json=[{"csv": f"/data/local-files/?d={path.name}"}]).json()
    (task,) = reply["task_ids"]
    base = f"/api/tasks/{task}/timeseries/ts"
    start = time.perf_counter()
    opened = api.get(f"{base}?width=1000")
    cold = ms(start)
    assert opened.status_code == 200, opened.text[:300]
    zoom, zoom_bytes = timed(api, f"{base}?start={rows * 0.5}&end={rows * 0.51}&width=1000", repeat)
    whole, whole_bytes = timed(api, f"{base}?width=1000", repeat)
    shown = in_browser(server, project, task)
    print(f"{rows:>11,} rows x 3 channels: open (cold, parse) {cold:8.1f} ms, {len(opened.content):,} bytes; "
          f"zoom 1 % {zoom:6.1f} ms, {zoom_bytes:,} bytes; whole {whole:6.1f} ms, {whole_bytes:,} bytes")
    out = {"cold": cold, "zoom": zoom, "whole": whole, "bytes": float(whole_bytes)}
    if shown is None:
        print(f"{'':>11}  in Chromium: skipped ({CHROMIUM} is missing)")
    else:
        print(f"{'':>11}  in Chromium: first draw at {shown[0]:.0f} ms from navigation, a zoom drawn in {shown[1]:.0f} ms")
        out.update(first_draw=shown[0], zoom_draw=shown[1])
    return out


def run(sizes: list[int], repeat: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="labelwell-bench-ts-"))
    (folder / "files").mkdir()
    server = launch(folder / "data", f"sqlite:///{folder / 'bench.sqlite3'}", {
        "LABELWELL_USER_TOKEN": "bench", "LABELWELL_PASSWORD": PASSWORD, "LABELWELL_USERNAME": EMAIL,
        "LABELWELL_LOCAL_FILES_ROOT": str(folder / "files")})
    try:
        api = server.client(token="bench", timeout=600)
        project = api.post("/api/projects", json={"title": "Time series bench", "label_config": CONFIG}).json()["id"]
        found = {rows: one_size(server, api, project, folder, rows, repeat) for rows in sizes}
        small, big = found[sizes[0]], found[sizes[-1]]
        for key, what in (("zoom", "zoom 1 % (server)"), ("whole", "whole series (server)"), ("bytes", "bytes sent"),
                          ("first_draw", "first draw (browser)"), ("zoom_draw", "zoom draw (browser)"),
                          ("cold", "open cold (parse)")):
            if key in small and key in big:
                print(f"ratio {sizes[-1]:,}/{sizes[0]:,} rows, {what}: {big[key] / small[key]:.2f}x"
                      f"{' (goal: under 3x)' if key != 'cold' else ''}")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a smoke run: 1k and 20k rows")
    parser.add_argument("--huge", action="store_true", help="also 10M rows")
    parser.add_argument("--repeat", type=int, default=5, help="requests per warm figure (5)")
    args = parser.parse_args()
    sizes = [1_000, 20_000] if args.small else [10_000, 1_000_000] + ([10_000_000] if args.huge else [])
    run(sizes, args.repeat)


if __name__ == "__main__":
    main()
