"""Each component: its partial renders, and form input -> result JSON -> render -> form gives the same result."""

from __future__ import annotations

import json

import lxml.html
import pytest

from components import Problem, parse_config
from tests.components.helpers import form_of, round_trip

TEXT = {"text": "Zoë met Ana in Lisboa"}


def item(from_name: str, to_name: str, kind: str, value: dict, rid: str = "id1", **extra) -> dict:
    return {"id": rid, "from_name": from_name, "to_name": to_name, "type": kind, "value": value, **extra}


CASES = {
    "choices single": (
        '<View><Text name="t" value="$text"/><Choices name="c" toName="t"><Choice value="A"/><Choice value="B"/></Choices></View>',
        TEXT, [item("c", "t", "choices", {"choices": ["B"]})]),
    "choices multiple": (
        '<View><Text name="t" value="$text"/><Choices name="c" toName="t" choice="multiple"><Choice value="A"/>'
        '<Choice value="B"/><Choice value="C"/></Choices></View>',
        TEXT, [item("c", "t", "choices", {"choices": ["A", "C"]})]),
    "choices from task data": (
        '<View><Text name="t" value="$text"/><Choices name="c" toName="t" value="$options"/></View>',
        {**TEXT, "options": [{"value": "Yes"}, {"value": "No"}]}, [item("c", "t", "choices", {"choices": ["No"]})]),
    "textarea": (
        '<View><Text name="t" value="$text"/><TextArea name="n" toName="t" rows="3"/></View>',
        TEXT, [item("n", "t", "textarea", {"text": ["first note", "second\nline"]})]),
    "rating": (
        '<View><Text name="t" value="$text"/><Rating name="r" toName="t" maxRating="10"/></View>',
        TEXT, [item("r", "t", "rating", {"rating": 7})]),
    "number": (
        '<View><Text name="t" value="$text"/><Number name="n" toName="t" min="0" max="10" step="0.5"/></View>',
        TEXT, [item("n", "t", "number", {"number": 2.5})]),
    "datetime": (
        '<View><Text name="t" value="$text"/><DateTime name="d" toName="t" only="date"/></View>',
        TEXT, [item("d", "t", "datetime", {"datetime": "2024-05-03"})]),
    "taxonomy": (
        '<View><Text name="t" value="$text"/><Taxonomy name="tx" toName="t"><Choice value="Europe">'
        '<Choice value="Portugal"><Choice value="Lisboa"/></Choice><Choice value="Spain"/></Choice>'
        '<Choice value="Asia"/></Taxonomy></View>',
        TEXT, [item("tx", "t", "taxonomy", {"taxonomy": [["Europe", "Portugal", "Lisboa"], ["Asia"]]})]),
    "pairwise": (
        '<View><Pairwise name="p" toName="a,b"/><Text name="a" value="$a"/><Text name="b" value="$b"/></View>',
        {"a": "first", "b": "second"}, [item("p", "a,b", "pairwise", {"selected": "right"})]),
    "rectangles": (
        '<View><Image name="img" value="$image"/><RectangleLabels name="box" toName="img">'
        '<Label value="Car"/><Label value="Sign"/></RectangleLabels></View>',
        {"image": "/data/upload/1/a.png"},
        [item("box", "img", "rectanglelabels", {"x": 10.5, "y": 20, "width": 30, "height": 12.25, "rotation": 0,
                                                  "rectanglelabels": ["Car"]}, original_width=640, original_height=480)]),
    "rectangle without labels": (
        '<View><Image name="img" value="$image"/><Rectangle name="box" toName="img"/></View>',
        {"image": "https://example.com/a.jpg"},
        [item("box", "img", "rectangle", {"x": 0, "y": 0, "width": 100, "height": 100, "rotation": 0})]),
    "polygons": (
        '<View><Image name="img" value="$image"/><PolygonLabels name="poly" toName="img"><Label value="Lake"/>'
        '</PolygonLabels></View>',
        {"image": "/data/upload/1/b.png"},
        [item("poly", "img", "polygonlabels", {"points": [[10, 10], [50, 12.5], [30, 40]], "closed": True,
                                                 "polygonlabels": ["Lake"]}, original_width=100, original_height=50)]),
    "key points": (
        '<View><Image name="img" value="$image"/><KeyPointLabels name="kp" toName="img"><Label value="Nose"/>'
        '</KeyPointLabels></View>',
        {"image": "/data/upload/1/c.png"},
        [item("kp", "img", "keypointlabels", {"x": 45.5, "y": 30, "width": 1, "keypointlabels": ["Nose"]},
              original_width=800, original_height=600)]),
    "paragraph labels": (
        '<View><Paragraphs name="dlg" value="$dialogue" layout="dialogue"/><ParagraphLabels name="pl" toName="dlg">'
        '<Label value="Question"/></ParagraphLabels></View>',
        {"dialogue": [{"author": "A", "text": "Where is it?"}, {"author": "B", "text": "Here 👇 now"}]},
        [item("pl", "dlg", "paragraphlabels", {"start": "0", "end": "1", "startOffset": 6, "endOffset": 6,
                                                 "text": "is it?\nHere 👇", "paragraphlabels": ["Question"]})]),
    "hypertext labels": (
        '<View><HyperText name="h" value="$html"/><HyperTextLabels name="hl" toName="h"><Label value="Link"/>'
        '</HyperTextLabels></View>',
        {"html": "<p>See <a href='https://x.org'>this</a></p>"},
        [item("hl", "h", "hypertextlabels", {"start": "/p[1]/a[1]/text()[1]", "end": "/p[1]/a[1]/text()[1]",
                                              "startOffset": 0, "endOffset": 4, "globalOffsets": {"start": 4, "end": 8},
                                              "text": "this", "hypertextlabels": ["Link"]})]),
    "per-region choices and text on spans, with a relation": (
        '<View><Relations><Relation value="knows"/></Relations><Labels name="l" toName="t"><Label value="PER"/></Labels>'
        '<Text name="t" value="$text"/><Choices name="c" toName="t" perRegion="true"><Choice value="real"/>'
        '<Choice value="fictional"/></Choices><TextArea name="note" toName="t" perRegion="true"/></View>',
        TEXT,
        [item("l", "t", "labels", {"start": 0, "end": 3, "text": "Zoë", "labels": ["PER"]}, "s1"),
         item("l", "t", "labels", {"start": 8, "end": 11, "text": "Ana", "labels": ["PER"]}, "s2"),
         item("c", "t", "choices", {"start": 0, "end": 3, "choices": ["fictional"]}, "s1"),
         item("note", "t", "textarea", {"start": 8, "end": 11, "text": ["the other one"]}, "s2"),
         {"from_id": "s1", "to_id": "s2", "type": "relation", "direction": "bi", "labels": ["knows"]}]),
    "per-region label on a box": (
        '<View><Image name="img" value="$image"/><RectangleLabels name="box" toName="img"><Label value="Car"/>'
        '</RectangleLabels><Choices name="colour" toName="img" perRegion="true"><Choice value="red"/></Choices></View>',
        {"image": "/data/upload/1/d.png"},
        [item("box", "img", "rectanglelabels", {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0,
                                                  "rectanglelabels": ["Car"]}, "b1", original_width=10, original_height=10),
         item("colour", "img", "choices", {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0, "choices": ["red"]},
              "b1", original_width=10, original_height=10)]),
}


