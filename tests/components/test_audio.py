"""<Audio>/<AudioPlus>: parsing every attribute, time segments from <Labels>, per-region controls that
repeat the segment, and Label Studio's own result JSON going through check -> render -> collect unchanged."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import lxml.html
import pytest

from components import parse_config
from components.config import LabelConfig
from tests.components.helpers import form_of, round_trip

TEMPLATES = Path(__file__).resolve().parents[1] / "data" / "configs" / "audio"
URL = "/data/upload/1/clip.wav"
DATA = {"audio": URL}
ASR = (TEMPLATES / "asr-segments.xml").read_text()
INTENT = (TEMPLATES / "intent-classification.xml").read_text()

# as Label Studio 1.23 exports a segment with its per-region transcript (AudioRegionModel.serialize)
LS_SEGMENT = [
    {"id": "M5lfg", "from_name": "labels", "to_name": "audio", "type": "labels", "origin": "manual",
     "original_length": 98.719925, "value": {"start": 25.10367191523605, "end": 49.99549849785408, "channel": 0,
                                             "labels": ["Speech"]}},
    {"id": "M5lfg", "from_name": "transcription", "to_name": "audio", "type": "textarea", "origin": "manual",
     "original_length": 98.719925, "value": {"start": 25.10367191523605, "end": 49.99549849785408, "channel": 0,
                                             "text": ["hello there"]}},
]


def errors_of(xml: str) -> list[str]:
    return [e.message for e in LabelConfig(xml).errors]


def test_every_audio_template_of_the_gallery_is_accepted():
    accepted = sorted(p.name for p in TEMPLATES.glob("*.xml") if not LabelConfig(p.read_text()).errors)
    assert accepted == ["asr-hypotheses.xml", "asr-segments.xml", "asr.xml", "conversational-analysis.xml",
                        "intent-classification.xml", "signal-quality-detection.xml", "sound-event-detection.xml",
                        "speaker-segmentation.xml", "speech-transcription.xml", "video-timeline-segmentation.xml"]


def test_audioplus_is_audio_and_its_attributes_are_checked():
    config = parse_config('<View><AudioPlus name="a" value="$a" defaultspeed="1.5" splitchannels="true"/></View>')
    assert config.by_name["a"].tag == "Audio" and config.data_keys() == ["a"]
    bad = errors_of('<View><Audio name="a" value="$a" defaultspeed="3" defaultvolume="loud" decoder="vlc" '
                    'splitchannels="maybe" height="tall"/></View>')
    assert any("defaultspeed" in m and "0.5 to 2" in m for m in bad)
    for attr in ("defaultvolume", "decoder", "splitchannels", "height"):
        assert any(f"valid {attr}" in m for m in bad), (attr, bad)
    assert errors_of('<View><Audio name="a"/></View>') == ["<Audio> needs a value."]
    (error,) = LabelConfig('<View><AudioPlus value="$a"/></View>').errors
    assert (error.tag, error.message) == ("AudioPlus", "<AudioPlus> needs a name.")


def test_controls_that_cannot_label_audio_are_refused():
    msgs = errors_of('<View><Audio name="a" value="$a"/><RectangleLabels name="r" toName="a"><Label value="x"/>'
                     '</RectangleLabels></View>')
    assert any("cannot label <Audio>" in m for m in msgs)


def test_label_studio_segment_and_transcript_round_trip_exactly():
    back = round_trip(ASR, DATA, LS_SEGMENT)
    assert {r["type"]: r["original_length"] for r in back} == {"labels": 98.719925, "textarea": 98.719925}


def test_segment_without_channel_or_length_round_trips_as_given():
    plain = [{"id": "s1", "from_name": "labels", "to_name": "audio", "type": "labels", "origin": "manual",
              "value": {"start": 0, "end": 1.5, "labels": ["Noise"]}}]
    round_trip(ASR.replace('required="true"', ""), DATA, plain)


def test_per_region_choice_and_clip_level_controls_carry_what_label_studio_writes():
    segment = {"id": "seg1", "from_name": "labels", "to_name": "audio", "type": "labels", "origin": "manual",
               "original_length": 3.0, "value": {"start": 0.25, "end": 1.0, "channel": 0, "labels": ["Segment"]}}
    intent = {"id": "seg1", "from_name": "intent", "to_name": "audio", "type": "choices", "origin": "manual",
              "original_length": 3.0, "value": {"start": 0.25, "end": 1.0, "channel": 0, "choices": ["Request"]}}
    round_trip(INTENT, DATA, [segment, intent])
    config = parse_config(INTENT)
    # the intent is required per segment
    form = form_of(str(config.render(DATA, [segment])))
    with pytest.raises(ValueError, match="intent is required"):
        config.collect(DATA, form)
    # a rating for the whole clip
    rating = parse_config((TEMPLATES / "signal-quality-detection.xml").read_text())
    out = rating.collect(DATA, {"rating": ["7"]})
    assert [(r["to_name"], r["value"]) for r in out] == [("audio", {"rating": 7})]
    # speech-transcription: the transcript only for Speech segments
    st = parse_config((TEMPLATES / "speech-transcription.xml").read_text())
    noise = {**segment, "from_name": "label", "value": {**segment["value"], "labels": ["Noise"]}}
    speech = {**segment, "id": "seg2", "from_name": "label", "value": {**segment["value"], "labels": ["Speech"]}}
    page = lxml.html.fromstring(str(st.render(DATA, [noise, speech])))
    assert page.cssselect("textarea[name='transcription@seg2']") and not page.cssselect("textarea[name='transcription@seg1']")


def test_a_new_segment_from_the_form_is_checked_and_written_in_seconds():
    config = parse_config(ASR)
    region = {"id": "new1", "from_name": "labels", "to_name": "audio", "type": "labels", "original_length": 3.0,
              "value": {"start": 1.0, "end": 2.0, "channel": 0, "labels": ["Speech"]}}
    out = config.collect(DATA, {"region": [json.dumps(region)], "transcription@new1": ["hi there"]})
    assert out[0] == {**region, "origin": "manual"}
    assert out[1]["value"] == {"start": 1.0, "end": 2.0, "channel": 0, "text": ["hi there"]}
    assert out[1]["id"] == "new1" and out[1]["original_length"] == 3.0


@pytest.mark.parametrize(("change", "message"), [
    ({"start": 2.0, "end": 1.0}, "value.start (2.0) must be before value.end (1.0)"),
    ({"start": 1.0, "end": 1.0}, "must be before value.end"),
    ({"start": -0.5}, "value.start must be 0 or more seconds"),
    ({"end": 4.5}, "value.end (4.5) is past the end of the audio (3.0 s)"),
    ({"start": True}, "value.start must be a number of seconds, not True"),
    ({"end": "2"}, "value.end must be a number of seconds, not '2'"),
    ({"end": float("nan")}, "value.end must be a number of seconds"),
    ({"channel": -1}, "value.channel must be a channel number from 0"),
    ({"channel": 0.5}, "value.channel must be a channel number from 0"),
    ({"labels": "Speech"}, "value.labels must be a list of label names"),
])
def test_bad_segments_are_refused_naming_the_field(change, message):
    config = parse_config(ASR)
    item = copy.deepcopy(LS_SEGMENT[0])
    item["original_length"] = 3.0
    item["value"].update({"start": 1.0, "end": 2.0})
    item["value"].update(change)
    errors, _ = config.check_results([item], DATA)
    assert len(errors) == 1 and message in errors[0], errors
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")[:30]):
        config.collect(DATA, {"region": [json.dumps(item)], "transcription@M5lfg": ["x"]})


def test_length_is_checked_only_when_known():
    config = parse_config(ASR)
    item = copy.deepcopy(LS_SEGMENT[0])
    del item["original_length"]
    item["value"].update({"start": 500.0, "end": 600.0})
    assert config.check_results([item], DATA) == ([], [])
    for bad in (0, -3, True, "98"):
        errors, _ = config.check_results([{**item, "original_length": bad}], DATA)
        assert errors and "original_length must be the audio's length in seconds" in errors[0]
    # another result of the same audio gives the length
    other = {**copy.deepcopy(LS_SEGMENT[0]), "id": "other", "original_length": 100.0}
    errors, _ = config.check_results([{**item, "value": {**item["value"], "start": 50.0, "end": 60.0}},
                                      {**other, "value": {**other["value"], "end": 30.0}}], DATA)
    assert errors == []
    errors, _ = config.check_results([{**item, "value": {**item["value"], "start": 50.0, "end": 200.0}},
                                      {**other, "value": {**other["value"], "end": 30.0}}], DATA)
    assert errors and "past the end of the audio (100.0 s)" in errors[0]


def test_the_player_timeline_and_segment_list_render():
    config = parse_config(ASR)
    page = lxml.html.fromstring(str(config.render(DATA, LS_SEGMENT, workspace=True)))
    (player,) = page.cssselect("audio")
    assert player.get("src") == URL and player.get("autoplay") is None and player.get("hx-preserve") == "true"
    assert player.get("id") and player.get("aria-label")
    (segment,) = page.cssselect(".lw-audio-segment")
    assert segment.get("data-region") == "M5lfg" and "left: 25.42" in segment.get("style")
    assert "Speech, 25.10 to 50.00 s" in segment.get("aria-label")
    assert page.cssselect(".lw-region .lw-audio-seek")[0].text_content() == "25.10–50.00 s"
    for control in page.cssselect(".lw-audio-tools select, .lw-audio-tools input"):
        assert control.getparent().tag == "label"  # every control labelled
    assert page.cssselect("[data-audio=mark]")
    # an address that is not a URL, a path or an audio data URI is not loaded
    bad = lxml.html.fromstring(str(config.render({"audio": "javascript:alert(1)"})))
    assert not bad.cssselect("audio") and "not allowed" in bad.text_content()


def test_whole_clip_transcript_and_dynamic_choices():
    asr = parse_config((TEMPLATES / "asr.xml").read_text())
    out = asr.collect(DATA, {"transcription": ["the whole clip"]})
    assert [(r["type"], r["to_name"], r["value"]) for r in out] == [("textarea", "audio", {"text": ["the whole clip"]})]
    hyp = parse_config((TEMPLATES / "asr-hypotheses.xml").read_text())
    data = hyp.sample_task()["data"]
    page = lxml.html.fromstring(str(hyp.render(data)))
    assert len(page.cssselect("input[name=transcriptions]")) == 2


def test_per_region_rating_and_number_repeat_the_segment():
    xml = """<View><Audio name="audio" value="$audio"/>
      <Labels name="labels" toName="audio"><Label value="Speech"/></Labels>
      <Rating name="clarity" toName="audio" perRegion="true" maxRating="5"/>
      <Number name="speakers" toName="audio" perRegion="true" min="1"/></View>"""
    segment = {"id": "s1", "from_name": "labels", "to_name": "audio", "type": "labels", "origin": "manual",
               "original_length": 10.0, "value": {"start": 2.5, "end": 4.0, "channel": 1, "labels": ["Speech"]}}
    geometry = {"start": 2.5, "end": 4.0, "channel": 1}
    results = [segment,
               {**segment, "from_name": "clarity", "type": "rating", "value": {**geometry, "rating": 4}},
               {**segment, "from_name": "speakers", "type": "number", "value": {**geometry, "number": 2}}]
    round_trip(xml, DATA, results)
