"""Video (issue 18): how fast a video task opens, and the export of tracked frames.

1. workspace open: the server's GET of the labelling page of a video task (the form rendered with
   ffprobe's frame count and a track drawn on it), p50/p95 over --repeat requests;
2. first frame: in headless Chromium, from the navigation's start to the first video frame the
   browser presents (requestVideoFrameCallback), and to the workspace being ready;
3. export: one task with --tracks tracks over --frames frames (3 keyframes each), exported as JSON
   with Label Studio's interpolate_key_frames=true (a box for every frame): rows (boxes) per second,
   against the same export without the option.

Figures only, no limits: the lead compares them (bench/media.py). The video is a generated
moving square (tests/test_video.py), served by the app with Range requests, on SQLite.

    .venv/bin/python bench/video.py                 # 10 tracks x 1,000 frames = 10,000 boxes
    .venv/bin/python bench/video.py --small         # a smoke run
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import CHROMIUM, Server, browser, chromium_page, launch  # noqa: E402
from tests.test_video import TRACKING, make_square  # noqa: E402

EMAIL, PASSWORD = "bench@example.com", "bench-pass"


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def track(i: int, frames: int) -> dict:
    """A track with keyframes at the first, middle and last frame (a box sliding right)."""
    keys = [1, max(2, frames // 2), frames]
    return {"id": f"track{i}", "from_name": "box", "to_name": "video", "type": "videorectangle",
            "value": {"framesCount": frames, "duration": frames / 25, "labels": ["Man"], "sequence": [
                {"frame": f, "enabled": True, "rotation": 0, "x": 5 + 40 * n / 2, "y": (7 * i) % 80, "width": 10,
                 "height": 10, "time": f / 25} for n, f in enumerate(keys)]}}


def open_times(server: Server, project: int, task: int, repeat: int) -> tuple[float, float]:
    with closing(browser(server, EMAIL, PASSWORD)) as web:
        web.get(f"/projects/{project}/label/{task}")  # warm: templates, the config cache
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            assert web.get(f"/projects/{project}/label/{task}").status_code == 200
            samples.append(ms(start))
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def first_frame(server: Server, project: int, task: int) -> tuple[float, float] | None:
    """(ms to the workspace ready, ms to the first video frame shown), from the navigation's start."""
    if not os.path.exists(CHROMIUM):
        return None
    with chromium_page(server, EMAIL, PASSWORD) as page:
        page.goto(f"/projects/{project}/label/{task}")
        page.wait_for_function("() => window.lwVideoFirstFrame && document.querySelector('.lw-workspace[data-ready]')",
                               timeout=30_000)
        return page.evaluate("() => [performance.getEntriesByType('navigation')[0].domInteractive, "
                             "window.lwVideoFirstFrame]")


def export_rate(server: Server, project: int, task: int, tracks: int, frames: int) -> None:
    api = server.client(token="bench", timeout=600)
    result = [track(i, frames) for i in range(tracks)]
    saved = api.post(f"/api/tasks/{task}/annotations", json={"result": result})
    assert saved.status_code == 201, saved.text[:300]
    for expand in (False, True):
        start = time.perf_counter()
        body = api.get(f"/api/projects/{project}/export", params={
            "exportType": "JSON", "ids": task, "interpolate_key_frames": "true" if expand else "false"}).json()
        took = ms(start)
        rows = sum(len(item["value"]["sequence"]) for a in body[0]["annotations"] for item in a["result"])
        what = "every frame" if expand else "keyframes only"
        print(f"export JSON, {tracks} tracks x {frames:,} frames, {what}: {rows:,} boxes in {took:.0f} ms "
              f"({rows / took * 1000:,.0f} boxes/s)")


def run(small: bool, repeat: int | None = None, tracks: int | None = None, frames: int | None = None) -> None:
    repeat = repeat or (3 if small else 30)
    tracks, frames = tracks or (2 if small else 10), frames or (100 if small else 1000)
    folder = Path(tempfile.mkdtemp(prefix="labelwell-bench-video-"))
    server = launch(folder / "data", f"sqlite:///{folder / 'bench.sqlite3'}", {
        "LABELWELL_USER_TOKEN": "bench", "LABELWELL_PASSWORD": PASSWORD, "LABELWELL_USERNAME": EMAIL})
    try:
        api = server.client(token="bench", timeout=600)
        project = api.post("/api/projects", json={"title": "Video bench", "label_config": TRACKING}).json()["id"]
        video = make_square(folder / "square.webm")
        assert api.post(f"/api/projects/{project}/import", files=[("file", ("square.webm", video.read_bytes()))]).status_code == 201
        (first,) = api.get(f"/api/tasks?project={project}").json()["tasks"]
        api.post(f"/api/tasks/{first['id']}/annotations", json={"result": [track(0, 75)]})
        p50, p95 = open_times(server, project, first["id"], repeat)
        print(f"workspace open (server GET of a video task with a track): p50 {p50:.1f} ms, p95 {p95:.1f} ms "
              f"over {repeat} requests")
        shown = first_frame(server, project, first["id"])
        if shown is None:
            print(f"first frame: skipped ({CHROMIUM} is missing)")
        else:
            print(f"in Chromium: workspace interactive at {shown[0]:.0f} ms, first video frame shown at {shown[1]:.0f} ms")
        assert api.post(f"/api/projects/{project}/import", json=[{"video": first["data"]["video"]}]).status_code == 201
        second = max(t["id"] for t in api.get(f"/api/tasks?project={project}").json()["tasks"])
        export_rate(server, project, second, tracks, frames)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a smoke run: small sizes")
    parser.add_argument("--repeat", type=int, help="page loads to time (30)")
    parser.add_argument("--tracks", type=int, help="tracks in the exported task (10)")
    parser.add_argument("--frames", type=int, help="frames of each track (1000)")
    args = parser.parse_args()
    run(args.small, args.repeat, args.tracks, args.frames)


if __name__ == "__main__":
    main()
