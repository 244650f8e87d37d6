"""Each audio template of Label Studio's gallery (tests/data/configs/audio), labelled in a real
browser as its annotators would: the template's main action done by keys and clicks, submitted, and
stored as Label Studio writes it. (The ASR-with-segments and video templates have their own tests:
tests/test_audio_browser.py, tests/test_video_browser.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.helpers import accessibility_problems
from tests.test_audio_browser import settled, tone_silence_tone
from tests.test_workspace_browser import FIND, annotations, annotator_in, start_labelling  # noqa: F401 (a fixture)

TEMPLATES = Path(__file__).resolve().parent / "data" / "configs" / "audio"
DIALOGUE = [{"start": 0, "end": 1.5, "text": "Dont you hate that?", "author": "Mia Wallace"},
            {"start": 1.5, "duration": 1.5, "text": "Hate what?", "author": "Vincent Vega"}]
HYPOTHESES = [{"value": "school based clinics were established"}, {"value": "school biased clinics were established"}]


def segment(page, label_key: str) -> None:
    """A segment from 1 s to 2 s of the tone (its silence) with the label of `label_key`, by keys."""
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press(label_key)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("[")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("]")
    expect(page.locator(".lw-audio-segment")).to_have_count(1)
    settled(page)


def select_in_paragraphs(page, needle: str) -> None:
    """Drag the mouse over `needle` in the dialogue, as an annotator selects a phrase."""
    finder = FIND.replace("'.lw-text-body'", "'.lw-paragraphs'")
    box = page.evaluate(finder % "(r => ({left: r.left, right: r.right, y: r.top + r.height / 2}))(range.getBoundingClientRect())", needle)
    page.mouse.move(box["left"] + 1, box["y"])
    page.mouse.down()
    page.mouse.move(box["right"] - 1, box["y"], steps=4)
    page.mouse.up()


def hypotheses(page):
    page.get_by_test_id(f"choice-{HYPOTHESES[1]['value']}").check()
    return {"choices": {"choices": [HYPOTHESES[1]["value"]]}}


def transcript(page):
    page.locator(".lw-textarea textarea, textarea").first.fill("hello there")
    page.keyboard.press("Tab")
    return {"textarea": {"text": ["hello there"]}}


def dialogue_sentiment(page):
    page.get_by_role("button", name="Negative").click()
    select_in_paragraphs(page, "hate that")
    expect(page.locator(".lw-paragraphs mark.lw-span")).to_have_count(1)
    return {"paragraphlabels": {"start": "0", "end": "0", "startOffset": 9, "endOffset": 18, "text": "hate that",
                                "paragraphlabels": ["Negative"]}}


def intent(page):
    segment(page, "1")
    page.locator(".lw-region").first.get_by_test_id("choice-Request").check()
    return {"labels": {"start": 1.0, "end": 2.0, "channel": 0, "labels": ["Segment"]},
            "choices": {"start": 1.0, "end": 2.0, "channel": 0, "choices": ["Request"]}}


def quality(page):
    page.locator(".lw-rating .lw-star").nth(6).click()
    return {"rating": {"rating": 7}}


def events(page):
    segment(page, "2")
    return {"labels": {"start": 1.0, "end": 2.0, "channel": 0, "labels": ["Event B"]}}


def speakers(page):
    segment(page, "1")
    return {"labels": {"start": 1.0, "end": 2.0, "channel": 0, "labels": ["Speaker one"]}}


def speech(page):
    segment(page, "1")
    region = page.locator(".lw-region").first
    region.locator("textarea").first.fill("nothing said")
    region.get_by_test_id("choice-Neutral").check()
    settled(page)
    return {"labels": {"start": 1.0, "end": 2.0, "channel": 0, "labels": ["Speech"]},
            "textarea": {"start": 1.0, "end": 2.0, "channel": 0, "text": ["nothing said"]},
            "choices": {"start": 1.0, "end": 2.0, "channel": 0, "choices": ["Neutral"]}}


CASES = {"asr-hypotheses.xml": (hypotheses, {"transcriptions": HYPOTHESES}), "asr.xml": (transcript, {}),
         "conversational-analysis.xml": (dialogue_sentiment, {"text": DIALOGUE}), "intent-classification.xml": (intent, {}),
         "signal-quality-detection.xml": (quality, {}), "sound-event-detection.xml": (events, {}),
         "speaker-segmentation.xml": (speakers, {}), "speech-transcription.xml": (speech, {})}


def test_every_audio_template_has_a_case_here_or_its_own_test():
    elsewhere = {"asr-segments.xml", "video-timeline-segmentation.xml"}
    assert {p.name for p in TEMPLATES.glob("*.xml")} == set(CASES) | elsewhere


@pytest.mark.parametrize("template", sorted(CASES))
def test_label_studio_audio_template_labelled_in_the_browser(page, server, api, annotator_in, template):  # noqa: F811
    action, data = CASES[template]
    project, user = annotator_in((TEMPLATES / template).read_text(), [{"audio": tone_silence_tone(), **data}])
    start_labelling(page, project, user)
    assert accessibility_problems(page, "#lw-body") == []
    expected = action(page)
    settled(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    found = {item["type"]: item["value"] for item in stored["result"]}
    assert found == expected
    labels = [item for item in stored["result"] if item["type"] == "labels"]
    assert all(abs(item["original_length"] - 3.0) < 0.02 for item in labels)  # the file's length, beside value
