"""<Video>, <VideoRectangle>, <TimelineLabels> (issue 18, video): the config rules, tracks checked and
interpolated as Label Studio reads them (never toward (0, 0)), results over HTTP exactly as Label
Studio writes them, and the export option that writes a box for every frame. The video is a moving
square generated with ffmpeg; where the square is on each frame is read back from the file."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from components import LabelConfig, parse_config
from components.video import frame_rate
from components.video_rectangle import box_at, every_frame, track, with_every_frame
from tests.conftest import missing
from tests.helpers import browser, html
from tests.test_export_snapshots import wait_status

CONFIGS = Path(__file__).resolve().parent / "data" / "configs" / "video"
TRACKING = (CONFIGS / "video-object-tracking.xml").read_text()
WIDTH, HEIGHT, FPS, SECONDS = 320, 240, 25, 3
FRAMES = FPS * SECONDS


def make_square(path: Path) -> Path:
    """3 s at 25 fps, 320x240, VP8 (Chromium plays it): a white 40 px square moving right 2 px a frame."""
    if shutil.which("ffmpeg") is None:
        missing("ffmpeg is not installed (apt-get install ffmpeg)")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c=black:s={WIDTH}x{HEIGHT}:r={FPS}:d={SECONDS}",
                    "-f", "lavfi", "-i", f"color=c=white:s=40x40:r={FPS}:d={SECONDS}", "-filter_complex",
                    "[0][1]overlay=x='20+2*n':y=100:shortest=1", "-c:v", "libvpx", "-b:v", "400k", "-an", str(path)],
                   check=True, timeout=60)
    return path


def square_at(path: Path, frame: int) -> dict[str, float]:
    """Where the square is on a 1-based frame, in percent of the frame, read from the decoded file."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"select=eq(n\\,{frame - 1})", "-vframes", "1",
                          "-f", "rawvideo", "-pix_fmt", "gray", "-"], capture_output=True, check=True, timeout=60).stdout
    lit = [(i % WIDTH, i // WIDTH) for i, b in enumerate(raw) if b > 128]
    xs, ys = [p[0] for p in lit], [p[1] for p in lit]
    return {"x": 100 * min(xs) / WIDTH, "y": 100 * min(ys) / HEIGHT, "width": 100 * (max(xs) + 1 - min(xs)) / WIDTH,
            "height": 100 * (max(ys) + 1 - min(ys)) / HEIGHT}


@pytest.fixture(scope="module")
def square(tmp_path_factory) -> Path:
    return make_square(tmp_path_factory.mktemp("video") / "square.webm")


def keyframe(frame: int, box: dict[str, float], enabled: bool = True) -> dict:
    return {"frame": frame, "enabled": enabled, "rotation": 0, **box, "time": frame / FPS}


def close(a: dict, b: dict, within: float = 1.0) -> bool:
    return all(abs(a[k] - b[k]) <= within for k in ("x", "y", "width", "height"))


# -- the config --------------------------------------------------------------------------------------

def test_frame_rate_is_read_as_label_studio_reads_it():
    assert frame_rate("25") == 25 and frame_rate(29.97) == 29.97
    assert frame_rate("0.04") == 25  # below 1: seconds per frame
    for odd in ("0", "NaN", "-3", "fast", None):
        assert frame_rate(odd) == 24
    config = parse_config('<View><Video name="v" value="$video" frameRate="$fps"/></View>')
    ctx = config.context({"video": "/v.webm", "fps": 30})
    assert config.by_name["v"].fps(ctx) == 30
    # the file's own rate (ffprobe's) when the config gives none; the config's wins when it does
    ctx.media = {"/v.webm": {"frame_rate": 50.0, "frame_count": 150}}
    assert parse_config('<View><Video name="v" value="$video"/></View>').by_name["v"].fps(ctx) == 50
    assert parse_config('<View><Video name="v" value="$video" framerate="25"/></View>').by_name["v"].fps(ctx) == 25


def test_video_attributes_are_checked_naming_line_and_attribute():
    config = LabelConfig('<View>\n<Video name="v" value="$v" frameRate="fast" defaultPlaybackSpeed="20" '
                         'minPlaybackSpeed="slow" height="-5" muted="maybe"/>\n</View>')
    found = {(e.line, e.attribute) for e in config.errors}
    assert {(2, "frameRate"), (2, "defaultPlaybackSpeed"), (2, "minPlaybackSpeed"), (2, "height"), (2, "muted")} <= found
    assert any("0.05 to 10" in e.message for e in config.errors)
    assert [e.message for e in LabelConfig('<View><Video name="v"/></View>').errors] == ["<Video> needs a value."]
    low = LabelConfig('<View><Video name="v" value="$v" defaultPlaybackSpeed="0.5" minPlaybackSpeed="1"/></View>')
    assert [e.attribute for e in low.errors] == ["defaultPlaybackSpeed"]
    wrong = LabelConfig('<View><Text name="t" value="$t"/><VideoRectangle name="b" toName="t"/></View>')
    assert any("cannot label <Text>" in e.message for e in wrong.errors)


def test_label_studios_video_templates_are_accepted():
    for path in sorted(CONFIGS.glob("*.xml")):
        assert LabelConfig(path.read_text()).errors == [], path.name
    assert len(list(CONFIGS.glob("*.xml"))) == 4


# -- tracks: the check and the interpolation -----------------------------------------------------------

def test_the_interpolated_box_follows_the_square(square):
    truth = {f: square_at(square, f) for f in (1, 15, 30, 45, 60, 70)}
    sequence = [keyframe(f, truth[f]) for f in (1, 30, 60)]
    for frame in (15, 45):
        assert close(box_at(sequence, frame), truth[frame]), frame
    assert box_at(sequence, 70) == {"rotation": 0, **truth[60]}  # after the last keyframe it stays
    assert abs(box_at(sequence, 15)["x"] - truth[15]["x"]) < 0.01  # linear motion: exact, not only within 1%


def test_gaps_and_no_box_toward_zero():
    a = {"x": 40, "y": 40, "width": 10, "height": 10}
    sequence = [keyframe(10, a), keyframe(20, {**a, "x": 60}, enabled=False), keyframe(30, {**a, "x": 20})]
    assert box_at(sequence, 9) is None  # before its first keyframe: no box, not a box at (0, 0)
    assert box_at(sequence, 15)["x"] == 50
    assert box_at(sequence, 20)["x"] == 60  # the keyframe that ends it still shows
    assert box_at(sequence, 25) is None and box_at(sequence, 30)["x"] == 20
    # a keyframe without its box (Label Studio #5559 interpolates it toward 0) is refused by name
    missing_width = {"framesCount": 40, "duration": 1.6, "sequence": [keyframe(1, a), {"frame": 5, "enabled": True, "x": 1, "y": 2,
                                                                                       "height": 3, "time": 0.2}]}
    with pytest.raises(ValueError, match=r"value.sequence\[1\].width must be a number from 0 to 100"):
        track(missing_width)


@pytest.mark.parametrize(("change", "words"), [
    (lambda v: v["sequence"].reverse(), "value.sequence must be sorted by frame"),
    (lambda v: v["sequence"][1].update(frame=99), r"value.sequence\[1\].frame must be a frame number from 1 to 75"),
    (lambda v: v["sequence"][0].update(x=95), r"value.sequence\[0\]: the box .*outside the frame"),
    (lambda v: v["sequence"][0].update(frame=0), r"value.sequence\[0\].frame must be a frame number"),
    (lambda v: v["sequence"][0].update(enabled="yes"), r"value.sequence\[0\].enabled must be true or false"),
    (lambda v: v["sequence"][0].pop("time"), r"value.sequence\[0\].time must be"),
    (lambda v: v.update(framesCount=0), "value.framesCount must be a positive whole number"),
    (lambda v: v.update(sequence=[]), "value.sequence must be a list of at least one keyframe"),
])
def test_a_bad_track_is_refused_naming_the_field(change, words):
    value = {"framesCount": FRAMES, "duration": 3.0, "sequence": [keyframe(1, {"x": 6, "y": 41, "width": 12.5, "height": 16}),
                                                                   keyframe(30, {"x": 25, "y": 41, "width": 12.5, "height": 16})]}
    change(value)
    with pytest.raises(ValueError, match=words):
        track(value)


def test_every_frame_is_label_studios_interpolate_key_frames():
    a = {"x": 10, "y": 20, "width": 30, "height": 40}
    value = {"framesCount": 8, "duration": 0.32, "sequence": [keyframe(2, a), keyframe(4, {**a, "x": 20}),
                                                              keyframe(5, {**a, "x": 20}, enabled=False), keyframe(7, a)]}
    frames = list(every_frame(track(value)))
    assert [f["frame"] for f in frames] == [2, 3, 4, 5, 7, 8]  # frame 6 is in the gap; 8 is after the last one
    assert frames[1] == {"frame": 3, "enabled": True, "rotation": 0, "x": 15, "y": 20, "width": 30, "height": 40,
                         "time": 0.12, "auto": True}
    assert frames[5] == {"frame": 8, "enabled": True, "rotation": 0, **a, "time": 0.32, "auto": True}
    assert frames[0] == keyframe(2, a) and "auto" not in frames[2]
    untouched = [{"type": "choices", "value": {"choices": ["a"]}}, {"type": "videorectangle", "value": {"sequence": "no"}}]
    assert with_every_frame(untouched) == untouched


# -- over HTTP -------------------------------------------------------------------------------------

def label_studio_track(square: Path) -> dict:
    """A track as Label Studio 1.23 writes it: keyframes on frames 1, 30 and 60 at the square."""
    return {"id": "trk1", "from_name": "box", "to_name": "video", "type": "videorectangle", "origin": "manual",
            "value": {"framesCount": FRAMES, "duration": 3.0, "labels": ["Man"],
                      "sequence": [keyframe(f, square_at(square, f)) for f in (1, 30, 60)]}}


def video_project(api, make_project, square: Path, config: str = TRACKING) -> tuple[dict, dict]:
    project = make_project(label_config=config)
    response = api.post(f"/api/projects/{project['id']}/import", files=[("file", ("square.webm", square.read_bytes()))])
    assert response.status_code == 201, response.text
    (task,) = api.get(f"/api/tasks?project={project['id']}").json()["tasks"]
    return project, task


def test_label_studio_tracks_round_trip_and_bad_ones_are_refused(server, api, make_project, square):
    project, task = video_project(api, make_project, square)
    item = label_studio_track(square)
    saved = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [item]})
    assert saved.status_code == 201, saved.text
    assert saved.json()["result"] == [item]  # exactly as written: keyframes only, labels inside the value
    bad = json.loads(json.dumps(item))
    bad["value"]["sequence"][2]["frame"] = 80
    refused = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [bad]})
    assert refused.status_code == 400
    assert "value.sequence[2].frame must be a frame number from 1 to 75" in refused.text
    separate = {"id": "trk1", "from_name": "videoLabels", "to_name": "video", "type": "labels", "value": {"labels": ["Man"]}}
    refused = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [item, separate]})
    assert refused.status_code == 400 and "go inside the videorectangle item" in refused.text


