"""<Video> in a real browser (Debian's Chromium) on a generated moving square (tests/test_video.py): the
frame counter is the file's, frame keys step exactly one frame and the picture shows that frame, a
square tracked over 60 frames with three keyframes lands where the square is, a timeline span made by
keys is stored in exact frames, choices on the whole video, and the page's controls are reachable
and named."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from components.video_rectangle import box_at
from tests.test_browser import log_in
from tests.test_video import CONFIGS, FPS, FRAMES, TRACKING, make_square, square_at
from tests.test_workspace_browser import annotations, ready

# where the square's left edge is in the picture on screen (drawn into a canvas at the file's size)
SQUARE_X = """() => {
    const v = document.querySelector('.lw-video video'), c = document.createElement('canvas');
    c.width = v.videoWidth; c.height = v.videoHeight;
    const g = c.getContext('2d'); g.drawImage(v, 0, 0);
    const row = g.getImageData(0, 120, c.width, 1).data;
    for (let x = 0; x < c.width; x++) if (row[4 * x] > 128) return x;
    return -1;
}"""


@pytest.fixture(scope="module")
def square(tmp_path_factory):
    return make_square(tmp_path_factory.mktemp("video") / "square.webm")


def open_video(page, api, make_project, make_user, square, config):
    """The labelling page of a project whose one task is the uploaded square, for a new annotator."""
    project = make_project(label_config=config)
    uploaded = api.post(f"/api/projects/{project['id']}/import", files=[("file", ("square.webm", square.read_bytes()))])
    assert uploaded.status_code == 201, uploaded.text
    user = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    page.wait_for_function("() => document.querySelector('.lw-video video').readyState >= 2", timeout=15_000)
    return project


def counter(page):
    return page.get_by_test_id("counter-video")


def settled(page) -> None:
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")


def go_to(page, frame: int) -> None:
    page.get_by_test_id("goto-video").fill(str(frame))
    page.get_by_test_id("goto-video").press("Enter")
    expect(counter(page)).to_have_text(f"frame {frame} / {FRAMES}")
    page.wait_for_function("() => !document.querySelector('.lw-video video').seeking")
    page.evaluate("document.activeElement.blur()")


def now(page) -> float:
    return page.evaluate("document.querySelector('.lw-video video').currentTime")


def test_the_counter_is_the_files_and_frame_keys_step_exactly_one_frame(page, server, api, make_project, make_user, square):
    open_video(page, api, make_project, make_user, square, TRACKING)
    expect(counter(page)).to_have_text(f"frame 1 / {FRAMES}")  # 75, as ffprobe counts the frames
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press(".")
    expect(counter(page)).to_have_text(f"frame 2 / {FRAMES}")
    assert abs(now(page) - 1.5 / FPS) < 1e-6  # the middle of frame 2
    page.keyboard.press(".")
    page.keyboard.press(",")
    expect(counter(page)).to_have_text(f"frame 2 / {FRAMES}")
    page.keyboard.press("ArrowRight")  # a second on: 25 frames
    expect(counter(page)).to_have_text(f"frame 27 / {FRAMES}")
    page.keyboard.press("Shift+ArrowLeft")  # 5 s back: clamped at the first frame
    expect(counter(page)).to_have_text(f"frame 1 / {FRAMES}")
    for frame in (1, 2, 38, FRAMES):  # the picture on screen is the frame the counter says, the last one too
        go_to(page, frame)
        page.wait_for_function(f"() => ({SQUARE_X})() === {20 + 2 * frame}", timeout=10_000)
    page.get_by_test_id("back-video").click()
    expect(counter(page)).to_have_text(f"frame {FRAMES - 1} / {FRAMES}")


def box_on_screen(page, region_id: str) -> dict[str, float]:
    style = page.get_by_test_id(f"box-{region_id}").evaluate(
        "b => ({x: parseFloat(b.style.left), y: parseFloat(b.style.top), width: parseFloat(b.style.width), "
        "height: parseFloat(b.style.height), hidden: b.hidden})")
    return style


def drag(page, overlay, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press at a point and release at another, both in percent of the picture."""
    area = overlay.bounding_box()
    page.mouse.move(area["x"] + area["width"] * start[0] / 100, area["y"] + area["height"] * start[1] / 100)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * (start[0] + end[0]) / 200, area["y"] + area["height"] * (start[1] + end[1]) / 200, steps=4)
    page.mouse.move(area["x"] + area["width"] * end[0] / 100, area["y"] + area["height"] * end[1] / 100, steps=4)
    page.mouse.up()


