"""The audio waveform (issue 18): peaks computed once by the worker from a generated tone with known
silences, drawn in a real browser (Debian's Chromium) over a timeline whose time-to-pixel mapping
is the file's own length; segments made, moved and resized by dragging and by keys, checked in
the stored annotation to within 20 ms; a two-hour file opened and labelled near its end; a file
that cannot be decoded shows the player and says there is no waveform."""

from __future__ import annotations

import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import missing
from tests.helpers import accessibility_problems
from tests.test_browser import log_in
from tests.test_workspace_browser import annotations, annotator_in, ready  # noqa: F401 (a fixture)

CONFIG = """<View>
  <Labels name="labels" toName="audio"><Label value="Speech"/><Label value="Noise"/></Labels>
  <Audio name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" perRegion="true"/>
</View>"""
RATE = 8000
# 6 s: silence, a loud 440 Hz tone from 1 s to 3 s, silence, the tone from 4 s to 5 s, silence
TONE = f"aevalsrc='0.5*sin(2*PI*440*t)*(between(t,1,3)+between(t,4,5))':s={RATE}:d=6"
LONG_SECONDS, LONG_TONE = 7200, (7190.0, 7195.0)


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


@pytest.fixture(scope="session")
def sounds(tmp_path_factory) -> Path:
    """The generated files, made once a session: a 6 s tone with silences, and two hours of silence
    with a tone 10 s before the end (8 kHz FLAC: a silent block costs a few bytes)."""
    if shutil.which("ffmpeg") is None:
        missing("ffmpeg is not installed (apt-get install ffmpeg)")
    folder = tmp_path_factory.mktemp("sounds")
    ffmpeg("-f", "lavfi", "-i", TONE, "-c:a", "pcm_s16le", str(folder / "tone.wav"))
    silent, (start, end) = f"anullsrc=r={RATE}:cl=mono:d=", LONG_TONE
    ffmpeg("-f", "lavfi", "-i", f"{silent}{start}", "-f", "lavfi", "-i", f"sine=f=440:r={RATE}:d={end - start}",
           "-f", "lavfi", "-i", f"{silent}{LONG_SECONDS - end}", "-filter_complex",
           "[1]volume=4[t];[0][t][2]concat=n=3:v=0:a=1", "-c:a", "flac", str(folder / "long.flac"))
    # stereo, 5 s: the left channel's tone from 1 s to 2 s, the right one's from 3 s to 4 s
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='0.5*sin(2*PI*440*t)*between(t,1,2)|0.5*sin(2*PI*440*t)*between(t,3,4)':"
           f"s={RATE}:d=5", "-c:a", "pcm_s16le", str(folder / "stereo.wav"))
    return folder


def upload(api, project_id: int, path: Path) -> str:
    """Import one audio file as a task; its address in the task's data."""
    response = api.post(f"/api/projects/{project_id}/import", files=[("file", (path.name, path.read_bytes()))])
    assert response.status_code == 201, response.text
    (task,) = api.get(f"/api/tasks?project={project_id}&fields=all").json()["tasks"]
    return task["data"]["audio"]


def peaks_of(api, address: str, timeout: float = 60, channels: int = 1) -> tuple[int, int, bytes]:
    """(buckets a second, count, min/max pairs) once the worker computed them."""
    deadline = time.monotonic() + timeout
    while (response := api.get(address + "/peaks")).status_code == 404:
        assert time.monotonic() < deadline, "no peaks after {timeout} s"
        time.sleep(0.1)
    assert response.status_code == 200
    magic, version, stored_channels, rate, count = struct.unpack("<4sHHII", response.content[:16])
    assert (magic, version, stored_channels) == (b"LWPK", 1, channels)
    return rate, count, response.content[16:]


def loudest(pairs: bytes, rate: int, start: float, end: float) -> int:
    """The largest |sample| (of 128) between two times."""
    window = struct.unpack(f"<{len(pairs)}b", pairs)[2 * int(start * rate):2 * int(end * rate)]
    return max(abs(v) for v in window)


