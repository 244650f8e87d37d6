"""Agreement charts: well-formed SVG, escaped user strings, links exactly where asked, None drawn as no data."""

from __future__ import annotations

import pytest
from lxml import etree

from app.agreement.charts import bars, color_for, heatmap, histogram, trend

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script>'


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode())


def links(root: etree._Element) -> list[str]:
    return [a.get("href") for a in root.iter(f"{SVG}a")]


def view_box(root: etree._Element) -> list[float]:
    return [float(v) for v in root.get("viewBox").split()]


def titles(root: etree._Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}title")]


def assert_no_script(svg: str, root: etree._Element) -> None:
    assert not [el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname == "script"]
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg


def assert_root(root: etree._Element, testid: str) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("data-testid") == testid
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("width") == "100%"
    assert "max-width" in root.get("style", "")
    assert root[0].tag == f"{SVG}title"


# ==== color_for

@pytest.mark.parametrize(("score", "expected"), [
    (0, "#d73027"), (0.5, "#fee08b"), (1, "#1a9850"), (None, "#e5e7eb"),
    # halfway red → yellow: (215+254)/2 = 234.5 → 235, (48+224)/2 = 136, (39+139)/2 = 89
    (0.25, "#eb8859"),
    # halfway yellow → green: (254+26)/2 = 140, (224+152)/2 = 188, (139+80)/2 = 109.5 → 110
    (0.75, "#8cbc6e"),
    (-0.3, "#d73027"), (1.7, "#1a9850"), (float("nan"), "#e5e7eb"),
])
def test_color_for(score, expected):
    assert color_for(score) == expected


# ==== heatmap

def test_heatmap_cells_links_and_none():
    names = ["ann", "bob", "cy"]
    matrix = [[1.0, 0.83, None], [0.83, 1.0, 0.5], [None, 0.5, 1.0]]
    svg = heatmap(names, matrix, link=lambda i, j: f"/pairs?a={i}&b={j}" if (i, j) != (1, 2) else None)
    root = parse(svg)
    assert_root(root, "agreement-heatmap")
    cells = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "cell"]
    assert len(cells) == 9
    diagonal = [r for r in cells if r.get("data-diagonal")]
    assert len(diagonal) == 3 and {r.get("fill") for r in diagonal} == {"#e5e7eb"}
    # 6 off-diagonal cells, one refused by link; the diagonal is never linked
    hrefs = links(root)
    assert len(hrefs) == 5
    assert "/pairs?a=1&b=2" not in hrefs and "/pairs?a=0&b=0" not in hrefs
    assert "/pairs?a=0&b=1" in hrefs
    assert "/pairs?a=0&amp;b=1" in svg  # & escaped in the attribute
    assert "ann × bob: 0.83" in titles(root)
    assert "ann × cy: no data" in titles(root)
    none_cell = next(r for r in cells if "".join(r.itertext()) == "ann × cy: no data")
    assert none_cell.get("fill") == "#e5e7eb"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert texts.count("0.83") == 2 and texts.count("–") == 2


def test_heatmap_without_link_has_no_anchors_and_grows_with_names():
    small, large = parse(heatmap(["a", "b"], [[1, 0.2], [0.2, 1]])), parse(heatmap(
        [f"u{i}" for i in range(30)], [[0.5] * 30 for _ in range(30)]))
    assert links(small) == []
    assert view_box(large)[2] - view_box(small)[2] == 28 * 28
    assert view_box(large)[3] - view_box(small)[3] == 28 * 28


def test_heatmap_escapes_names():
    svg = heatmap([EVIL, "bob"], [[1, 0.4], [0.4, 1]], link=lambda i, j: "/x")
    root = parse(svg)
    assert_no_script(svg, root)
    assert f"{EVIL} × bob: 0.40" in titles(root)


def test_heatmap_ragged_matrix_is_no_data():
    root = parse(heatmap(["a", "b", "c"], [[1.0, 0.9]]))
    assert "b × c: no data" in titles(root)
    assert "a × b: 0.90" in titles(root)


def test_heatmap_drops_javascript_links():
    root = parse(heatmap(["a", "b"], [[1, 0.2], [0.2, 1]],
                         link=lambda i, j: "JavaScript:alert(1)" if i == 0 else "https://x.test/t?i=1"))
    assert links(root) == ["https://x.test/t?i=1"]


# ==== bars

def test_bars_rows_links_colours_and_none():
    items = [("alpha", 0.9, "/a"), ("beta", None, "/b"), ("gamma", 0.0, None), ("delta", 0.25, "/d")]
    svg = bars(items)
    root = parse(svg)
    assert_root(root, "agreement-bars")
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(rects) == 3  # the None row has no bar
    assert [r.get("fill") for r in rects] == [color_for(0.9), color_for(0.0), "#eb8859"]
    assert float(rects[0].get("width")) == pytest.approx(0.9 * 360)
    assert links(root) == ["/a", "/b", "/d"]
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "0.90" in texts and "–" in texts and "0.25" in texts
    assert view_box(root)[3] == 16 + 24 * 4


