"""The model quality numbers, on hand-built results whose answers are worked out in the comments."""

from __future__ import annotations

import pytest
from lxml import etree

from app.ml.quality import (
    Counts,
    Item,
    chart_svg,
    iou,
    items,
    match,
    summarize,
    unchanged,
)

SVG = "{http://www.w3.org/2000/svg}"


def span(start, end, *labels, name="label", **extra):
    return {"from_name": name, "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "labels": list(labels)}, **extra}


def box(x, y, w, h, *labels, name="box", **extra):
    return {"from_name": name, "to_name": "image", "type": "rectanglelabels",
            "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": list(labels)},
            **extra}


def choices(*values, name="sentiment"):
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(values)}}


def counts(result: dict[str, Counts]) -> dict[str, tuple[int, int, int]]:
    return {label: (c.tp, c.fp, c.fn) for label, c in result.items()}


# "John lives in Paris": PER 0-4 is right, LOC 14-19 is one character off (13-19), PER 5-10 is spurious
PREDICTED_SPANS = [span(0, 4, "PER"), span(14, 19, "LOC"), span(5, 10, "PER")]
FINAL_SPANS = [span(0, 4, "PER"), span(13, 19, "LOC")]


# -- items ---------------------------------------------------------------------------------------

def test_items_one_per_label_and_other_types_left_out():
    result = [span(0, 4, "PER", "ORG", id="a", score=0.9),
              {"from_name": "notes", "to_name": "text", "type": "textarea", "value": {"text": ["hi"]}},
              {"from_name": "poly", "to_name": "image", "type": "polygonlabels",
               "value": {"points": [[0, 0], [1, 1], [0, 1]], "polygonlabels": ["Car"]}},
              {"from_id": "a", "to_id": "b", "type": "relation", "direction": "right"}]
    assert items(result) == [Item("span", "label", "PER", ("0", "4", None, None)),
                             Item("span", "label", "ORG", ("0", "4", None, None))]


def test_items_hypertext_keeps_offsets():
    region = {"from_name": "ner", "to_name": "html", "type": "hypertextlabels",
              "value": {"start": "/p[1]", "end": "/p[2]", "startOffset": 3, "endOffset": 7, "hypertextlabels": ["X"]}}
    assert items([region]) == [Item("span", "ner", "X", ("/p[1]", "/p[2]", "3", "7"))]


def test_paragraph_index_as_int_matches_the_stored_string():
    # Labelwell stores paragraph indexes as strings ("0"); a model may send 0
    pred = {"from_name": "p", "to_name": "d", "type": "paragraphlabels",
            "value": {"start": 0, "end": 1, "startOffset": 2, "endOffset": 5, "paragraphlabels": ["Q"]}}
    final = {**pred, "value": {**pred["value"], "start": "0", "end": "1"}}
    assert counts(match([pred], [final])) == {"Q": (1, 0, 0)}


def test_malformed_box_is_no_item():
    bad = box(0, 0, 10, 10, "Car")
    bad["value"]["x"] = "left"
    assert items([bad, None, {"type": "labels", "value": "nope"}]) == []


# -- match ---------------------------------------------------------------------------------------

def test_spans_match_exactly():
    result = match(PREDICTED_SPANS, FINAL_SPANS)
    # PER: 0-4 found (tp), 5-10 not in the final (fp). LOC: 14-19 is not 13-19, so fp and fn
    assert counts(result) == {"PER": (1, 1, 0), "LOC": (0, 1, 1)}
    # PER: P = 1/2, R = 1/1, F1 = 2 * 0.5 * 1 / 1.5 = 2/3
    assert result["PER"].precision == 0.5
    assert result["PER"].recall == 1.0
    assert result["PER"].f1 == pytest.approx(2 / 3)
    # LOC: P = 0/1 and R = 0/1 are both defined, so F1 is 0, not None
    assert (result["LOC"].precision, result["LOC"].recall, result["LOC"].f1) == (0.0, 0.0, 0.0)


def test_duplicates_pair_off_one_to_one():
    assert counts(match([span(0, 4, "PER"), span(0, 4, "PER")], [span(0, 4, "PER")])) == {"PER": (1, 1, 0)}


def test_same_label_on_another_control_does_not_match_but_is_counted_together():
    result = match([span(0, 4, "PER", name="a")], [span(0, 4, "PER", name="b")])
    assert counts(result) == {"PER": (0, 1, 1)}


def test_counts_undefined_metrics_are_none():
    assert (Counts().precision, Counts().recall, Counts().f1) == (None, None, None)
    missed = Counts(tp=0, fp=0, fn=2)  # never predicted: precision undefined, recall 0
    assert (missed.precision, missed.recall, missed.f1) == (None, 0.0, None)