def test_track_the_square_over_60_frames_with_three_keyframes(page, server, api, make_project, make_user, square):
    project = open_video(page, api, make_project, make_user, square, TRACKING)
    truth = {f: square_at(square, f) for f in (1, 15, 30, 45, 60)}
    overlay = page.get_by_test_id("overlay-video")
    page.evaluate("document.querySelector('.lw-video video').lwMark = 'same element'")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("1")  # the label Man
    first = truth[1]
    drag(page, overlay, (first["x"], first["y"]), (first["x"] + first["width"], first["y"] + first["height"]))
    expect(page.locator(".lw-video-box[data-region]")).to_have_count(1)
    settled(page)
    region = page.locator(".lw-video-box[data-region]").get_attribute("data-region")
    for frame, before in ((30, 1), (60, 30)):  # on a later frame the box is where it was: move it onto the square
        go_to(page, frame)
        shown = box_on_screen(page, region)
        assert abs(shown["x"] - truth[before]["x"]) < 1
        middle = (shown["x"] + shown["width"] / 2, shown["y"] + shown["height"] / 2)
        drag(page, overlay, middle, (middle[0] + truth[frame]["x"] - truth[before]["x"], middle[1]))
        expect(page.locator(f".lw-region[data-region='{region}'] .lw-video-seek")).to_have_count(frame // 30 + 2)
        settled(page)
    for frame in (15, 45):  # in between, the box drawn is the interpolation: on the square
        go_to(page, frame)
        shown = box_on_screen(page, region)
        assert all(abs(shown[k] - truth[frame][k]) <= 1 for k in ("x", "y", "width", "height")), (frame, shown, truth[frame])
    # every change re-rendered the form; the player is the same element throughout (hx-preserve)
    assert page.evaluate("document.querySelector('.lw-video video').lwMark") == "same element"
    # "End" at frame 70: the box is gone after it
    go_to(page, 70)
    page.get_by_test_id(f"toggle-{region}").click()
    settled(page)
    go_to(page, 72)
    assert box_on_screen(page, region)["hidden"] is True
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()

    (stored,) = annotations(api, project["id"])
    (item,) = stored["result"]  # one item: the labels are inside the track, no separate labels item
    value = item["value"]
    assert item["type"] == "videorectangle" and value["labels"] == ["Man"]
    assert (value["framesCount"], abs(value["duration"] - 3.0) < 0.01) == (FRAMES, True)
    assert [(k["frame"], k["enabled"]) for k in value["sequence"]] == [(1, True), (30, True), (60, True), (70, False)]
    assert [k["time"] for k in value["sequence"]] == [0.04, 1.2, 2.4, 2.8]  # frame / fps, as Label Studio writes it
    for frame in (1, 15, 30, 45, 60):
        box = box_at(value["sequence"], frame)
        assert all(abs(box[k] - truth[frame][k]) <= 1 for k in ("x", "y", "width", "height")), (frame, box, truth[frame])


def test_a_timeline_span_by_keys_and_a_frame_by_click(page, server, api, make_project, make_user, square):
    project = open_video(page, api, make_project, make_user, square, (CONFIGS / "video-frame-classification.xml").read_text())
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("1")  # Movement
    go_to(page, 3)
    page.keyboard.press("[")
    page.keyboard.press(".")
    page.keyboard.press(".")
    expect(counter(page)).to_have_text(f"frame 5 / {FRAMES}")
    page.keyboard.press("]")
    expect(page.locator(".lw-video-span")).to_have_count(1)
    settled(page)
    timeline = page.get_by_test_id("timeline-video").bounding_box()
    page.keyboard.press("2")  # Still: a click on frame 40 marks that one frame
    page.mouse.click(timeline["x"] + timeline["width"] * 39.5 / FRAMES, timeline["y"] + timeline["height"] / 2)
    expect(page.locator(".lw-video-span")).to_have_count(2)
    settled(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    spans = sorted((r["value"] for r in stored["result"]), key=lambda v: v["ranges"][0]["start"])
    assert spans == [{"ranges": [{"start": 3, "end": 5}], "timelinelabels": ["Movement"]},
                     {"ranges": [{"start": 40, "end": 40}], "timelinelabels": ["Still"]}]


def test_choices_on_the_whole_video_and_every_control_is_named_and_reachable(page, server, api, make_project, make_user, square):
    config = TRACKING.replace("</View>", '<Choices name="quality" toName="video"><Choice value="Sharp"/>'
                              '<Choice value="Blurry"/></Choices></View>')
    project = open_video(page, api, make_project, make_user, square, config)
    problems = page.evaluate("""() => {
        const out = [];
        const named = (el) => (el.getAttribute('aria-label') || el.labels && [...el.labels].map(l => l.textContent).join('')
            || el.textContent || el.title || '').trim();
        for (const el of document.querySelectorAll('.lw-video button, .lw-video input:not([type=hidden]), .lw-video select, .lw-video video')) {
            if (!named(el)) out.push('no name: ' + el.outerHTML.slice(0, 80));
            if (el.tabIndex < 0) out.push('not reachable: ' + el.outerHTML.slice(0, 80));
            if (el.parentElement.closest('button, a, select, label > input')) out.push('nested: ' + el.outerHTML.slice(0, 80));
        }
        return out;
    }""")
    assert problems == []
    expect(page.get_by_role("toolbar", name="Player for video")).to_be_visible()
    page.get_by_role("radio", name="Blurry").check()
    settled(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    assert [(r["to_name"], r["value"]) for r in stored["result"]] == [("video", {"choices": ["Blurry"]})]


def test_a_synced_audio_plays_pauses_and_seeks_with_the_video(page, server, api, make_project, make_user, square):
    open_video(page, api, make_project, make_user, square, (CONFIGS / "video-timeline-segmentation.xml").read_text())
    player = "document.querySelector('.lw-video video')"
    sound = "document.querySelector('.lw-audio audio')"
    page.get_by_test_id("goto-video").fill("26")
    page.get_by_test_id("goto-video").press("Enter")
    page.wait_for_function(f"() => Math.abs({sound}.currentTime - 1.02) < 0.05")  # the audio went there too
    page.get_by_test_id("play-video").click()
    page.wait_for_function(f"() => !{sound}.paused && !{player}.paused")
    page.get_by_test_id("play-video").click()
    page.wait_for_function(f"() => {sound}.paused && {player}.paused")
    page.wait_for_function(f"() => Math.abs({sound}.currentTime - {player}.currentTime) < 0.05")
