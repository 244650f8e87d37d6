"""Audio and video in and out (issue 18, "Serving media"): an uploaded WAV, MP3, MP4 or WebM
becomes one task with its URL; its media info is read once with ffprobe and equals what ffprobe
says; the file is served with Range requests, only to people who may see its project; a file
that is not what its name says, or is truncated, is refused by name and nothing is stored.
The media is generated here with ffmpeg, so what it holds is known."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from app.data_import.media_keys import media_keys
from tests.conftest import missing
from tests.helpers import browser, launch

CONFIG = ('<View><Text name="clip" value="$clip"/><Choices name="kind" toName="clip">'
          '<Choice value="speech"/><Choice value="noise"/></Choices></View>')
GENERATE = {
    "tone.wav": ["-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-ar", "44100"],
    "short.wav": ["-f", "lavfi", "-i", "sine=frequency=880:duration=1", "-ar", "16000", "-ac", "2"],
    "tone.mp3": ["-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-ar", "44100"],
    # a 2 s, 25 fps, 64x48 clip with a white square moving right by 20 px a second
    "square.mp4": ["-f", "lavfi", "-i", "color=c=black:s=64x48:r=25:d=2", "-vf",
                   "drawbox=x='t*20':y=10:w=10:h=10:c=white:t=fill", "-pix_fmt", "yuv420p"],
    "square.webm": ["-f", "lavfi", "-i", "color=c=black:s=64x48:r=25:d=2", "-vf",
                    "drawbox=x='t*20':y=10:w=10:h=10:c=white:t=fill", "-c:v", "libvpx", "-b:v", "100k"],
}


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        missing("ffmpeg is not installed (apt-get install ffmpeg)")
    folder = tmp_path_factory.mktemp("media")
    for name, args in GENERATE.items():
        subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(folder / name)], check=True, timeout=60)
    whole = (folder / "square.mp4").read_bytes()
    (folder / "half.mp4").write_bytes(whole[: len(whole) // 2])  # cut off mid-file: no index
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(folder / "square.mp4"), "-c", "copy", "-movflags",
                    "+faststart", str(folder / "fast.mp4")], check=True, timeout=60)
    fast = (folder / "fast.mp4").read_bytes()
    (folder / "cut.mp4").write_bytes(fast[: len(fast) * 2 // 3])  # index first, frames cut off
    whole = (folder / "tone.mp3").read_bytes()
    (folder / "cut.mp3").write_bytes(whole[: len(whole) // 2])
    return folder


def ffprobe(path: Path, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", *args, "-show_entries",
                          "format=duration:stream=nb_read_frames,avg_frame_rate,width,height,sample_rate,channels",
                          "-of", "json", str(path)], capture_output=True, check=True, timeout=60)
    return json.loads(out.stdout)


def uploads_of(api: httpx.Client, project_id: int) -> list[dict]:
    return api.get(f"/api/projects/{project_id}/file-uploads").json()


def tasks_of(api: httpx.Client, project_id: int) -> list[dict]:
    return api.get(f"/api/tasks?project={project_id}&page_size=100").json()["tasks"]


def test_the_data_key_is_the_configs_audio_or_video_value():
    both = '<View><AudioPlus name="a" value="$speech"/><!-- a note --><Video name="v" value="$film"/></View>'
    # "file": where a file that is one task goes (a CSV read as a time series, tests/test_time_series_import.py)
    assert media_keys(both, ["speech", "film"]) == {"audio": "speech", "video": "film", "file": "file", "pdf": "pdf"}
    assert media_keys('<View><Audio name="a" value="$sound"/><Text name="t" value="$text"/></View>',
                      ["sound", "text"])["audio"] == "sound"
    assert media_keys(CONFIG, ["clip"]) == {"audio": "clip", "video": "clip", "file": "clip", "pdf": "clip"}  # the single key, as for an image
    assert media_keys("<View></View>", []) == {"audio": "audio", "video": "video", "file": "file", "pdf": "pdf"}  # Label Studio's names
    series = '<View><TimeSeries name="ts" value="$csv"><Channel column="v"/></TimeSeries><Text name="t" value="$note"/></View>'
    assert media_keys(series, ["csv", "note"])["file"] == "csv"


def test_media_uploads_become_tasks_with_their_media_info(server, api, make_project, media, legacy_sdk, sdk):
    project = make_project(label_config=CONFIG)
    pid = project["id"]
    legacy = legacy_sdk.get_project(pid)
    for name in ("tone.wav", "square.mp4"):  # the legacy SDK uploads one file per call, as scripts do
        assert len(legacy.import_tasks(str(media / name))) == 1
    response = api.post(f"/api/projects/{pid}/import", files=[
        ("file", (n, (media / n).read_bytes())) for n in ("tone.mp3", "square.webm")])
    assert response.status_code == 201, response.text
    stored = {f.original_name: f for f in sdk.files.list(id=pid)}  # the current SDK reads them back
    assert set(stored) == {"tone.wav", "tone.mp3", "square.mp4", "square.webm"}
    tasks = {t["data"]["clip"]: t for t in tasks_of(api, pid)}
    assert set(tasks) == {f"/data/upload/{f.file.removeprefix('upload/')}" for f in stored.values()}
    assert all(list(t["data"]) == ["clip"] for t in tasks.values())
    for name, upload in stored.items():
        truth = ffprobe(media / name, "-count_frames")
        stream, info = truth["streams"][0], upload.dict()
        assert abs(info["duration"] - float(truth["format"]["duration"])) <= 0.05, name
        if name.startswith("tone"):
            assert (info["sample_rate"], info["channels"], info["frame_count"]) == (44100, 1, None), name
            assert info["content_type"] == {"wav": "audio/wav", "mp3": "audio/mpeg"}[name[-3:]]
        else:
            assert info["frame_count"] == int(stream["nb_read_frames"]) == 50, name  # exact, as ffprobe counts
            assert (info["frame_rate"], info["width"], info["height"]) == (25.0, 64, 48), name
            assert info["sample_rate"] is None
    assert sdk.files.get(stored["tone.wav"].id).dict()["duration"] == pytest.approx(3.0, abs=0.05)
    # new content for an upload is read again: the info is the new file's
    replaced = sdk.files.update(stored["tone.wav"].id, file=("short.wav", (media / "short.wav").read_bytes())).dict()
    assert (round(replaced["duration"], 2), replaced["sample_rate"], replaced["channels"]) == (1.0, 16000, 2)
    assert api.get(tasks_of(api, pid)[0]["data"]["clip"]).content == (media / "short.wav").read_bytes()


def test_media_is_served_in_ranges_only_to_who_may_see_it(server, api, make_project, make_user, media):
    project, other = make_project(label_config=CONFIG), make_project(label_config=CONFIG)
    assert api.post(f"/api/projects/{project['id']}/import",
                    files=[("file", ("tone.wav", (media / "tone.wav").read_bytes()))]).status_code == 201
    url = tasks_of(api, project["id"])[0]["data"]["clip"]
    whole = (media / "tone.wav").read_bytes()
    size = len(whole)
    full = api.get(url)
    assert full.status_code == 200 and full.content == whole
    assert full.headers["accept-ranges"] == "bytes" and full.headers["content-type"] == "audio/wav"
    assert full.headers["content-disposition"].startswith("inline")
    for asked, first, last in (("bytes=0-99", 0, 99), ("bytes=1000-", 1000, size - 1),
                               ("bytes=-10", size - 10, size - 1), (f"bytes=5-{size + 50}", 5, size - 1),
                               (f"bytes=-{size + 9}", 0, size - 1)):
        part = api.get(url, headers={"Range": asked})
        assert part.status_code == 206, asked
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}", asked
        assert part.headers["content-length"] == str(last - first + 1) and part.content == whole[first:last + 1]
        assert part.headers["accept-ranges"] == "bytes" and part.headers["content-type"] == "audio/wav"
        assert part.headers["x-content-type-options"] == "nosniff"
        assert part.headers["content-security-policy"] == "sandbox"
    for asked in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        refused = api.get(url, headers={"Range": asked})
        assert refused.status_code == 416 and refused.headers["content-range"] == f"bytes */{size}", asked
    for ignored in ("bytes=0-1,5-6", "items=0-5", "bytes=9-2", "bytes=x"):  # the whole file, which browsers take
        answer = api.get(url, headers={"Range": ignored})
        assert answer.status_code == 200 and answer.content == whole, ignored
    assert api.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'}).status_code == 200
    etag = full.headers["etag"]
    assert api.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}).status_code == 206

    outsider = make_user("annotator")
    joined = api.post(f"/api/projects/{other['id']}/members", json={"user": outsider["id"], "role": "annotator"})
    assert joined.status_code == 201
    stranger = browser(server, outsider["email"], outsider["password"])
    assert stranger.get(url).status_code == 404
    assert stranger.get(url, headers={"Range": "bytes=0-99"}).status_code == 404
    member = make_user("annotator")
    api.post(f"/api/projects/{project['id']}/members", json={"user": member["id"], "role": "annotator"})
    part = browser(server, member["email"], member["password"]).get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == whole[:100]

    folder = server.data_dir / "local-files" / "media"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(media / "square.mp4", folder / "square.mp4")
    video = (media / "square.mp4").read_bytes()
    part = api.get("/data/local-files/?d=media/square.mp4", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == video[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(video)}" and part.headers["content-type"] == "video/mp4"
    assert api.get("/data/local-files/?d=media/square.mp4").headers["accept-ranges"] == "bytes"
    past = api.get("/data/local-files/?d=media/square.mp4", headers={"Range": f"bytes={len(video)}-"})
    assert past.status_code == 416
    # no task of theirs names it
    assert stranger.get("/data/local-files/?d=media/square.mp4", headers={"Range": "bytes=0-9"}).status_code == 404


@pytest.mark.parametrize(("name", "source", "words"), [
    ("notes.mp4", b"hello, I am text\n", "not a readable video file"),
    ("half.mp4", "half.mp4", "not a readable video file"),
    ("cut.mp4", "cut.mp4", "truncated or damaged"),
    ("cut.mp3", "cut.mp3", "truncated or damaged"),
    ("sound.mp4", "tone.wav", "the file inside is WAV, not MP4"),
    ("song.wav", "tone.mp3", "the file inside is MP3, not WAV"),
    ("film.webm", "square.mp4", "is MP4/MOV, not WEBM"),
])
def test_bad_media_is_refused_by_name_and_nothing_is_stored(server, api, make_project, media, name, source, words):
    project = make_project(label_config=CONFIG)
    content = source if isinstance(source, bytes) else (media / source).read_bytes()
    response = api.post(f"/api/projects/{project['id']}/import", files=[
        ("file", ("tone.wav", (media / "tone.wav").read_bytes())), ("file", (name, content))])  # all or nothing
    assert response.status_code == 400, response.text[:300]
    message = response.json()["validation_errors"]["file"][0]
    assert message.startswith(f"{name}: ") and words in message, message
    assert not tasks_of(api, project["id"]) and not uploads_of(api, project["id"])
    assert not list((server.data_dir / "upload" / str(project["id"])).glob("*"))


def test_without_ffprobe_a_media_import_says_so(tmp_path, media):
    srv = launch(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'db.sqlite3'}",
                 {"PATH": str(tmp_path / "empty"), "LABELWELL_USERNAME": "admin@example.com",
                  "LABELWELL_PASSWORD": "pass-" + uuid.uuid4().hex[:8], "LABELWELL_USER_TOKEN": "t" + uuid.uuid4().hex})
    try:
        with srv.client(token=srv.env["LABELWELL_USER_TOKEN"]) as api:
            pid = api.post("/api/projects", json={"title": "No ffprobe", "label_config": CONFIG}).json()["id"]
            response = api.post(f"/api/projects/{pid}/import",
                                files=[("file", ("tone.wav", (media / "tone.wav").read_bytes()))])
            assert response.status_code == 400, response.text[:300]
            assert "tone.wav: " in response.json()["validation_errors"]["file"][0]
            assert "ffprobe" in response.json()["validation_errors"]["file"][0]
            assert not uploads_of(api, pid)
    finally:
        srv.stop()