def test_peaks_are_loud_where_the_tone_is_and_silent_elsewhere(api, worker, make_project, sounds):
    project = make_project(label_config=CONFIG)
    address = upload(api, project["id"], sounds / "tone.wav")
    rate, count, pairs = peaks_of(api, address)
    assert rate == 100 and count == 600 and len(pairs) == 1200
    for start, end in ((0, 0.99), (3.01, 3.99), (5.01, 6)):
        assert loudest(pairs, rate, start, end) <= 1, (start, end)
    for start, end in ((1.01, 2.99), (4.01, 4.99)):
        assert loudest(pairs, rate, start, end) >= 60, (start, end)  # 0.5 of full scale is 64
    # the tone starts within one bucket (10 ms) of 1 s
    assert loudest(pairs, rate, 0.98, 0.99) <= 1 and loudest(pairs, rate, 1.0, 1.02) >= 60
    # the same access rules as the file: nobody signed in gets nothing
    anonymous = api.get(address + "/peaks", headers={"Authorization": ""})
    assert anonymous.status_code in (302, 303, 401)


# -- in the browser ---------------------------------------------------------------------------------

@pytest.fixture
def audio_task(api, make_project, make_user):
    """make(file) -> (project, annotator): a project whose one task is the uploaded file."""

    def make(path: Path) -> tuple[dict, dict, str]:
        project, user = make_project(label_config=CONFIG), make_user()
        address = upload(api, project["id"], path)
        api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
        return project, user, address

    return make


def open_task(page, user, project) -> None:
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)


def drawn(page) -> None:
    expect(page.get_by_test_id("wave-audio")).to_have_attribute("data-drawn", "true", timeout=30_000)


def x_of(page, seconds: float, length: float) -> float:
    """Where a time is on screen: the timeline's box and the file's length."""
    box = page.get_by_test_id("timeline-audio").bounding_box()
    return box["x"] + seconds / length * box["width"]


def drag(page, x0: float, x1: float, y: float) -> None:
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, y, steps=4)
    page.mouse.move(x1, y, steps=4)
    page.mouse.up()


def mid_y(page) -> float:
    box = page.get_by_test_id("timeline-audio").bounding_box()
    return box["y"] + box["height"] / 2


def settled(page) -> None:
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")


def segments(page) -> list[dict]:
    return page.evaluate("""[...document.querySelectorAll('.lw-audio-segment')].map(s => ({
        id: s.dataset.region, start: +s.dataset.start, end: +s.dataset.end}))""")


# the tallest mark the canvas holds in a column range (in canvas pixels): how loud it was drawn
COLUMN_HEIGHT = """([from, to]) => {
    const c = document.querySelector('.lw-audio-canvas'), g = c.getContext('2d');
    const img = g.getImageData(0, 0, c.width, c.height).data;
    let most = 0;
    for (let x = Math.max(0, Math.floor(from)); x < Math.min(c.width, Math.ceil(to)); x++) {
        let n = 0;
        for (let y = 0; y < c.height; y++) if (img[(y * c.width + x) * 4 + 3] > 0) n++;
        most = Math.max(most, n);
    }
    return [most, c.height];
}"""


def canvas_columns(page, start: float, end: float, length: float) -> list[float]:
    """The canvas columns (device pixels) between two times, when the whole file is in view."""
    ratio = page.evaluate("window.devicePixelRatio")
    box = page.get_by_test_id("timeline-audio").bounding_box()
    return [start / length * box["width"] * ratio, end / length * box["width"] * ratio]