def test_the_workspace_counts_the_files_frames_and_draws_the_track(server, api, make_project, make_user, square):
    project, task = video_project(api, make_project, square)
    assert api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [label_studio_track(square)]}).status_code == 201
    page = html(browser(server).get(f"/projects/{project['id']}/label/{task['id']}"))
    assert page.cssselect("[data-testid=counter-video]")[0].text_content().strip() == f"frame 1 / {FRAMES}"  # ffprobe's
    (obj,) = page.cssselect(".lw-video")
    assert (obj.get("data-fps"), obj.get("data-frames")) == ("25.0", str(FRAMES))
    (box,) = page.cssselect(".lw-video-box")  # drawn at frame 1, where its first keyframe is
    first = square_at(square, 1)
    assert f"left: {first['x']}%" in box.get("style") and "Man" in box.text_content()
    assert page.cssselect("video[hx-preserve][aria-label]") and not page.cssselect("video[controls]")


def test_choices_and_text_on_the_whole_video(server, api, make_project, square):
    config = (CONFIGS / "video-classification.xml").read_text().replace(
        "</View>", '<TextArea name="notes" toName="video"/><Rating name="score" toName="video"/></View>')
    project, task = video_project(api, make_project, square, config)
    result = [{"id": "c1", "from_name": "choice", "to_name": "video", "type": "choices", "value": {"choices": ["Sharp"]}},
              {"id": "t1", "from_name": "notes", "to_name": "video", "type": "textarea", "value": {"text": ["a square"]}},
              {"id": "r1", "from_name": "score", "to_name": "video", "type": "rating", "value": {"rating": 4}}]
    saved = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": result})
    assert saved.status_code == 201, saved.text
    page = html(browser(server).get(f"/projects/{project['id']}/label/{task['id']}"))
    assert page.cssselect("input[name=choice][value=Sharp][checked]")


