"""Audio and video at the speed of text (issue 18): how long an audio task takes to open when its
file is one minute long and when it is two hours long, and what the waveform's peaks cost.

Per file (generated with ffmpeg: a 440 Hz tone at 8 kHz in FLAC, --short and --long seconds):
1. upload and import it, then the worker computes its peaks once: seconds, and seconds per hour of audio;
2. server time: GET the workspace page of its task (--requests times, median ms), as the browser asks for it;
3. browser time: in Chromium, from the page's start until the waveform is drawn (`data-drawn-at`,
   which static/audio-tools.js sets at its first draw), median of --loads loads.
Then the long file over the short one, for both times: the goal is under 2x, however long the file.

    .venv/bin/python bench/media.py                              # 1 minute vs 2 hours
    .venv/bin/python bench/media.py --long 600 --requests 3 --loads 1 --small-video   # the smoke run

and then the video part (bench/video.py, which also runs alone): the video workspace's open time
and the export of 10,000 tracked frames expanded per frame.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import Server, browser, chromium_page, launch  # noqa: E402

CONFIG = """<View>
  <Labels name="labels" toName="audio"><Label value="Speech"/><Label value="Noise"/></Labels>
  <Audio name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" perRegion="true"/>
</View>"""
EMAIL, PASSWORD = "bench@example.com", "bench-pass"


def generate(path: Path, seconds: int) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=f=440:r=8000:d={seconds}",
                    "-c:a", "flac", str(path)], check=True, timeout=600)


def wait_job(api: httpx.Client, project: int, timeout: float = 900) -> dict:
    """The project's peaks job, once finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [j for j in api.get(f"/api/projects/{project}/jobs").json() if j["kind"] == "audio_peaks"]
        if jobs and jobs[0]["state"] in ("done", "failed"):
            assert jobs[0]["state"] == "done", jobs[0]
            return jobs[0]
        time.sleep(0.1)
    raise AssertionError("the peaks job did not finish")


def audio_task(api: httpx.Client, path: Path) -> tuple[int, int, dict]:
    """A project whose one task is the uploaded file: (project, task, the peaks job)."""
    project = api.post("/api/projects", json={"title": f"Media bench {path.stem}", "label_config": CONFIG}).json()["id"]
    with open(path, "rb") as fh:
        response = api.post(f"/api/projects/{project}/import", files=[("file", (path.name, fh))])
    assert response.status_code == 201, response.text[:300]
    task = api.get(f"/api/tasks?project={project}").json()["tasks"][0]["id"]
    return project, task, wait_job(api, project)


def server_ms(web: httpx.Client, url: str, n: int) -> float:
    web.get(url)  # warm
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = web.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200 and "lw-audio-wave" in response.text, response.status_code
    return statistics.median(samples)


def browser_ms(server: Server, url: str, n: int) -> float:
    """Median ms from the page's start until its waveform is drawn, in Chromium."""
    with chromium_page(server, EMAIL, PASSWORD, {"width": 1100, "height": 800}) as page:
        samples = []
        for _ in range(n + 1):  # the first load fills the browser's cache, as an annotator's second task would
            page.goto(url)
            page.wait_for_selector(".lw-audio-wave[data-drawn=true]", timeout=60_000)
            samples.append(float(page.get_attribute(".lw-audio-wave", "data-drawn-at")))
        return statistics.median(samples[1:])


def audio_section(server: Server, args: argparse.Namespace, folder: Path) -> None:
    api = server.client(token="bench", timeout=600)
    figures = {}
    with closing(browser(server, EMAIL, PASSWORD)) as web:
        for name, seconds in (("short", args.short), ("long", args.long)):
            path = folder / f"{name}.flac"
            start = time.perf_counter()
            generate(path, seconds)
            made = time.perf_counter() - start
            project, task, job = audio_task(api, path)
            took = job["result"]["took"]
            url = f"/projects/{project}/label/{task}"
            figures[name] = (server_ms(web, url, args.requests), browser_ms(server, url, args.loads))
            print(f"[audio] {seconds:>6,} s file ({path.stat().st_size / 1e6:.1f} MB FLAC, made in {made:.1f} s): "
                  f"peaks in {took:.2f} s ({took / seconds * 3600:.1f} s per hour of audio, "
                  f"{job['result']['bytes'] / 1e3:.0f} kB); workspace page {figures[name][0]:.1f} ms on the server, "
                  f"waveform drawn {figures[name][1]:.0f} ms after the page started")
            path.unlink()
    (short_server, short_browser), (long_server, long_browser) = figures["short"], figures["long"]
    print(f"[audio] {args.long:,} s over {args.short:,} s: server {long_server / short_server:.2f}x, "
          f"browser {long_browser / short_browser:.2f}x (goal: under 2x)")


def video_section(server: Server, args: argparse.Namespace, folder: Path) -> None:
    """bench/video.py, on a server of its own: the video workspace's open time and the export of
    tracks expanded to every frame (10 tracks x 1,000 frames; --small-video for a smoke run)."""
    from bench import video

    if not args.no_video:
        video.run(small=args.small_video)


# what this benchmark measures, in order
SECTIONS: list[tuple[str, Callable[[Server, argparse.Namespace, Path], None]]] = [("audio", audio_section),
                                                                                   ("video", video_section)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", type=int, default=60, help="seconds of the short audio file")
    parser.add_argument("--long", type=int, default=7200, help="seconds of the long audio file")
    parser.add_argument("--requests", type=int, default=20, help="server page loads of each task")
    parser.add_argument("--loads", type=int, default=5, help="browser page loads of each task")
    parser.add_argument("--small-video", action="store_true", help="the video part at smoke-run sizes")
    parser.add_argument("--no-video", action="store_true", help="the audio part only")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is not installed (apt-get install ffmpeg)")
    folder = Path(tempfile.mkdtemp(prefix="labelwell-bench-media-"))
    server = launch(folder / "data", f"sqlite:///{folder / 'bench.sqlite3'}",
                    {"LABELWELL_USER_TOKEN": "bench", "LABELWELL_PASSWORD": PASSWORD, "LABELWELL_USERNAME": EMAIL})
    try:
        server.start_worker()
        for _, section in SECTIONS:
            section(server, args, folder)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