@pytest.mark.parametrize("case", CASES)
def test_round_trip(case):
    xml, data, results = CASES[case]
    round_trip(xml, data, results)


def test_shared_sample_configs_render_their_own_sample_task(shared_configs):
    for name, xml in shared_configs.items():
        config = parse_config(xml)
        html = str(config.render(config.sample_task()["data"]))
        assert lxml.html.fromstring(html).cssselect(".lw-object"), name


def test_required_blocks_submit_with_the_configs_message_but_not_a_draft():
    config = parse_config('<View><Text name="t" value="$text"/><Choices name="c" toName="t" required="true" '
                          'requiredMessage="Pick a sentiment first"><Choice value="A"/></Choices></View>')
    with pytest.raises(Problem, match="Pick a sentiment first"):
        config.collect(TEXT, {})
    ctx = config.context(TEXT)
    ctx.check_required = False
    assert config.controls[0].collect({}, ctx, {}) == []


def test_visible_when_choice_selected_hides_and_skips_the_dependent_control():
    config = parse_config('<View><Text name="t" value="$text"/>'
                          '<Choices name="kind" toName="t"><Choice value="spam"/><Choice value="ham"/></Choices>'
                          '<Choices name="why" toName="t" visibleWhen="choice-selected" whenTagName="kind" '
                          'whenChoiceValue="spam" required="true"><Choice value="ads"/></Choices></View>')
    assert lxml.html.fromstring(str(config.render(TEXT))).cssselect("[data-control=why]")[0].get("hidden") is not None
    # not shown, so neither required nor submitted
    assert [r["from_name"] for r in config.collect(TEXT, {"kind": ["ham"], "why": ["ads"]})] == ["kind"]
    shown = config.collect(TEXT, {"kind": ["spam"], "why": ["ads"]})
    assert [r["from_name"] for r in shown] == ["kind", "why"]
    with pytest.raises(Problem, match="why is required"):
        config.collect(TEXT, {"kind": ["spam"]})