def test_timeline_spans_are_whole_inclusive_frames(server, api, make_project, square):
    project, task = video_project(api, make_project, square, (CONFIGS / "video-frame-classification.xml").read_text())
    span = {"id": "s1", "from_name": "videoLabels", "to_name": "video", "type": "timelinelabels", "origin": "manual",
            "value": {"ranges": [{"start": 3, "end": 5}], "timelinelabels": ["Movement"]}}
    saved = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [span]})
    assert saved.status_code == 201 and saved.json()["result"] == [span]
    for ranges, words in (([{"start": 5, "end": 3}], "start (frame 5) is after end (frame 3)"),
                          ([{"start": 0, "end": 3}], "value.ranges[0].start must be a frame number from 1"),
                          ([{"start": 1.5, "end": 3}], "value.ranges[0].start must be a frame number"),
                          ([], "value.ranges must be a list of at least one")):
        bad = {**span, "value": {**span["value"], "ranges": ranges}}
        refused = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [bad]})
        assert refused.status_code == 400 and words in refused.text, (ranges, refused.text)
    page = html(browser(server).get(f"/projects/{project['id']}/label/{task['id']}"))
    (bar,) = page.cssselect(".lw-video-span")
    assert math.isclose(float(bar.get("style").split("left: ")[1].split("%")[0]), 100 * 2 / FRAMES)


