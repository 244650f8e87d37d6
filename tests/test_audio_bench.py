"""bench/media.py's smoke run: a one-minute and a ten-minute file, peaks, page and waveform times, and
the video part (bench/video.py) at small sizes."""

from __future__ import annotations

import os
import shutil

from tests.conftest import CHROMIUM, missing
from tests.helpers import run_bench


def test_media_benchmark_smoke_run(tmp_path):
    if shutil.which("ffmpeg") is None or not os.path.exists(CHROMIUM):
        missing("the media benchmark needs ffmpeg and Chromium")
    out = run_bench(tmp_path, "bench/media.py", "--long", "600", "--requests", "3", "--loads", "1", "--small-video",
                    timeout=180)
    assert out.stdout.count("per hour of audio") == 2
    assert "600 s over 60 s: server" in out.stdout and "(goal: under 2x)" in out.stdout
    # and the video part (bench/video.py) at its smoke sizes: 2 tracks x 100 frames expanded
    assert "workspace open (server GET of a video task" in out.stdout and "first video frame shown" in out.stdout
    assert "200 boxes" in out.stdout and "boxes/s" in out.stdout