def test_iou_by_hand():
    # (0,0,10,10) vs (2.5,0,10,10): overlap 7.5 x 10 = 75, union 100 + 100 - 75 = 125, IoU 75/125 = 0.6
    assert iou((0, 0, 10, 10), (2.5, 0, 10, 10)) == pytest.approx(0.6)
    # (0,0,10,4) lies inside (0,0,10,10): 40 / 100 = 0.4
    assert iou((0, 0, 10, 4), (0, 0, 10, 10)) == pytest.approx(0.4)
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0
    assert iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0  # no area, no division by zero


def test_boxes_match_at_iou_half_or_more():
    predicted = [box(0, 0, 10, 6, "Car"),  # inside (0,0,10,10): 60/100 = 0.6, a match
                 box(50, 50, 10, 4, "Truck"),  # inside (50,50,10,10): 40/100 = 0.4, no match
                 box(80, 80, 10, 5, "Bus")]  # inside (80,80,10,10): 50/100 = 0.5 exactly, a match
    final = [box(0, 0, 10, 10, "Car"), box(50, 50, 10, 10, "Truck"), box(80, 80, 10, 10, "Bus")]
    assert counts(match(predicted, final)) == {"Car": (1, 0, 0), "Truck": (0, 1, 1), "Bus": (1, 0, 0)}


def test_box_typed_rectangle_counts_too():
    final = box(0, 0, 10, 10, "Car")
    final["type"] = "rectangle"  # Label Studio also writes the unlabelled type for a <RectangleLabels>
    assert counts(match([box(0, 0, 10, 10, "Car")], [final])) == {"Car": (1, 0, 0)}


def test_box_label_must_agree():
    assert counts(match([box(0, 0, 10, 10, "Car")], [box(0, 0, 10, 10, "Truck")])) == {"Car": (0, 1, 0),
                                                                                       "Truck": (0, 0, 1)}


def test_two_predicted_boxes_on_one_final_box():
    # both overlap the final box (IoU 0.6 and 0.8), but it can be matched once: 1 tp, 1 fp
    predicted = [box(0, 0, 10, 6, "Car"), box(0, 0, 10, 8, "Car")]
    assert counts(match(predicted, [box(0, 0, 10, 10, "Car")])) == {"Car": (1, 1, 0)}


def test_greedy_takes_the_best_pair_first():
    # all 10 high, so IoU = overlap / union of the x ranges. P1=[2,12], P2=[0,9]; F1=[0,10], F2=[4,14]
    # P2-F1 = 9/10 = 0.9; P1-F1 = 8/12 = 2/3; P1-F2 = 8/12 = 2/3; P2-F2 = 5/14 = 0.36 (no match)
    # best first: P2-F1, then P1-F2: 2 tp. Taking P1 first (input order) would pair P1-F1 and leave P2 alone
    predicted = [box(2, 0, 10, 10, "Car"), box(0, 0, 9, 10, "Car")]
    final = [box(0, 0, 10, 10, "Car"), box(4, 0, 10, 10, "Car")]
    assert counts(match(predicted, final)) == {"Car": (2, 0, 0)}


def test_choices_each_value_is_an_item():
    result = match([choices("Positive", "Urgent")], [choices("Positive", "Spam")])
    assert counts(result) == {"Positive": (1, 0, 0), "Urgent": (0, 1, 0), "Spam": (0, 0, 1)}


def test_taxonomy_paths():
    def taxonomy(*paths):
        return {"from_name": "tax", "to_name": "text", "type": "taxonomy", "value": {"taxonomy": [list(p) for p in paths]}}

    result = match([taxonomy(["Animal", "Cat"], ["Plant"])], [taxonomy(["Animal", "Cat"], ["Animal", "Dog"])])
    assert counts(result) == {"Animal / Cat": (1, 0, 0), "Plant": (0, 1, 0), "Animal / Dog": (0, 0, 1)}


# -- unchanged -----------------------------------------------------------------------------------

def test_unchanged_ignores_ids_origin_score_and_float_noise():
    predicted = [box(10, 20, 30, 40, "Car", id="p1", score=0.93), choices("Positive")]
    final = [choices("Positive"), box(10 + 1e-7, 20, 30 - 1e-7, 40.0, "Car", id="x9", origin="prediction",
                                      readonly=False, original_width=640)]
    assert unchanged(predicted, final) is True


def test_unchanged_float_noise_around_zero():
    # round(-1e-7, 4) is -0.0, which must still equal 0
    assert unchanged([box(0, 0, 10, 10, "Car")], [box(-1e-7, 0, 10, 10, "Car")]) is True


def test_unchanged_ignores_what_the_editor_adds():
    # a model may leave out a span's text and a box's rotation; the editor stores text and rotation 0
    predicted = [span(0, 4, "PER"), box(1, 2, 3, 4, "Car")]
    del predicted[1]["value"]["rotation"]
    final = [span(0, 4, "PER"), box(1, 2, 3, 4, "Car")]
    final[0]["value"]["text"] = "John"
    assert unchanged(predicted, final) is True


