"""Odd and hostile input never crashes the engine: it is refused with a reason, or shown safely."""

from __future__ import annotations

import json

import pytest

from components import ConfigError, Problem, parse_config

TEXT = '<View><Labels name="l" toName="t"><Label value="A"/></Labels><Text name="t" value="$t"/></View>'


@pytest.mark.parametrize("result", [
    [{"from_name": [], "to_name": "t", "type": "labels", "value": {}}],
    [{"id": "x", "from_name": "l", "to_name": "t", "type": "labels", "value": {"start": 0, "end": 2, "labels": [["A"]]}}],
    [{"id": "x", "from_name": "l", "to_name": "t", "type": "labels", "value": None}],
    [{"id": {"a": 1}, "from_name": "l", "to_name": "t", "type": "labels", "value": {"start": 0, "end": 1, "labels": ["A"]}}],
    [None, 3, "x"],
])
def test_malformed_results_are_errors_not_crashes(result):
    errors, _ = parse_config(TEXT).check_results(result, {"t": "hello"})
    assert errors


def test_results_without_ids_render_and_keep_their_answer():
    config = parse_config('<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="a"/></Choices></View>')
    result = [{"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": ["a"]}}]
    assert config.check_results(result, {"t": "x"}) == ([], [])
    assert 'value="a" checked' in str(config.render({"t": "x"}, result))


def test_unchecked_junk_is_left_out_of_a_render():
    config = parse_config(TEXT)
    html = str(config.render({"t": "hello"}, [None, {"from_name": "l", "value": None}, {"type": "relation", "direction": "up"}]))
    assert "lw-text-body" in html


def test_image_sizes_must_be_whole_pixels():
    config = parse_config('<View><Image name="i" value="$img"/><RectangleLabels name="r" toName="i"><Label value="A"/>'
                          '</RectangleLabels></View>')
    item = {"id": "b", "from_name": "r", "to_name": "i", "type": "rectanglelabels", "original_width": "800",
            "original_height": 600, "value": {"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["A"]}}
    errors, _ = config.check_results([item], {"img": "/a.png"})
    assert "original_width" in errors[0]


def test_deep_nesting_is_refused():
    with pytest.raises(ConfigError, match="nested more than"):
        parse_config("<View>" * 180 + '<Header value="x"/>' + "</View>" * 180)


def test_url_text_only_links_to_web_addresses():
    config = parse_config('<View><Text name="t" value="$t" valueType="url"/></View>')
    assert "href" not in str(config.render({"t": "javascript:alert(document.cookie)"}))
    assert 'href="https://example.com/a.txt"' in str(config.render({"t": "https://example.com/a.txt"}))


@pytest.mark.parametrize(("xml", "form"), [
    ('<Taxonomy name="x" toName="t"><Choice value="A"/></Taxonomy>', {"x": ["5"]}),
    ('<Taxonomy name="x" toName="t"><Choice value="A"/></Taxonomy>', {"x": ['[["A"]]']}),
    ('<Rating name="r" toName="t"/>', {"r": ["²"]}),
    ('<Relations><Relation value="R"/></Relations>', {"relation": [json.dumps({"from_id": "a", "to_id": "b", "labels": [["R"]]})]}),
    ('', {"region": [json.dumps({"from_name": [], "value": {}})]}),
])
def test_bad_form_input_is_a_problem_not_a_crash(xml, form):
    config = parse_config(f'<View><Text name="t" value="$t"/>{xml}</View>')
    with pytest.raises(Problem):
        config.collect({"t": "hello"}, form)


def test_word_snapping_waits_for_the_to_name_check():
    config = parse_config('<View><HyperText name="h" value="$h" granularity="word"/><Text name="t" value="$t"/>'
                          '<Labels name="l" toName="t"><Label value="A"/></Labels></View>')
    region = {"id": "r", "from_name": "l", "to_name": "h", "type": "labels", "value": {"start": 0, "end": 1, "labels": ["A"]}}
    with pytest.raises(Problem, match="cannot label"):
        config.collect({"t": "x", "h": "<p>x</p>"}, {"region": [json.dumps(region)]})


def test_css_cannot_fetch_or_reach_outside_the_form():
    config = parse_config("<View><Style>~ * { color: red } .a { background: image-set('https://evil/x' 1x) } "
                          ".b { color: green }</Style><View style=\"background: -webkit-image-set('https://evil/y' 1x)\"/>"
                          "</View>")
    html = str(config.render({}))
    assert "evil" not in html and "~ *" not in html and ".lw-form .b { color: green }" in html


def test_label_colours_from_task_data_must_be_colours():
    config = parse_config('<View><Text name="t" value="$t"/><Labels name="l" toName="t" value="$opts"/></View>')
    html = str(config.render({"t": "x", "opts": [{"value": "A", "background": "red; background-image: image-set('https://evil')"}]}))
    assert "evil" not in html


def test_max_rating_is_bounded():
    with pytest.raises(ConfigError, match="maxRating"):
        parse_config('<View><Text name="t" value="$t"/><Rating name="r" toName="t" maxRating="1000000"/></View>')


def test_an_encoding_declaration_does_not_garble_labels():
    config = parse_config('<?xml version="1.0" encoding="ISO-8859-1"?><View><Text name="t" value="$t"/>'
                          '<Choices name="c" toName="t"><Choice value="café"/></Choices></View>')
    assert config.controls[0].label_values() == ["café"]