def test_export_writes_every_frame_when_asked(server, api, make_project, square):
    project, task = video_project(api, make_project, square)
    item = label_studio_track(square)
    assert api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [item]}).status_code == 201
    plain = api.get(f"/api/projects/{project['id']}/export?exportType=JSON").json()
    assert plain[0]["annotations"][0]["result"][0]["value"]["sequence"] == item["value"]["sequence"]
    expanded = api.get(f"/api/projects/{project['id']}/export?exportType=JSON&interpolate_key_frames=true").json()
    sequence = expanded[0]["annotations"][0]["result"][0]["value"]["sequence"]
    assert [f["frame"] for f in sequence] == list(range(1, FRAMES + 1))  # to the last frame: the box stays
    assert [f["frame"] for f in sequence if not f.get("auto")] == [1, 30, 60]
    for frame in (15, 45):
        assert close(sequence[frame - 1], square_at(square, frame)), frame
        assert sequence[frame - 1]["time"] == round(frame / FPS, 2)
    rows = api.get(f"/api/projects/{project['id']}/export?exportType=JSON_MIN&interpolate_key_frames=1").json()
    assert len(rows[0]["box"][0]["sequence"]) == FRAMES


def test_a_snapshot_writes_every_frame_when_its_options_ask(server, api, make_project, square, worker):
    project, task = video_project(api, make_project, square)
    assert api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [label_studio_track(square)]}).status_code == 201
    made = api.post(f"/api/projects/{project['id']}/exports",
                    json={"serialization_options": {"interpolate_key_frames": True}})  # as Label Studio's SDK asks
    assert made.status_code == 201, made.text
    wait_status(api, project["id"], made.json()["id"])
    body = api.get(f"/api/projects/{project['id']}/exports/{made.json()['id']}/download?exportType=JSON").json()
    assert len(body[0]["annotations"][0]["result"][0]["value"]["sequence"]) == FRAMES


def test_the_audio_sync_trick_template_labels_seconds_on_the_videos_audio(server, api, make_project, square):
    project, task = video_project(api, make_project, square, (CONFIGS / "video-timeline-segmentation.xml").read_text())
    segment = {"id": "a1", "from_name": "tricks", "to_name": "audio", "type": "labels", "origin": "manual",
               "original_length": 3.0, "value": {"start": 0.5, "end": 1.25, "channel": 0, "labels": ["Kickflip", "Trick"]}}
    saved = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [segment]})
    assert saved.status_code == 201 and saved.json()["result"] == [segment]
    page = html(browser(server).get(f"/projects/{project['id']}/label/{task['id']}"))
    (video,) = page.cssselect(".lw-video")
    assert video.get("data-sync") == "audio"  # static/video-tools.js plays, pauses and seeks the two together