@pytest.mark.parametrize("final", [
    [span(0, 4, "ORG")],  # label changed
    [span(0, 5, "PER")],  # span moved
    [span(0, 4, "PER"), span(0, 4, "PER")],  # a copy added
    [span(0, 4, "PER"), {"from_name": "notes", "to_name": "text", "type": "textarea", "value": {"text": ["x"]}}],
    [],
])
def test_changed(final):
    assert unchanged([span(0, 4, "PER")], final) is False


def test_empty_is_unchanged():
    assert unchanged([], []) is True


def test_relation_direction_counts_as_a_change():
    relation = {"from_id": "a", "to_id": "b", "type": "relation", "direction": "right", "labels": []}
    assert unchanged([relation], [{**relation, "direction": "left"}]) is False


# -- summarize -----------------------------------------------------------------------------------

def test_summarize_micro_and_macro():
    pairs = [(PREDICTED_SPANS, FINAL_SPANS),  # PER 1/1/0, LOC 0/1/1, changed
             ([span(0, 4, "PER", id="p")], [span(0, 4, "PER", id="f")]),  # PER 1/0/0, unchanged
             ([], [span(20, 25, "ORG")])]  # ORG 0/0/1: the model said nothing
    result = summarize(iter(pairs))
    assert (result["compared"], result["unchanged"]) == (3, 1)
    assert list(result["labels"]) == ["LOC", "ORG", "PER"]
    # PER: tp 2, fp 1, fn 0 -> P 2/3, R 1, F1 = 2 * 2/3 / (5/3) = 0.8
    per = result["labels"]["PER"]
    assert (per["tp"], per["fp"], per["fn"], per["support"]) == (2, 1, 0, 2)
    assert per["precision"] == pytest.approx(2 / 3)
    assert per["recall"] == 1.0
    assert per["f1"] == pytest.approx(0.8)
    assert result["labels"]["LOC"] == {"tp": 0, "fp": 1, "fn": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0,
                                       "support": 1}
    # ORG was never predicted: precision undefined, so F1 undefined
    assert result["labels"]["ORG"] == {"tp": 0, "fp": 0, "fn": 1, "precision": None, "recall": 0.0, "f1": None,
                                       "support": 1}
    # micro: tp 2, fp 2, fn 2 -> 0.5 all round
    assert result["micro"] == {"tp": 2, "fp": 2, "fn": 2, "precision": 0.5, "recall": 0.5, "f1": 0.5}
    # macro: the defined F1s are PER 0.8 and LOC 0.0 -> 0.4
    assert result["macro_f1"] == pytest.approx(0.4)


def test_summarize_nothing():
    assert summarize([]) == {"compared": 0, "unchanged": 0, "labels": {},
                             "micro": {"tp": 0, "fp": 0, "fn": 0, "precision": None, "recall": None, "f1": None},
                             "macro_f1": None}


# -- chart_svg -----------------------------------------------------------------------------------

def parse(svg: str):
    return etree.fromstring(svg.encode())  # also proves the markup is well-formed XML


def test_chart_escapes_versions_and_skips_none():
    points = [{"version": "<script>alert(1)</script>", "f1": 0.5, "precision": 0.6, "recall": None},
              {"version": "v2", "f1": None, "precision": 0.7, "recall": 0.8},
              {"version": "v3", "f1": 0.83, "precision": 0.9, "recall": 0.75}]
    svg = chart_svg(points)
    root = parse(svg)
    assert "<script" not in svg
    assert root.findall(f".//{SVG}script") == []
    assert "&lt;script&gt;" in svg
    # defined values: f1 2, precision 3, recall 2
    assert svg.count("<circle") == 7
    # f1 is broken by v2's None into two single points (no line); precision 3 points, recall 2 points
    lines = root.findall(f"{SVG}polyline")
    assert [len(p.get("points").split()) for p in lines] == [3, 2]
    titles = [c.findtext(f"{SVG}title") for c in root.iter(f"{SVG}circle")]
    assert "v3: f1 0.83" in titles
    assert "<script>alert(1)</script>: f1 0.50" in titles  # the text, once unescaped, is the version as given


def test_chart_root_is_accessible():
    root = parse(chart_svg([{"version": "v1", "f1": 1.0, "precision": 1.0, "recall": 1.0}]))
    assert (root.get("width"), root.get("height"), root.get("role")) == ("640", "240", "img")
    assert root.get("data-testid") == "quality-chart"
    assert root.get("aria-label")
    assert root[0].tag == f"{SVG}title"
    legend = {t.text for t in root.iter(f"{SVG}text")}
    assert {"F1", "Precision", "Recall", "0", "0.25", "0.5", "0.75", "1"} <= legend


def test_chart_one_point_is_just_markers():
    svg = chart_svg([{"version": "v1", "f1": 0.4, "precision": 0.5, "recall": None}])
    assert svg.count("<circle") == 2
    assert "<polyline" not in svg


def test_chart_no_points():
    svg = chart_svg([])
    root = parse(svg)
    assert "No data yet" in svg
    assert "<circle" not in svg
    assert root.get("data-testid") == "quality-chart"
