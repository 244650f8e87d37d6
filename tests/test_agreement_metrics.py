"""Agreement metrics: textbook answers, cross-checks against sklearn and krippendorff, hand-worked pair scores."""

from __future__ import annotations

import random

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from app.agreement.metrics import (
    METRICS,
    cohen_kappa,
    controls_of,
    fleiss_kappa,
    kind_of,
    krippendorff_alpha,
    observed_agreement,
    pair_score,
    polygon_iou,
    task_agreement,
)


def span(start, end, *labels, name="ner", **extra):
    return {"from_name": name, "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "labels": list(labels), **extra}}


def box(x, y, w, h, *labels, name="box"):
    return {"from_name": name, "to_name": "image", "type": "rectanglelabels",
            "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": list(labels)}}


def polygon(points, *labels, name="poly"):
    return {"from_name": name, "to_name": "image", "type": "polygonlabels",
            "value": {"points": points, "polygonlabels": list(labels)}}


def choices(*chosen, name="sentiment"):
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(chosen)}}


def rating(stars, name="stars"):
    return {"from_name": name, "to_name": "text", "type": "rating", "value": {"rating": stars}}


def textarea(*texts, name="note"):
    return {"from_name": name, "to_name": "text", "type": "textarea", "value": {"text": list(texts)}}


# ==== textbook examples ====

def test_cohen_kappa_classic_two_by_two():
    # yes/yes 20, no/no 15, yes/no 5, no/yes 10: p_o = 35/50 = 0.7; p_e = .5*.6 + .5*.4 = 0.5; kappa = 0.4
    pairs = [("yes", "yes")] * 20 + [("no", "no")] * 15 + [("yes", "no")] * 5 + [("no", "yes")] * 10
    a, b = zip(*pairs)
    assert cohen_kappa(list(a), list(b)) == pytest.approx(0.4, abs=1e-12)


def test_cohen_kappa_undefined_and_mismatched():
    assert cohen_kappa(["x", "x"], ["x", "x"]) is None  # p_e = 1
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError):
        cohen_kappa(["x"], ["x", "y"])


# Wikipedia's Fleiss' kappa worked example: 10 subjects, 14 raters, counts per category 1..5.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_wikipedia_example():
    table = [[str(cat) for cat, n in enumerate(row, 1) for _ in range(n)] for row in FLEISS_COUNTS]
    assert all(len(row) == 14 for row in table)
    # P-bar = 0.37802..., P_e = 0.21342...; Wikipedia rounds kappa to 0.210
    kappa = fleiss_kappa(table)
    assert round(kappa, 3) == 0.210
    assert kappa == pytest.approx(0.209930704, abs=1e-9)


def test_fleiss_kappa_varying_raters_per_item():
    # Item 3 has one rating and is dropped. P_1 = (4-2)/2 = 1, P_2 = (1+4-3)/6 = 1/3, P-bar = 2/3;
    # p_a = 3/5, p_b = 2/5, P_e = 13/25; kappa = (2/3 - 13/25) / (12/25) = 11/36
    table = [["a", "a", None], ["a", "b", "b"], ["b", None, None]]
    assert fleiss_kappa(table) == pytest.approx(11 / 36, abs=1e-12)
    assert fleiss_kappa([["a", "a"], ["a", "a"]]) is None
    assert fleiss_kappa([["a", None]]) is None


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders, 12 units.
K_A = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
K_B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
K_C = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
K_D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
K_TABLE = [list(unit) for unit in zip(K_A, K_B, K_C, K_D)]


def test_krippendorff_alpha_published_example():
    assert round(krippendorff_alpha(K_TABLE), 3) == 0.743
    assert round(krippendorff_alpha(K_TABLE, "interval"), 3) == 0.849
    # The same data as strings for the nominal level: categories, not numbers
    as_text = [[None if x is None else str(x) for x in unit] for unit in K_TABLE]
    assert krippendorff_alpha(as_text) == pytest.approx(krippendorff_alpha(K_TABLE), abs=1e-12)


def test_krippendorff_alpha_matches_package_on_published_example():
    data = np.array([K_A, K_B, K_C, K_D], dtype=float)  # None -> nan; coders are rows there
    for level in ("nominal", "interval"):
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert krippendorff_alpha(K_TABLE, level) == pytest.approx(expected, abs=1e-12)


def test_krippendorff_alpha_edge_cases():
    assert krippendorff_alpha([["a", "a"], ["a", "a", None]]) is None  # no variation
    assert krippendorff_alpha([["a", None], [None, "b"]]) is None  # nothing pairable
    with pytest.raises(ValueError):
        krippendorff_alpha(K_TABLE, "ordinal")