def test_per_region_control_limited_to_some_labels():
    config = parse_config('<View><Labels name="l" toName="t"><Label value="PER"/><Label value="ORG"/></Labels>'
                          '<Text name="t" value="$text"/><TextArea name="role" toName="t" perRegion="true" '
                          'whenLabelValue="PER"/></View>')
    spans = [item("l", "t", "labels", {"start": 0, "end": 3, "text": "Zoë", "labels": ["PER"]}, "p1"),
             item("l", "t", "labels", {"start": 15, "end": 21, "text": "Lisboa", "labels": ["ORG"]}, "p2")]
    html = str(config.render(TEXT, spans))
    assert set(form_of(html)) == {"region", "role@p1"}


@pytest.mark.parametrize(("xml", "form", "words"), [
    ('<Choices name="c" toName="t"><Choice value="A"/><Choice value="B"/></Choices>', {"c": ["A", "B"]}, "one choice"),
    ('<Choices name="c" toName="t"><Choice value="A"/></Choices>', {"c": ["Z"]}, "no choice 'Z'"),
    ('<Rating name="r" toName="t"/>', {"r": ["6"]}, "from 1 to 5"),
    ('<Number name="n" toName="t" min="1" max="3"/>', {"n": ["9"]}, "between 1 and 3"),
    ('<Number name="n" toName="t"/>', {"n": ["ten"]}, "takes a number"),
    ('<DateTime name="d" toName="t" only="date"/>', {"d": ["03/05/2024"]}, "is not a date"),
    ('<TextArea name="n" toName="t" maxSubmissions="1"/>', {"n": ["a", "b"]}, "at most 1"),
    ('<Taxonomy name="x" toName="t" leafsOnly="true"><Choice value="A"><Choice value="B"/></Choice></Taxonomy>',
     {"x": ['["A"]']}, "only the last level"),
])
def test_bad_form_input_is_refused_naming_the_control(xml, form, words):
    config = parse_config(f'<View><Text name="t" value="$text"/>{xml}</View>')
    with pytest.raises(Problem, match=words):
        config.collect(TEXT, form)


def test_rating_renders_stars_and_checks_the_saved_one():
    config = parse_config('<View><Text name="t" value="$text"/><Rating name="r" toName="t" maxRating="4"/></View>')
    page = lxml.html.fromstring(str(config.render(TEXT, [item("r", "t", "rating", {"rating": 3})])))
    radios = page.cssselect("input[name=r]")
    assert len(radios) == 4 and [r.get("value") for r in radios if r.get("checked") is not None] == ["3"]


def test_header_fills_variables_and_escapes_them():
    config = parse_config('<View><Header value="Review: $title"/><Text name="t" value="$text"/></View>')
    html = str(config.render({**TEXT, "title": "<b>Best</b> phone"}))
    assert lxml.html.fromstring(html).cssselect("h4")[0].text_content() == "Review: <b>Best</b> phone"
    assert "<b>Best</b>" not in html


