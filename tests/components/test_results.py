"""Results from outside (imports, predictions, the API) are checked against the config: errors name
the item and say why; extra labels and mismatched span text are kept but flagged."""

from __future__ import annotations

import lxml.html
import pytest

from components import parse_config

BOXES = """<View>
  <Image name="img" value="$image"/>
  <RectangleLabels name="tag" toName="img"><Label value="Moonwalker"/><Label value="Planet"/></RectangleLabels>
</View>"""

# the rectangle example from Label Studio's task-format documentation, as exported there
LS_DOC_TASK = {
    "data": {"image": "https://example.com/opensource/label-studio/1.jpg"},
    "annotations": [{"result": [{"from_name": "tag", "id": "Dx_aB91ISN", "source": "$image", "to_name": "img",
                                 "type": "rectanglelabels", "value": {"height": 10.458911419423693,
                                 "rectanglelabels": ["Moonwalker"], "rotation": 0, "width": 12.4, "x": 50.8,
                                 "y": 5.869797225186766}}]}],
    "predictions": [{"model_version": "model 1", "result": [{"from_name": "tag", "id": "t5sp3TyXPo", "source": "$image",
                     "to_name": "img", "type": "rectanglelabels", "value": {"height": 11.612284069097889,
                     "rectanglelabels": ["Moonwalker"], "rotation": 0, "width": 39.6, "x": 13.2,
                     "y": 34.702495201535505}}]}],
}


def test_label_studio_documentation_example_validates_and_renders():
    config = parse_config(BOXES)
    for result in (LS_DOC_TASK["annotations"][0]["result"], LS_DOC_TASK["predictions"][0]["result"]):
        assert config.check_results(result, LS_DOC_TASK["data"]) == ([], [])
        page = lxml.html.fromstring(str(config.render(LS_DOC_TASK["data"], result)))
        assert len(page.cssselect("svg rect")) == 1
        assert page.cssselect(".lw-region strong")[0].text_content() == "Moonwalker"


def test_label_studio_text_classification_and_ner_examples():
    config = parse_config("""<View><Text name="text" value="$text"/>
      <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
      <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>""")
    data = {"text": "Barack Obama was president of the USA"}
    result = [
        {"value": {"start": 0, "end": 12, "text": "Barack Obama", "labels": ["PER"]}, "id": "ab12cd", "from_name": "label",
         "to_name": "text", "type": "labels", "origin": "manual"},
        {"value": {"choices": ["Positive"]}, "id": "cd34ef", "from_name": "sentiment", "to_name": "text",
         "type": "choices", "origin": "manual", "readonly": False, "hidden": False},
    ]
    assert config.check_results(result, data) == ([], [])


def box(**value) -> dict:
    base = {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0, "rectanglelabels": ["Planet"]}
    return {"id": "b1", "from_name": "tag", "to_name": "img", "type": "rectanglelabels", "value": {**base, **value}}


@pytest.mark.parametrize(("result", "words"), [
    ([dict(box(), from_name="nope")], "from_name 'nope' is not a control"),
    ([dict(box(), to_name="other")], "to_name 'other'"),
    ([dict(box(), type="polygonlabels")], "type 'polygonlabels' does not fit <RectangleLabels>"),
    ([box(x=120)], "value.x must be a number from 0 to 100"),
    ([box(x=90, width=30)], "reaches outside the image"),
    ([box(width=0)], "width and a height above 0"),
    ([box(x="10")], "value.x must be a number"),
    ([dict(box(), value=[])], "value must be an object"),
    (["not an object"], "is not an object"),
    ([box(), {"type": "relation", "from_id": "b1", "to_id": "missing"}], "to_id 'missing'"),
    ([box(), {"type": "relation", "from_id": "b1", "to_id": "b1", "direction": "up"}], "direction"),
])
def test_malformed_results_are_rejected_naming_the_item(result, words):
    errors, _ = parse_config(BOXES).check_results(result, {"image": "/x.png"})
    assert len(errors) == 1 and words in errors[0]
    assert errors[0].startswith(f"item {len(result) - 1}")


def test_result_must_be_a_list():
    assert parse_config(BOXES).check_results({"oops": 1}, {})[0] == ["the result must be a list of items"]


def test_a_models_extra_label_is_kept_and_flagged():
    errors, warnings = parse_config(BOXES).check_results([box(rectanglelabels=["UFO"])], {"image": "/x.png"})
    assert errors == [] and warnings == ["item 0 (tag): label(s) 'UFO' are not in the config"]


def test_text_span_errors():
    config = parse_config('<View><Labels name="l" toName="t"><Label value="A"/></Labels><Text name="t" value="$t"/></View>')
    cases = [({"start": 4, "end": 2}, "outside the text"), ({"start": 0, "end": 50}, "outside the text")]
    for value, words in cases:
        item = {"id": "s", "from_name": "l", "to_name": "t", "type": "labels", "value": {**value, "labels": ["A"]}}
        errors, _ = config.check_results([item], {"t": "short text"})
        assert words in errors[0]


@pytest.mark.parametrize(("xml", "value", "words"), [
    ('<Choices name="c" toName="t"><Choice value="A"/></Choices>', {"choices": "A"}, "must be a list"),
    ('<Rating name="c" toName="t"/>', {"rating": -1}, "whole number"),
    ('<Number name="c" toName="t"/>', {"number": "3"}, "must be a number"),
    ('<TextArea name="c" toName="t"/>', {"text": "hello"}, "list of strings"),
    ('<Taxonomy name="c" toName="t"><Choice value="A"/></Taxonomy>', {"taxonomy": ["A"]}, "list of paths"),
    ('<DateTime name="c" toName="t"/>', {"datetime": 2024}, "must be a string"),
    ('<Choices name="c" toName="t"><Choice value="A"/></Choices>', {"rating": 3}, "no 'choices'"),
])
def test_classification_values_are_checked(xml, value, words):
    config = parse_config(f'<View><Text name="t" value="$t"/>{xml}</View>')
    kind = config.controls[0].result_type
    errors, _ = config.check_results([{"id": "x", "from_name": "c", "to_name": "t", "type": kind, "value": value}], {"t": "x"})
    assert words in errors[0]