def test_bars_truncates_with_full_label_in_title():
    long = "a very long annotator name that goes on"
    root = parse(bars([(long, 0.5, None)]))
    label = next(t for t in root.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None)
    assert label.find(f"{SVG}title").text == long
    shown = label.find(f"{SVG}title").tail
    assert shown == long[:23] + "…" and len(shown) == 24
    exact = parse(bars([("x" * 24, 0.5, None)]))  # 24 characters fit: no ellipsis
    assert next(t for t in exact.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None)[0].tail == "x" * 24


def test_bars_with_other_max_value_are_neutral_and_print_value_as_given():
    root = parse(bars([("tasks", 12, None), ("more", 24, None), ("half", 3.5, None)], max_value=24))
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert {r.get("fill") for r in rects} == {"#4e79a7"}
    assert float(rects[0].get("width")) == pytest.approx(180) and float(rects[1].get("width")) == pytest.approx(360)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "12" in texts and "24" in texts and "3.5" in texts and "12.00" not in texts


def test_bars_escape_label_and_href():
    svg = bars([(EVIL, 0.5, '/t?q="><script>')])
    root = parse(svg)
    assert_no_script(svg, root)
    assert links(root) == ['/t?q="><script>']
    assert EVIL in titles(root)


# ==== histogram

def test_histogram_bars_counts_links_and_colours():
    counts = [0, 3, 5, 1]
    edges = [0, 0.25, 0.5, 0.75, 1.0]
    root = parse(histogram(counts, edges, link=lambda i: f"/bin/{i}" if counts[i] else None))
    assert_root(root, "agreement-histogram")
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(rects) == 4
    assert [r.get("fill") for r in rects] == [color_for(m) for m in (0.125, 0.375, 0.625, 0.875)]
    heights = [float(r.get("height")) for r in rects]
    assert heights[0] == 0 and heights[2] == max(heights) and heights[1] == pytest.approx(heights[2] * 3 / 5)
    assert links(root) == ["/bin/1", "/bin/2", "/bin/3"]
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    for label in ("0", "3", "5", "1", "0.25", "0.5", "0.75"):
        assert label in texts
    assert "0.25–0.5: 3" in titles(root)


def test_histogram_thins_edge_labels_and_checks_edges():
    edges = [i / 40 for i in range(41)]
    root = parse(histogram([1] * 40, edges))
    edge_labels = [t for t in root.iter(f"{SVG}text") if t.get("y") == str(240 - 30 + 16)]
    assert 2 <= len(edge_labels) <= 11
    with pytest.raises(ValueError):
        histogram([1, 2], [0, 1])


# ==== trend

def test_trend_circles_titles_and_broken_line():
    points = [("2026-11-25", 0.7), ("2026-11-26", 0.81), ("2026-11-27", None), ("2026-11-28", 0.9),
              ("2026-11-29", 0.95)]
    root = parse(trend(points))
    assert_root(root, "agreement-trend")
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 4
    assert "2026-11-26: 0.81" in titles(root) and not any(t.startswith("2026-11-27:") for t in titles(root))
    lines = list(root.iter(f"{SVG}polyline"))
    assert [len(p.get("points").split()) for p in lines] == [2, 2]  # None splits the line in two
    grid = [g for g in root.iter(f"{SVG}line")]
    assert len(grid) == 5


def test_trend_at_most_ten_x_labels_first_and_last():
    points = [(f"day {i:02d}", i / 40) for i in range(40)]
    root = parse(trend(points))
    xlabels = [t for t in root.iter(f"{SVG}text") if t.find(f"{SVG}title") is not None]
    shown = [t.find(f"{SVG}title").text for t in xlabels]
    assert len(shown) == 10 and shown[0] == "day 00" and shown[-1] == "day 39"
    assert len(list(root.iter(f"{SVG}circle"))) == 40


def test_trend_all_none_and_escaping():
    svg = trend([(EVIL, None), ("b", None)])
    root = parse(svg)
    assert list(root.iter(f"{SVG}circle")) == [] and list(root.iter(f"{SVG}polyline")) == []
    assert_no_script(svg, root)
    svg = trend([(EVIL, 0.5)])
    assert f"{EVIL}: 0.50" in titles(parse(svg))


# ==== empty inputs

@pytest.mark.parametrize(("svg", "testid"), [
    (heatmap([], []), "agreement-heatmap"),
    (bars([]), "agreement-bars"),
    (histogram([], []), "agreement-histogram"),
    (trend([], testid="t"), "t"),
])
def test_empty_inputs_say_no_data(svg, testid):
    root = parse(svg)
    assert_root(root, testid)
    assert ["".join(t.itertext()) for t in root.iter(f"{SVG}text")] == ["No data yet"]
    assert list(root.iter(f"{SVG}rect")) == [] and links(root) == []