def test_waveform_drawn_and_segments_by_dragging(page, server, api, worker, audio_task, sounds):
    project, user, _ = audio_task(sounds / "tone.wav")
    open_task(page, user, project)
    drawn(page)
    # loud where the tone is, a flat line in the silences
    for start, end in ((1.1, 2.9), (4.1, 4.9)):
        height, full = page.evaluate(COLUMN_HEIGHT, canvas_columns(page, start, end, 6))
        assert height >= 0.4 * full, (start, end, height, full)
    for start, end in ((0.05, 0.95), (3.1, 3.9), (5.1, 5.9)):
        height, full = page.evaluate(COLUMN_HEIGHT, canvas_columns(page, start, end, 6))
        assert height <= 0.05 * full + 2, (start, end, height, full)
    expect(page.get_by_test_id("clock-audio")).to_contain_text("/ 6.00 s")

    # the cursor at a known time sits where the time maps to
    page.get_by_test_id("goto-audio").fill("2.5")
    page.get_by_test_id("goto-audio").press("Enter")
    cursor = page.locator(".lw-audio-cursor").bounding_box()
    assert abs(cursor["x"] - x_of(page, 2.5, 6)) <= 1.5

    # drag with a label pressed: a segment over the first tone
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("1")  # Speech
    drag(page, x_of(page, 1.0, 6), x_of(page, 3.0, 6), mid_y(page))
    expect(page.locator(".lw-audio-segment")).to_have_count(1)
    settled(page)
    (made,) = segments(page)
    assert abs(made["start"] - 1.0) <= 0.02 and abs(made["end"] - 3.0) <= 0.02

    # its body dragged 1 s later, then its end edge dragged to the end of the silence after it
    seg = page.locator(".lw-audio-segment").first.bounding_box()
    drag(page, seg["x"] + seg["width"] / 2, seg["x"] + seg["width"] / 2 + (x_of(page, 1, 6) - x_of(page, 0, 6)), mid_y(page))
    settled(page)
    (moved,) = segments(page)
    assert abs(moved["start"] - 2.0) <= 0.02 and abs(moved["end"] - 4.0) <= 0.02
    edge = page.locator(".lw-audio-segment [data-edge=end]").first.bounding_box()
    drag(page, edge["x"] + edge["width"] / 2, x_of(page, 5.0, 6), mid_y(page))
    settled(page)
    (resized,) = segments(page)
    assert abs(resized["start"] - 2.0) <= 0.02 and abs(resized["end"] - 5.0) <= 0.02

    # keys for the selected segment: Alt+arrow moves it 0.1 s; Alt+[ sets its start to the playback position
    page.locator(".lw-audio-segment").first.click()
    page.keyboard.press("Alt+ArrowLeft")
    settled(page)
    (nudged,) = segments(page)
    assert nudged["start"] == pytest.approx(resized["start"] - 0.1, abs=1e-6)
    assert nudged["end"] == pytest.approx(resized["end"] - 0.1, abs=1e-6)
    page.locator(".lw-audio-segment").first.click()
    page.get_by_test_id("goto-audio").fill("1")
    page.get_by_test_id("goto-audio").press("Enter")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Alt+BracketLeft")
    settled(page)
    (keyed,) = segments(page)
    assert keyed["start"] == 1.0 and keyed["end"] == pytest.approx(nudged["end"], abs=1e-6)

    # an overlapping segment goes to a lane of its own: both stay clickable
    page.keyboard.press("Escape")
    page.keyboard.press("2")  # Noise
    drag(page, x_of(page, 5.0, 6), x_of(page, 4.0, 6), mid_y(page))  # from free space, over the first
    expect(page.locator(".lw-audio-segment")).to_have_count(2)
    settled(page)
    first, second = (page.locator(".lw-audio-segment").nth(i).bounding_box() for i in range(2))
    assert first["y"] + first["height"] <= second["y"] + 0.5 or second["y"] + second["height"] <= first["y"] + 0.5
    for i in range(2):
        page.locator(".lw-audio-segment").nth(i).click()
        expect(page.locator(".lw-audio-segment").nth(i)).to_have_class("lw-audio-segment lw-selected")
    assert accessibility_problems(page, ".lw-audio") == []
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()

    (stored,) = annotations(api, project["id"])
    labels = {r["value"]["labels"][0]: r for r in stored["result"] if r["type"] == "labels"}
    assert labels["Speech"]["value"]["start"] == 1.0
    assert abs(labels["Speech"]["value"]["end"] - 4.9) <= 0.02
    assert abs(labels["Noise"]["value"]["start"] - 4.0) <= 0.02 and abs(labels["Noise"]["value"]["end"] - 5.0) <= 0.02
    assert labels["Noise"]["original_length"] == 6.0  # ffprobe's length, not the browser's estimate


