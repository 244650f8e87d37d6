"""<Audio> in a real browser (Debian's Chromium): a generated 3 s WAV (tone, silence, tone), segments
made by keys at exact positions and while it plays, a transcript per segment, and what is stored."""

from __future__ import annotations

import base64
import io
import math
import struct
import wave
from pathlib import Path

from playwright.sync_api import expect

from tests.test_browser import log_in
from tests.test_workspace_browser import annotations, annotator_in, ready  # noqa: F401 (a fixture)
from tests.components.test_audio import LS_SEGMENT

CONFIG = (Path(__file__).resolve().parent / "data" / "configs" / "audio" / "asr-segments.xml").read_text()
RATE = 8000


def tone_silence_tone() -> str:
    """3 s of 16-bit mono: a 440 Hz tone for 1 s, 1 s of silence, the tone again; as a data: URI."""
    samples = [int(12000 * math.sin(2 * math.pi * 440 * i / RATE)) if not RATE <= i < 2 * RATE else 0
               for i in range(3 * RATE)]
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return "data:audio/wav;base64," + base64.b64encode(out.getvalue()).decode()


def now(page) -> float:
    return page.evaluate("document.querySelector('.lw-audio audio').currentTime")


def settled(page) -> None:
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")


def test_segments_by_keys_exact_and_while_playing_with_transcripts(page, server, api, annotator_in):  # noqa: F811
    project, user = annotator_in(CONFIG, [{"audio": tone_silence_tone()}])
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    expect(page.get_by_test_id("clock-audio")).to_contain_text("/ 3.00 s")  # the file's length is known
    assert page.evaluate("document.querySelector('.lw-audio audio').autoplay") is False

    # exact: paused, arrows seek by whole seconds; label key, [ at 1 s, ] at 2 s (the silence)
    page.keyboard.press("ArrowRight")
    assert now(page) == 1.0
    page.keyboard.press("1")  # Speech
    page.keyboard.press("[")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("]")
    expect(page.locator(".lw-audio-segment")).to_have_count(1)
    settled(page)
    first = page.locator(".lw-region").first
    first.locator("textarea").first.fill("silence here")
    page.get_by_test_id("goto-audio").fill("0.25")
    page.get_by_test_id("goto-audio").press("Enter")
    assert now(page) == 0.25
    settled(page)

    # while it plays: the player keeps playing through the form's re-render after the new segment
    page.evaluate("document.querySelector('.lw-audio audio').lwMark = 'same element'")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("2")  # Noise
    page.keyboard.press("Space")
    expect(page.get_by_test_id("play-audio")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("() => document.querySelector('.lw-audio audio').currentTime > 0.5", timeout=10_000)
    before = now(page)
    page.keyboard.press("[")
    after = now(page)
    page.wait_for_function("() => document.querySelector('.lw-audio audio').currentTime > 1.6", timeout=10_000)
    before_end = now(page)
    page.keyboard.press("]")
    after_end = now(page)
    expect(page.locator(".lw-audio-segment")).to_have_count(2)
    settled(page)
    assert page.evaluate("document.querySelector('.lw-audio audio').lwMark") == "same element"
    assert page.evaluate("document.querySelector('.lw-audio audio').paused") is False  # a change did not stop it
    page.keyboard.press("Space")
    expect(page.get_by_test_id("play-audio")).to_have_attribute("aria-pressed", "false")

    # clicking a segment on the timeline selects it and seeks to its start
    segments = page.locator(".lw-audio-segment")
    starts = [float(segments.nth(i).get_attribute("data-start")) for i in range(2)]
    exact = starts.index(1.0)
    segments.nth(exact).click()
    assert now(page) == 1.0
    expect(segments.nth(exact)).to_have_class("lw-audio-segment lw-selected")
    # the second segment's transcript is required: submitting without it says so
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("workspace-error")).to_contain_text("required")
    page.locator(".lw-region").nth(1 - exact).locator("textarea").first.fill("a noisy bit")
    page.locator(".lw-region").nth(exact).locator("textarea").first.fill("silence here")  # kept: filled again only if lost
    settled(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()

    (stored,) = annotations(api, project["id"])
    labels = sorted((r for r in stored["result"] if r["type"] == "labels"), key=lambda r: r["value"]["labels"])
    noise, speech = labels
    assert speech["value"] == {"start": 1.0, "end": 2.0, "channel": 0, "labels": ["Speech"]}
    assert abs(speech["original_length"] - 3.0) < 0.02
    # playback timing in headless Chromium is coarse: the key's time is between the readings around it
    assert before - 0.3 <= noise["value"]["start"] <= after + 0.3
    assert before_end - 0.3 <= noise["value"]["end"] <= after_end + 0.3
    texts = {r["id"]: r for r in stored["result"] if r["type"] == "textarea"}
    assert texts[speech["id"]]["value"] == {"start": 1.0, "end": 2.0, "channel": 0, "text": ["silence here"]}
    assert texts[noise["id"]]["value"]["text"] == ["a noisy bit"]
    assert texts[noise["id"]]["value"]["start"] == noise["value"]["start"]


LS_RESULT = LS_SEGMENT  # as Label Studio 1.23 writes a segment and its per-region transcript


def test_label_studio_audio_results_through_both_sdks(api, make_project, legacy_sdk, sdk):
    import pytest
    from label_studio_sdk.core.api_error import ApiError

    project = make_project(label_config=CONFIG)
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"audio": "https://example.com/a.wav"}] * 2).status_code == 201
    first, second = (t["id"] for t in api.get(f"/api/tasks?project={project['id']}").json()["tasks"])
    legacy_sdk.get_project(project["id"]).create_annotation(first, result=LS_RESULT)
    sdk.annotations.create(id=second, result=LS_RESULT)
    for task in (first, second):
        (stored,) = api.get(f"/api/tasks/{task}/annotations").json()
        assert stored["result"] == LS_RESULT  # seconds, channel and original_length exactly as sent
    late = [{**LS_RESULT[0], "value": {**LS_RESULT[0]["value"], "end": 120.0}}]
    with pytest.raises(ApiError) as refused:
        sdk.annotations.create(id=second, result=late)
    assert refused.value.status_code == 400 and "value.end (120.0) is past the end of the audio" in str(refused.value.body)
    response = api.post(f"/api/tasks/{first}/annotations", json={"result": [{**LS_RESULT[0], "original_length": True}]})
    assert response.status_code == 400 and "original_length" in response.text
