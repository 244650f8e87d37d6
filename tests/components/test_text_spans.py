"""Spans on text: offsets are code points of the original text, exact after emoji, accents, CJK, CRLF."""

from __future__ import annotations

import json

import lxml.html
import pytest

from components import Problem, parse_config
from tests.components.helpers import form_of, round_trip

NER = """<View>
  <Labels name="label" toName="text">
    <Label value="PER" background="#FFA39E"/><Label value="ORG"/><Label value="LOC"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""

TEXTS = {
    "emoji": "Hi 👩‍🔬 from Zoë 🚀 at ACME",
    "combining accents": "Cafe\u0301 owner Jose\u0301 met ACME",
    "cjk": "東京の ACME で 山田太郎 が働く",
    "windows line endings": "line one\r\nZoë works at\r\nACME\tInc",
    "tabs and spaces": "\tZoë\t\tACME  ",
}


def span(text: str, word: str, label: str, rid: str) -> dict:
    start = text.index(word)
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(word), "text": word, "labels": [label]}}


@pytest.mark.parametrize("kind", TEXTS)
def test_offsets_survive_the_round_trip(kind):
    text = TEXTS[kind]
    results = [span(text, "ACME", "ORG", "a1")]
    if "Zoë" in text:
        results.append(span(text, "Zoë", "PER", "a2"))
    round_trip(NER, {"text": text}, results)


@pytest.mark.parametrize("kind", TEXTS)
def test_the_page_holds_the_same_code_points_as_the_task(kind):
    text = TEXTS[kind]
    config = parse_config(NER)
    html = str(config.render({"text": text}, [span(text, "ACME", "ORG", "a1")]))
    body = lxml.html.fromstring(html).cssselect(".lw-text-body")[0]
    assert body.text_content() == text
    # each piece says where it starts, so the browser can turn a selection into offsets
    mark = body.cssselect("mark")[0]
    assert int(mark.get("data-start")) == text.index("ACME") and mark.text_content() == "ACME"


def test_the_server_writes_the_text_from_the_offsets():
    text = TEXTS["emoji"]
    start = text.index("Zoë")
    region = {"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
              "value": {"start": start, "end": start + 3, "labels": ["PER"]}}
    collected = parse_config(NER).collect({"text": text}, {"region": [json.dumps(region)]})
    assert collected[0]["value"] == {"start": start, "end": start + 3, "text": "Zoë", "labels": ["PER"]}


def test_overlapping_spans_render_and_round_trip():
    text = "New York City Marathon"
    results = [span(text, "New York City", "LOC", "o1"), span(text, "York City Marathon", "ORG", "o2")]
    html = str(parse_config(NER).render({"text": text}, results))
    marks = lxml.html.fromstring(html).cssselect("mark")
    assert [m.get("data-regions") for m in marks] == ["o1", "o1 o2", "o2"]
    round_trip(NER, {"text": text}, results)


def test_word_granularity_snaps_to_whole_words():
    config = parse_config(NER.replace('value="$text"/>', 'value="$text" granularity="word"/>'))
    text = "Angela Merkel visited"
    region = {"id": "w1", "from_name": "label", "to_name": "text", "type": "labels",
              "value": {"start": 2, "end": 10, "labels": ["PER"]}}
    value = config.collect({"text": text}, {"region": [json.dumps(region)]})[0]["value"]
    assert (value["start"], value["end"], value["text"]) == (0, 13, "Angela Merkel")


@pytest.mark.parametrize(("value", "words"), [
    ({"start": 5, "end": 3, "labels": ["PER"]}, "outside the text"),
    ({"start": 0, "end": 999, "labels": ["PER"]}, "outside the text"),
    ({"start": "0", "end": 3, "labels": ["PER"]}, "whole number"),
    ({"start": 0, "end": 3, "labels": ["NOPE"]}, "has no label"),
    ({"start": 0, "end": 3, "labels": ["PER", "ORG"]}, "one label per region"),
])
def test_bad_spans_from_the_form_are_refused(value, words):
    region = {"id": "b1", "from_name": "label", "to_name": "text", "type": "labels", "value": value}
    with pytest.raises(Problem, match=words):
        parse_config(NER).collect({"text": "Zoë and ACME"}, {"region": [json.dumps(region)]})


def test_external_spans_with_wrong_text_or_unknown_labels_are_kept_but_flagged():
    text = "Zoë and ACME"
    results = [{"id": "x", "from_name": "label", "to_name": "text", "type": "labels",
                "value": {"start": 0, "end": 3, "text": "Zoe", "labels": ["PERSON_FROM_MODEL"]}}]
    errors, warnings = parse_config(NER).check_results(results, {"text": text})
    assert errors == []
    assert any("differs from the text" in w for w in warnings)
    assert any("PERSON_FROM_MODEL" in w and "not in the config" in w for w in warnings)


def test_max_usages_limits_a_label():
    config = parse_config(NER.replace('<Label value="ORG"/>', '<Label value="ORG" maxUsages="1"/>'))
    text = "ACME and ACME"
    regions = [json.dumps({"id": f"m{i}", "from_name": "label", "to_name": "text", "type": "labels",
                           "value": {"start": s, "end": s + 4, "labels": ["ORG"]}}) for i, s in enumerate((0, 9))]
    with pytest.raises(Problem, match="at most 1"):
        config.collect({"text": text}, {"region": regions})


def test_form_fields_for_regions_are_hidden_json(shared_configs):
    config = parse_config(shared_configs["ner.xml"])
    text = "Zoë works at ACME"
    html = str(config.render({"text": text}, [span(text, "Zoë", "PERSON", "h1") | {"from_name": "label"}]))
    assert json.loads(form_of(html)["region"][0])["value"]["text"] == "Zoë"