def test_a_two_hour_file_opens_and_is_labelled_near_its_end(page, server, api, worker, audio_task, sounds):
    project, user, address = audio_task(sounds / "long.flac")
    peaks_of(api, address)
    open_task(page, user, project)
    drawn(page)
    expect(page.get_by_test_id("clock-audio")).to_contain_text(f"/ {LONG_SECONDS:.2f} s")
    # zoom in until 20 ms are more than a pixel, then go near the end: it scrolls into view
    for _ in range(10):
        page.keyboard.press("+")
    expect(page.get_by_test_id("zoom-audio")).to_have_text("1024×")
    page.get_by_test_id("goto-audio").fill(str(LONG_TONE[0] - 0.5))
    page.get_by_test_id("goto-audio").press("Enter")
    page.evaluate("document.activeElement.blur()")
    start, end = LONG_TONE
    scroll = page.get_by_test_id("scroll-audio").bounding_box()
    for t in (start, end):
        assert scroll["x"] <= x_of(page, t, LONG_SECONDS) <= scroll["x"] + scroll["width"], "not scrolled into view"
    expect(page.get_by_test_id("wave-audio")).to_have_attribute("data-drawn", "true")
    left = page.evaluate("document.querySelector('.lw-audio-scroll').scrollLeft")
    ratio = page.evaluate("window.devicePixelRatio")
    width = page.get_by_test_id("timeline-audio").bounding_box()["width"]
    to_canvas = lambda t: (t / LONG_SECONDS * width - left) * ratio  # noqa: E731
    height, full = page.evaluate(COLUMN_HEIGHT, [to_canvas(start + 0.5), to_canvas(end - 0.5)])
    assert height >= 0.4 * full
    height, _ = page.evaluate(COLUMN_HEIGHT, [to_canvas(start - 1.5), to_canvas(start - 0.2)])
    assert height <= 0.05 * full + 2

    page.keyboard.press("1")
    drag(page, x_of(page, start, LONG_SECONDS), x_of(page, end, LONG_SECONDS), mid_y(page))
    expect(page.locator(".lw-audio-segment")).to_have_count(1)
    settled(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    (segment,) = [r for r in stored["result"] if r["type"] == "labels"]
    assert abs(segment["value"]["start"] - start) <= 0.02 and abs(segment["value"]["end"] - end) <= 0.02
    assert segment["original_length"] == LONG_SECONDS


def test_no_waveform_is_said_and_the_player_still_works(page, server, api, worker, audio_task, annotator_in,  # noqa: F811
                                                        sounds):
    project, user, address = audio_task(sounds / "tone.wav")
    peaks_of(api, address)
    # the stored file is damaged afterwards (a disk, a hand): its peaks are gone and ffmpeg cannot decode it
    stored = server.data_dir / "upload" / address.removeprefix("/data/upload/")
    stored.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(64))
    (stored.parent / (stored.name + ".peaks")).unlink()
    open_task(page, user, project)
    expect(page.get_by_test_id("wave-note-audio")).to_contain_text("being computed")
    deadline = time.monotonic() + 30
    while "No waveform" not in (note := page.get_by_test_id("wave-note-audio").text_content()):
        assert time.monotonic() < deadline, note
        time.sleep(0.3)
        page.reload()
        ready(page)
    expect(page.get_by_test_id("wave-note-audio")).to_contain_text("ffmpeg cannot decode")
    expect(page.get_by_test_id("player-audio")).to_be_visible()
    assert page.get_by_test_id("wave-audio").get_attribute("data-drawn") is None
    response = api.get(address + "/peaks")
    assert response.status_code == 404

    # audio that is not uploaded here (a data: URI) plays, and the page says why there is no waveform
    other, _ = annotator_in(CONFIG, [{"audio": "data:audio/wav;base64,UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="}])
    api.post(f"/api/projects/{other['id']}/members", json={"user": user["id"]})
    page.goto(f"/projects/{other['id']}/label")
    ready(page)
    expect(page.get_by_test_id("wave-note-audio")).to_contain_text("No waveform")