def test_hypertext_is_sanitised():
    config = parse_config('<View><HyperText name="h" value="$html"/></View>')
    html = str(config.render({"html": '<p onclick="steal()">Hi <b>there</b><script>alert(1)</script>'
                                      '<img src=x onerror="alert(2)"><iframe src="https://evil"></iframe></p>'}))
    assert "<b>there</b>" in html
    for bad in ("onclick", "<script", "onerror", "<iframe"):
        assert bad not in html


def test_text_from_task_data_is_escaped():
    config = parse_config('<View><Text name="t" value="$text"/></View>')
    html = str(config.render({"text": "<script>alert(1)</script> & more"}))
    assert "<script>" not in html
    assert lxml.html.fromstring(html).cssselect(".lw-text-body")[0].text_content() == "<script>alert(1)</script> & more"


def test_style_is_scoped_and_cleaned():
    config = parse_config('<View><Style>.big, h4 { font-size: 2em; background: url(https://evil/x.png) }'
                          '@import url(https://evil/a.css); p { color: red }</Style>'
                          '<View style="color: blue; background-image: url(https://evil/y.png)"><Header value="x"/></View></View>')
    html = str(config.render({}))
    assert ".lw-form .big, .lw-form h4 { font-size: 2em }" in html
    assert ".lw-form p { color: red }" in html
    assert "evil" not in html and "@import" not in html
    assert 'style="color: blue"' in html


def test_table_shows_keys_and_values():
    config = parse_config('<View><Table name="tb" value="$order"/></View>')
    page = lxml.html.fromstring(str(config.render({"order": {"id": "A-1", "total": 12.5}})))
    assert [(r[0].text_content(), r[1].text_content()) for r in page.cssselect("tr")] == [("id", "A-1"), ("total", "12.5")]


def test_dialogue_layout_shows_authors():
    config = parse_config('<View><Paragraphs name="d" value="$d" layout="dialogue" nameKey="who" textKey="said"/></View>')
    page = lxml.html.fromstring(str(config.render({"d": [{"who": "Ana", "said": "Olá"}, {"who": "Bo", "said": "Hej"}]})))
    assert [a.text_content() for a in page.cssselect(".lw-author")] == ["Ana", "Bo"]
    assert page.cssselect(".lw-dialogue")


def test_image_address_must_be_safe():
    config = parse_config('<View><Image name="i" value="$image"/></View>')
    assert "<img" not in str(config.render({"image": "javascript:alert(1)"}))
    assert 'src="/data/upload/3/x.png"' in str(config.render({"image": "/data/upload/3/x.png"}))


def test_boxes_are_drawn_in_the_original_pixel_space():
    xml, data, results = CASES["rectangles"]
    page = lxml.html.fromstring(str(parse_config(xml).render(data, results)))
    assert page.cssselect("svg")[0].get("viewbox") == "0 0 640 480"  # lxml.html lower-cases names
    rect = page.cssselect("rect")[0]
    assert (float(rect.get("x")), float(rect.get("width"))) == (67.2, 192.0)


def test_readonly_render_has_no_inputs_to_submit():
    xml, data, results = CASES["per-region choices and text on spans, with a relation"]
    html = str(parse_config(xml).render(data, results, readonly=True))
    assert form_of(html) == {}


def test_a_prediction_renders_into_the_form_like_an_annotation():
    xml, data, results = CASES["choices single"]
    prediction = [dict(results[0], origin="prediction", score=0.8)]
    form = form_of(str(parse_config(xml).render(data, prediction)))
    assert form["c"] == ["B"] and form["id:c"] == ["id1"]


def test_relation_to_a_region_that_is_not_there_is_refused():
    xml, data, results = CASES["per-region choices and text on spans, with a relation"]
    bad = {"from_id": "s1", "to_id": "ghost", "direction": "right"}
    with pytest.raises(Problem, match="ghost"):
        parse_config(xml).collect(data, {"region": [json.dumps(results[0])], "relation": [json.dumps(bad)]})