def test_observed_agreement():
    # unit 1: 1 of 3 pairs agree; unit 2: all agree; unit 3: one value, dropped -> (1/3 + 1) / 2
    table = [["a", "a", "b"], ["c", "c", None], ["d", None, None]]
    assert observed_agreement(table) == pytest.approx(2 / 3, abs=1e-12)
    assert observed_agreement([["a", None]]) is None


# ==== cross-checks against well-known packages ====

@pytest.mark.parametrize("seed", range(8))
def test_cohen_kappa_matches_sklearn(seed):
    rng = random.Random(seed)
    cats = ["cat", "dog", "bird", "fish"][: rng.randint(2, 4)]
    a = [rng.choice(cats) for _ in range(rng.randint(20, 80))]
    # b copies a often so kappa is well away from 0
    b = [x if rng.random() < 0.6 else rng.choice(cats) for x in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def random_table(seed, units=30, coders=5, cats=4, missing=0.3):
    rng = random.Random(seed)
    table = []
    for _ in range(units):
        truth = rng.randrange(cats)
        table.append([None if rng.random() < missing else (truth if rng.random() < 0.6 else rng.randrange(cats))
                      for _ in range(coders)])
    return table


@pytest.mark.parametrize("seed", range(8))
def test_krippendorff_alpha_matches_package(seed):
    table = random_table(seed)
    names = ["red", "green", "blue", "black"]  # we work on category labels; the package wants numbers
    labelled = [[None if x is None else names[x] for x in unit] for unit in table]
    data = np.array([[np.nan if x is None else x for x in coder] for coder in zip(*table)], dtype=float)
    nominal = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    interval = krippendorff.alpha(reliability_data=data, level_of_measurement="interval")
    assert krippendorff_alpha(labelled) == pytest.approx(nominal, abs=1e-12)
    assert krippendorff_alpha(table, "interval") == pytest.approx(interval, abs=1e-12)


# ==== pair scores ====

def test_span_exact_versus_overlap():
    a = [span(0, 5, "PER"), span(10, 20, "ORG")]
    b = [span(0, 5, "PER"), span(12, 25, "ORG"), span(30, 35, "LOC")]
    assert pair_score("span", a, b, mode="exact") == pytest.approx(2 * 1 / 5)  # PER only
    assert pair_score("span", a, b, mode="overlap") == pytest.approx(2 * 2 / 5)  # PER and ORG
    # the same position with another label never matches
    assert pair_score("span", [span(0, 5, "PER")], [span(0, 5, "ORG")], mode="overlap") == 0.0


def test_span_items_are_one_per_label():
    # one region with two labels is two items: one of them matched -> 2*1/(2+1)
    assert pair_score("span", [span(0, 5, "PER", "ORG")], [span(0, 5, "PER")]) == pytest.approx(2 / 3)


def test_span_overlap_is_one_to_one_greedy_largest_first():
    # A2-B2 has the largest IoU (0.9) and is taken first; that leaves A1 (overlapping only B2)
    # unmatched, although A1-B2 + A2-B1 would match both: 1 match -> 2/4
    a = [span(0, 4, "X"), span(0, 10, "X")]
    b = [span(5, 10, "X"), span(0, 9, "X")]
    assert pair_score("span", a, b, mode="overlap") == pytest.approx(0.5)
    assert pair_score("span", [span(0, 10, "X")], [span(0, 4, "X"), span(2, 10, "X")], mode="overlap") \
        == pytest.approx(2 / 3)


def test_span_overlap_boundaries():
    # end is exclusive: touching spans share nothing, one shared character is an overlap
    assert pair_score("span", [span(0, 5, "X")], [span(5, 10, "X")], mode="overlap") == 0.0
    assert pair_score("span", [span(0, 5, "X")], [span(4, 10, "X")], mode="overlap") == 1.0


def test_span_empty_sides():
    assert pair_score("span", [], []) == 1.0
    assert pair_score("span", [span(0, 1, "X")], []) == 0.0
    with pytest.raises(ValueError):
        pair_score("span", [], [], mode="fuzzy")


def test_hypertext_spans_overlap_within_one_node_only():
    def html(start, end, s, e):
        return {"from_name": "ner", "type": "hypertextlabels",
                "value": {"start": start, "end": end, "startOffset": s, "endOffset": e, "hypertextlabels": ["X"]}}
    same_node = pair_score("span", [html("/p[1]", "/p[1]", 0, 10)], [html("/p[1]", "/p[1]", 5, 15)], mode="overlap")
    assert same_node == 1.0
    other_node = pair_score("span", [html("/p[1]", "/p[1]", 0, 10)], [html("/p[2]", "/p[2]", 0, 10)], mode="overlap")
    assert other_node == 0.0
    # across nodes there is no common axis: only an exact match counts
    across = [html("/p[1]", "/p[2]", 0, 10)]
    assert pair_score("span", across, [html("/p[1]", "/p[2]", 0, 10)], mode="overlap") == 1.0
    assert pair_score("span", across, [html("/p[1]", "/p[2]", 1, 10)], mode="overlap") == 0.0


def test_boxes_iou_threshold():
    a = [box(0, 0, 10, 10, "car")]
    assert pair_score("box", a, [box(0, 0, 10, 6, "car")]) == 1.0  # IoU 60/100 = 0.6
    assert pair_score("box", a, [box(0, 0, 10, 4, "car")]) == 0.0  # IoU 40/100 = 0.4
    assert pair_score("box", a, [box(0, 0, 10, 6, "bus")]) == 0.0  # other label
    assert pair_score("box", a + [box(50, 50, 5, 5, "car")], [box(0, 0, 10, 6, "car")]) == pytest.approx(2 / 3)
    assert pair_score("box", [], []) == 1.0


def test_polygon_iou_by_hand():
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    shifted = [[5, 0], [15, 0], [15, 10], [5, 10]]
    assert polygon_iou(square, shifted) == pytest.approx(50 / 150, abs=1e-12)  # half overlap: 1/3
    # a clockwise triangle inside the square: intersection 50, union 100
    assert polygon_iou([[0, 0], [0, 10], [10, 0]], square) == pytest.approx(0.5, abs=1e-12)
    assert polygon_iou(square, [[20, 20], [30, 20], [30, 30]]) == 0.0
    # an L shape is not convex: its bounding box is the square, so 1.0 (the true IoU would be 0.75)
    ell = [[0, 0], [10, 0], [10, 5], [5, 5], [5, 10], [0, 10]]
    assert polygon_iou(ell, square) == 1.0


def test_polygon_pair_score():
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    three_quarters = [[0, 0], [10, 0], [10, 7.5], [0, 7.5]]  # IoU 0.75
    assert pair_score("polygon", [polygon(square, "roof")], [polygon(three_quarters, "roof")]) == 1.0
    assert pair_score("polygon", [polygon(square, "roof")], [polygon([[5, 0], [15, 0], [15, 10], [5, 10]], "roof")]) \
        == 0.0


def test_textarea_edit_distance():
    assert pair_score("text", [textarea("kitten")], [textarea("sitting")]) == pytest.approx(1 - 3 / 7, abs=1e-12)
    # values are joined with a newline and stripped
    assert pair_score("text", [textarea("a", "b ")], [textarea(" a\nb")]) == 1.0
    assert pair_score("text", [], []) == 1.0
    assert pair_score("text", [textarea("abc")], []) == 0.0


def test_rating_and_number():
    assert pair_score("rating", [rating(4)], [rating(2)], range=4) == pytest.approx(0.5)
    assert pair_score("rating", [rating(5)], [rating(1)], range=2) == 0.0  # clamped, never negative
    assert pair_score("rating", [rating(4)], [rating(2)]) == 0.0  # no range: equal or not
    assert pair_score("rating", [rating(3)], [rating(3)]) == 1.0
    assert pair_score("rating", [rating(3)], []) == 0.0
    assert pair_score("rating", [], []) is None
    num = {"from_name": "n", "type": "number", "value": {"number": 7.5}}
    other = {"from_name": "n", "type": "number", "value": {"number": 5.0}}
    assert pair_score("number", [num], [other], range=10) == pytest.approx(0.75)


def test_choices_are_sets():
    assert pair_score("choice", [choices("a", "b")], [choices("b", "a")]) == 1.0
    assert pair_score("choice", [choices("a")], [choices("a", "b")]) == 0.0
    assert pair_score("choice", [], []) == 1.0
    assert pair_score("choice", [choices("a")], []) == 0.0
    tax = {"from_name": "t", "type": "taxonomy", "value": {"taxonomy": [["Animal", "Cat"]]}}
    same = {"from_name": "t", "type": "taxonomy", "value": {"taxonomy": [["Animal", "Cat"]]}}
    other = {"from_name": "t", "type": "taxonomy", "value": {"taxonomy": [["Animal", "Dog"]]}}
    assert pair_score("choice", [tax], [same]) == 1.0
    assert pair_score("choice", [tax], [other]) == 0.0


def test_other_kinds_are_undefined():
    assert pair_score("other", [], []) is None


@pytest.mark.parametrize(("type_", "kind"), [
    ("labels", "span"), ("hypertextlabels", "span"), ("paragraphlabels", "span"), ("choices", "choice"),
    ("taxonomy", "choice"), ("rectanglelabels", "box"), ("rectangle", "box"), ("polygonlabels", "polygon"),
    ("textarea", "text"), ("rating", "rating"), ("number", "number"), ("keypointlabels", "other"),
])
def test_kind_of(type_, kind):
    assert kind_of([{"from_name": "x", "type": type_, "value": {}}]) == kind


def test_controls_of_skips_relations_and_junk():
    rel = {"type": "relation", "from_id": "a", "to_id": "b"}
    grouped = controls_of([span(0, 1, "X"), rel, "junk", choices("a"), span(2, 3, "Y")])
    assert list(grouped) == ["ner", "sentiment"]
    assert len(grouped["ner"]) == 2


# ==== whole tasks ====

def test_combined_weights():
    # sentiment agrees (1.0); ner: one of two spans matches on each side -> 2*1/4 = 0.5
    u1 = [choices("pos"), span(0, 5, "PER"), span(6, 9, "ORG")]
    u2 = [choices("pos"), span(0, 5, "PER"), span(6, 8, "ORG")]
    assert task_agreement({1: u1, 2: u2}).score == pytest.approx(0.75)
    assert task_agreement({1: u1, 2: u2}, weights={"sentiment": 3, "ner": 1}).score == pytest.approx(3.5 / 4)
    ignored = task_agreement({1: u1, 2: u2}, weights={"ner": 0})
    assert ignored.score == 1.0
    assert ignored.controls == {"ner": 0.5, "sentiment": 1.0}  # still reported per control
    assert task_agreement({1: u1, 2: u2}, span_mode="overlap").score == 1.0
    nothing = task_agreement({1: u1, 2: u2}, weights={"ner": 0, "sentiment": 0})
    assert nothing.score is None
    assert nothing.pairs == {(1, 2): None}


def test_three_annotators_mean_of_pairs():
    # sentiment pairs: (1,2)=1 (1,3)=0 (2,3)=0; stars on a 1..5 scale (range 4): 0.5, 1.0, 0.5
    results = {3: [choices("neg"), rating(5)], 1: [choices("pos"), rating(5)], 2: [choices("pos"), rating(3)]}
    agreement = task_agreement(results, ranges={"stars": 4})
    assert agreement.pairs == {(1, 2): pytest.approx(0.75), (1, 3): pytest.approx(0.5), (2, 3): pytest.approx(0.25)}
    assert agreement.score == pytest.approx(0.5)
    assert agreement.controls == {"sentiment": pytest.approx(1 / 3), "stars": pytest.approx(2 / 3)}
    # pos is in every pair: 1, 0, 0; neg only in the pairs with annotator 3: 0, 0
    assert agreement.labels == {"pos": pytest.approx(1 / 3), "neg": 0.0}
    assert agreement.kinds == {"sentiment": "choice", "stars": "rating"}


def test_labels_breakdown_for_spans_and_boxes():
    u1 = [span(0, 5, "PER"), span(10, 20, "ORG"), box(0, 0, 10, 10, "car")]
    u2 = [span(0, 5, "PER"), span(11, 20, "ORG"), box(0, 0, 10, 4, "car"), box(50, 50, 5, 5, "bus")]
    exact = task_agreement({1: u1, 2: u2})
    assert exact.labels == {"PER": 1.0, "ORG": 0.0, "car": 0.0, "bus": 0.0}
    assert task_agreement({1: u1, 2: u2}, span_mode="overlap").labels["ORG"] == 1.0


def test_missing_and_unused_controls():
    # annotator 2 skipped sentiment: an empty choice set disagrees with {"pos"}
    assert task_agreement({1: [choices("pos")], 2: [span(0, 1, "X")]}).pairs[(1, 2)] == pytest.approx(0.0)
    # nobody used ner on pair (1, 2) but annotator 3 did: both empty agree, 1.0
    agreement = task_agreement({1: [choices("pos")], 2: [choices("pos")], 3: [choices("pos"), span(0, 1, "X")]})
    assert agreement.pairs[(1, 2)] == 1.0
    assert agreement.pairs[(1, 3)] == pytest.approx(0.5)
    # a rating nobody in the pair gave is undefined and left out of the pair's mean
    stars = task_agreement({1: [choices("a")], 2: [choices("a")], 3: [rating(2)]})
    assert stars.pairs[(1, 2)] == 1.0
    assert stars.pairs[(1, 3)] == 0.0  # sentiment 0, stars 0 (missing on one side)


def test_fewer_than_two_annotators():
    agreement = task_agreement({1: [choices("a")]})
    assert agreement.score is None
    assert agreement.pairs == {}
    assert task_agreement({}).score is None


def test_ignored_types_do_not_count():
    kp = {"from_name": "kp", "type": "keypointlabels", "value": {"x": 1, "y": 1, "keypointlabels": ["eye"]}}
    agreement = task_agreement({1: [choices("a"), kp], 2: [choices("a")]})
    assert agreement.score == 1.0
    assert "kp" not in agreement.kinds


def test_metric_names_cover_every_kind():
    assert set(METRICS) >= {"span", "span_overlap", "choice", "box", "polygon", "text", "rating", "number"}