def test_a_spectrogram_when_the_config_asks(page, server, api, worker, make_project, make_user, sounds):
    project = make_project(label_config=CONFIG.replace('<Audio name="audio"',
                                                       '<Audio name="audio" spectrogram="true" defaultzoom="4"'))
    user = make_user()
    address = upload(api, project["id"], sounds / "tone.wav")
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    open_task(page, user, project)
    drawn(page)
    picture = page.get_by_test_id("spectrogram-audio").locator("img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle(), timeout=30_000)
    assert picture.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [2048, 160]
    # the config's zoom to start with; the picture as wide as the waveform's timeline, at every zoom
    expect(page.get_by_test_id("zoom-audio")).to_have_text("4×")
    scroll = page.get_by_test_id("scroll-audio").bounding_box()
    assert abs(page.get_by_test_id("timeline-audio").bounding_box()["width"] - 4 * scroll["width"]) <= 2
    page.get_by_test_id("zoom-in-audio").click()
    expect(page.get_by_test_id("zoom-audio")).to_have_text("8×")
    assert abs(picture.bounding_box()["width"] - page.get_by_test_id("timeline-audio").bounding_box()["width"]) <= 1
    # the same access rules as the file
    assert api.get(address + "/spectrogram").headers["content-type"] == "image/png"
    assert api.get(address + "/spectrogram", headers={"Authorization": ""}).status_code in (302, 303, 401)


def in_thread(coroutine):
    """asyncio.run away from Playwright's own loop (the browser tests run one in this thread)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_an_interrupted_or_failed_computation_leaves_no_half_file(tmp_path, sounds, monkeypatch):
    import asyncio

    from app.jobs import JobFailed
    from app.uploads import media_store, waveform

    monkeypatch.setattr(media_store, "current", lambda: media_store.Folder(tmp_path))  # the upload folder is this one

    stored = tmp_path / "long.flac"
    shutil.copy(sounds / "long.flac", stored)

    async def interrupted() -> None:
        task = asyncio.ensure_future(waveform.compute("long.flac"))
        await asyncio.sleep(0.3)  # decoding two hours takes longer
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    in_thread(interrupted())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.flac"]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(64))
    with pytest.raises(JobFailed, match="ffmpeg cannot decode"):
        in_thread(waveform.compute("broken.wav"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.wav", "broken.wav.peaks-error", "long.flac"]
    assert (tmp_path / waveform.error_key("broken.wav")).read_text().startswith("ffmpeg cannot decode this audio")


def test_split_channels_a_waveform_and_segments_per_channel(page, server, api, worker, make_project, make_user,
                                                           sounds):
    project = make_project(label_config=CONFIG.replace('<Audio name="audio"', '<Audio name="audio" splitchannels="true"'))
    user = make_user()
    address = upload(api, project["id"], sounds / "stereo.wav")
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    rate, count, pairs = peaks_of(api, address, channels=2)
    values = struct.unpack(f"<{len(pairs)}b", pairs)  # min, max of the left channel, then of the right, a bucket

    def loudest_of(channel: int, start: float, end: float) -> int:
        window = values[4 * int(start * rate):4 * int(end * rate)]
        return max(abs(v) for v in window[2 * channel::4] + window[2 * channel + 1::4])

    left, right = (lambda a, b: loudest_of(0, a, b)), (lambda a, b: loudest_of(1, a, b))  # noqa: E731
    assert count == 500 and left(1.01, 1.99) >= 60 and right(1.01, 1.99) <= 1
    assert right(3.01, 3.99) >= 60 and left(3.01, 3.99) <= 1
    open_task(page, user, project)
    drawn(page)
    # the lower band is the right channel: a drag there makes a segment of channel 1
    box = page.get_by_test_id("timeline-audio").bounding_box()
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("1")
    drag(page, x_of(page, 3.0, 5), x_of(page, 4.0, 5), box["y"] + box["height"] * 0.75)
    expect(page.locator(".lw-audio-segment")).to_have_count(1)
    settled(page)
    seg = page.locator(".lw-audio-segment").first.bounding_box()
    assert seg["y"] >= box["y"] + box["height"] / 2 - 1  # drawn in the right channel's band
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    (segment,) = [r for r in stored["result"] if r["type"] == "labels"]
    assert segment["value"]["channel"] == 1
    assert abs(segment["value"]["start"] - 3.0) <= 0.02 and abs(segment["value"]["end"] - 4.0) <= 0.02
