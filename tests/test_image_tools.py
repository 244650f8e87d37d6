"""static/image-tools.js in Chromium, on a form rendered by components/ and a stub of window.Labelwell
(the workspace's API): what the tools hand to Labelwell, and that the server would accept it."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest
from playwright.sync_api import expect

from components import parse_config

STATIC = Path(__file__).resolve().parents[1] / "static"
# 400 x 200 natural pixels: percentages and pixels differ on both axes
IMAGE = ("data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' width='400' height='200'>"
         "<rect width='400' height='200' fill='%23dfe7f2'/></svg>")
DATA = {"image": IMAGE}
CONFIG = """<View>
  <Image name="img" value="$image"/>
  <RectangleLabels name="box" toName="img"><Label value="Car"/><Label value="Tree"/></RectangleLabels>
  <PolygonLabels name="poly" toName="img"><Label value="Lake"/></PolygonLabels>
  <KeyPointLabels name="kp" toName="img"><Label value="Nose"/></KeyPointLabels>
</View>"""

# the workspace's contract, reduced: calls are recorded, labels toggle on click, selection is a class
STUB = """
window.calls = [];
let selectedId = null, counter = 0;
window.Labelwell = {
  activeLabel(name) {
    for (const fs of document.querySelectorAll('fieldset.lw-labels')) {
      if (!fs.dataset.to.split(',').includes(name)) continue;
      const values = [...fs.querySelectorAll('.lw-label[aria-pressed="true"]')].map(b => b.dataset.value);
      if (values.length) return {control: fs.dataset.control, type: fs.dataset.type, values: values.filter(Boolean)};
    }
    return null;
  },
  addRegion(item) { calls.push(['addRegion', item]); this.select(item.id); },
  updateRegion(id, patch, extra) {  // as workspace.js: the region's input changes at once
    calls.push(['updateRegion', id, patch, extra || null]);
    const input = document.querySelector(`.lw-region[data-region="${id}"] input[name=region]`);
    const item = JSON.parse(input.value);
    input.value = JSON.stringify({...item, ...extra, value: {...item.value, ...patch}});
  },
  deleteRegion(id) { calls.push(['deleteRegion', id]); },
  select(id) {
    selectedId = id;
    document.querySelectorAll('.lw-selected').forEach(e => e.classList.remove('lw-selected'));
    if (id) document.querySelectorAll(`[data-region="${id}"]`).forEach(e => e.classList.add('lw-selected'));
  },
  selected() { return selectedId; },
  newId() { return 'new' + String(++counter).padStart(7, '0'); },
};
document.addEventListener('click', (e) => {
  const b = e.target.closest('.lw-label');
  if (!b) return;
  const on = b.getAttribute('aria-pressed') !== 'true', fs = b.closest('.lw-labels');
  fs.querySelectorAll('.lw-label').forEach(x => x.setAttribute('aria-pressed', 'false'));
  b.setAttribute('aria-pressed', String(on));
  document.dispatchEvent(new CustomEvent('lw:label', {detail: {control: fs.dataset.control, type: fs.dataset.type}}));
});
// what the workspace does after a save: swap the form, select again, announce it
window.rerender = (html) => {
  document.querySelector('.lw-form').outerHTML = html;
  Labelwell.select(selectedId);
  document.dispatchEvent(new Event('lw:rendered'));
};
"""


def box(x, y, w, h, rid="b1", label="Car", origin="manual"):
    return {"id": rid, "from_name": "box", "to_name": "img", "type": "rectanglelabels", "origin": origin,
            "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label]},
            "original_width": 400, "original_height": 200, "image_rotation": 0}


def page_html(form: str) -> str:
    css = (STATIC / "app.css").read_text() + (STATIC / "image-tools.css").read_text()
    # the form sits in a 500 px column: at 2x the 400 px image overflows and its viewport scrolls
    return (f"<!doctype html><html><head><style>{css}</style></head><body>"
            f"<main style='width: 500px; padding: 10px'>{form}</main>"
            f"<script>{STUB}</script><script>{(STATIC / 'image-tools.js').read_text()}</script></body></html>")


@pytest.fixture
def tab(chromium):
    context = chromium.new_context(viewport={"width": 900, "height": 700})
    page = context.new_page()
    page.set_default_timeout(5000)
    yield page
    context.close()


def open_form(tab, results=(), xml=CONFIG):
    tab.set_content(page_html(str(parse_config(xml).render(DATA, list(results), workspace=True))))
    tab.wait_for_function("document.querySelector('.lw-image-frame img').naturalWidth === 400")


def at(tab, x: float, y: float) -> tuple[float, float]:
    """The screen point at (x%, y%) of the image, wherever zoom and scroll put it."""
    r = tab.locator(".lw-image-frame img").bounding_box()
    return r["x"] + r["width"] * x / 100, r["y"] + r["height"] * y / 100


def drag(tab, start, end):
    tab.mouse.move(*at(tab, *start))
    tab.mouse.down()
    tab.mouse.move(*at(tab, *end), steps=4)
    tab.mouse.up()


def rerender(tab, *results) -> None:
    """What follows a save: the server renders the form again, the workspace swaps it in."""
    tab.evaluate("html => rerender(html)", str(parse_config(CONFIG).render(DATA, list(results), workspace=True)))


def scroll_to(tab, left: int, top: int) -> None:
    tab.locator(".lw-image-viewport").evaluate(f"v => {{ v.scrollLeft = {left}; v.scrollTop = {top}; }}")


def calls(tab) -> list:
    return tab.evaluate("window.calls")


def accepted(item: dict) -> None:
    """The server's own check of a result item (components/image_regions.py)."""
    errors, warnings = parse_config(CONFIG).check_results([item], DATA)
    assert errors == [] and warnings == [], (errors, warnings)


def near(got: dict, **want: float) -> None:
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=0.3), (key, got)


def test_toolbar_shows_the_tools_the_config_allows_and_only_in_the_workspace():
    xml = ('<View><Image name="img" value="$image"/><RectangleLabels name="box" toName="img"><Label value="A"/>'
           '</RectangleLabels><KeyPoint name="pt" toName="img"/></View>')
    html = lxml.html.fromstring(str(parse_config(xml).render(DATA, workspace=True)))
    tools = [b.get("data-testid") for b in html.xpath("//*[@role='toolbar']//button")]
    assert tools == ["tool-select", "tool-rectangle", "tool-keypoint", "zoom-in", "zoom-out", "zoom-reset"]
    point = html.xpath("//button[@data-tool='keypoint']")[0]
    assert (point.get("data-free-control"), point.get("data-free-type")) == ("pt", "keypoint")
    assert html.xpath("//*[@role='status']")
    readonly = str(parse_config(xml).render(DATA, [box(1, 2, 3, 4, label="A")], readonly=True))
    assert "lw-image-tools" not in readonly and "lw-image-edit" not in readonly and 'data-testid="shape-b1"' in readonly
    preview = str(parse_config(xml).render(DATA))  # an editable form outside the workspace (the config preview)
    assert "lw-image-tools" not in preview


def test_drawing_a_box_gives_the_pressed_label_and_percent_of_the_original(tab):
    open_form(tab)
    tab.keyboard.press("r")
    drag(tab, (10, 20), (50, 70))  # no label pressed: nothing is made, and the user is told why
    assert calls(tab) == []
    assert "label" in tab.get_by_role("status").inner_text()
    tab.keyboard.press("v")
    tab.locator('.lw-label[data-value="Car"]').click()  # pressing a box label picks the box tool
    expect(tab.get_by_test_id("tool-rectangle")).to_have_attribute("aria-pressed", "true")
    tab.mouse.click(*at(tab, 60, 60))  # a click is not a box
    drag(tab, (10, 20), (10.3, 20.3))  # nor is a twitch of a pixel
    drag(tab, (10, 20), (50, 70))
    (name, item), = calls(tab)
    assert name == "addRegion"
    near(item["value"], x=10, y=20, width=40, height=50)
    assert item["value"]["rectanglelabels"] == ["Car"] and item["value"]["rotation"] == 0
    assert {k: item[k] for k in ("from_name", "to_name", "type", "origin", "original_width", "original_height")} == {
        "from_name": "box", "to_name": "img", "type": "rectanglelabels", "origin": "manual",
        "original_width": 400, "original_height": 200}
    accepted(item)


def test_zoom_keeps_the_same_percentages_and_survives_a_re_render(tab):
    open_form(tab)
    tab.locator('.lw-label[data-value="Tree"]').click()
    width = tab.locator(".lw-image-frame img").bounding_box()["width"]
    tab.get_by_test_id("zoom-in").click()
    tab.keyboard.press("Control+=")
    assert tab.locator(".lw-image-frame img").bounding_box()["width"] == pytest.approx(2 * width)
    # zooming kept the middle in view: scroll back to the top left corner
    assert tab.locator(".lw-image-viewport").evaluate("v => v.scrollLeft > 0 && v.scrollTop > 0")
    scroll_to(tab, 0, 0)
    drag(tab, (10, 20), (50, 70))  # the end is below the viewport: the pointer is captured
    scroll_to(tab, 100, 50)
    drag(tab, (30, 30), (60, 60))
    first, second = [c[1] for c in calls(tab)]
    near(first["value"], x=10, y=20, width=40, height=50)
    near(second["value"], x=30, y=30, width=30, height=30)
    rerender(tab, first, second)
    assert tab.locator(".lw-image").get_attribute("data-zoom-level") == "2"
    assert tab.locator(".lw-image-viewport").evaluate("v => [v.scrollLeft, v.scrollTop]") == [100, 50]
    assert tab.get_by_test_id("tool-rectangle").get_attribute("aria-pressed") == "true"
    shape = tab.get_by_test_id(f"shape-{second['id']}").bounding_box()  # its middle: the stroke is outside
    x, y = at(tab, 45, 45)
    assert (shape["x"] + shape["width"] / 2, shape["y"] + shape["height"] / 2) == (
        pytest.approx(x, abs=1), pytest.approx(y, abs=1))
    tab.get_by_test_id("zoom-reset").click()
    assert tab.locator(".lw-image-frame img").bounding_box()["width"] == pytest.approx(width)


def test_moving_and_resizing_a_box_stay_inside_the_image(tab):
    open_form(tab, [box(60, 40, 30, 20)])
    tab.keyboard.press("v")
    expect(tab.get_by_test_id("tool-select")).to_have_attribute("aria-pressed", "true")
    tab.get_by_test_id("shape-b1").click()
    assert tab.evaluate("Labelwell.selected()") == "b1"
    expect(tab.get_by_test_id("handle-se")).to_be_visible()
    drag(tab, (70, 50), (60, 45))  # 10 left, 5 up
    rerender(tab, box(50, 35, 30, 20))
    drag(tab, (55, 45), (95, 45))  # 40 right: stops at the right edge
    rerender(tab, box(70, 35, 30, 20))
    hx, hy = at(tab, 100, 55)  # the handles sit on the new corners
    handle = tab.get_by_test_id("handle-se").bounding_box()
    assert (handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2) == (
        pytest.approx(hx, abs=1), pytest.approx(hy, abs=1))
    drag(tab, (100, 55), (110, 80))  # the se corner past the edges: clamped
    drag(tab, (70, 35), (80, 50))    # the nw corner in, before the re-render: from the input updateRegion set
    moved, right, grown, shrunk = [c[2] for c in calls(tab)]
    near(moved, x=50, y=35)
    assert right["x"] == pytest.approx(70, abs=0.01) and right["x"] + 30 <= 100
    near(grown, x=70, y=35, width=30, height=45)
    near(shrunk, x=80, y=50, width=20, height=30)
    assert grown["x"] + grown["width"] <= 100 and grown["y"] + grown["height"] <= 100
    accepted(box(grown["x"], grown["y"], grown["width"], grown["height"]))


def test_polygon_by_clicks_and_enter_escape_or_the_first_point(tab):
    open_form(tab)
    tab.locator('.lw-label[data-value="Lake"]').click()
    expect(tab.get_by_test_id("tool-polygon")).to_have_attribute("aria-pressed", "true")
    for point in [(10, 10), (50, 10), (30, 40)]:
        tab.mouse.click(*at(tab, *point))
    assert tab.locator(".lw-draft-point").count() == 3
    tab.keyboard.press("Enter")
    (name, item), = calls(tab)
    assert name == "addRegion" and item["type"] == "polygonlabels" and item["value"]["polygonlabels"] == ["Lake"]
    assert item["value"]["closed"] is True
    for got, want in zip(item["value"]["points"], [[10, 10], [50, 10], [30, 40]]):
        assert got == [pytest.approx(want[0], abs=0.3), pytest.approx(want[1], abs=0.3)]
    accepted(item)
    assert tab.locator(".lw-draft-point").count() == 0
    for point in [(60, 60), (90, 60), (90, 90)]:
        tab.mouse.click(*at(tab, *point))
    tab.keyboard.press("Backspace")  # the last point goes, not the selected region
    assert tab.locator(".lw-draft-point").count() == 2
    assert [c[0] for c in calls(tab)] == ["addRegion"]
    tab.keyboard.press("Escape")  # dropped
    assert tab.locator(".lw-draft-point").count() == 0
    for point in [(60, 60), (90, 60), (80, 90), (60.5, 60.5)]:  # the last click lands on the first point
        tab.mouse.click(*at(tab, *point))
    assert [c[1]["value"]["points"][0] for c in calls(tab)][1] == [pytest.approx(60, abs=0.3)] * 2
    assert len(calls(tab)[1][1]["value"]["points"]) == 3


def test_key_points_and_tool_keys(tab):
    open_form(tab)
    tab.keyboard.press("k")
    assert tab.locator(".lw-image").get_attribute("data-tool") == "keypoint"
    tab.mouse.click(*at(tab, 25, 75))
    assert calls(tab) == []  # no label yet
    tab.locator('.lw-label[data-value="Nose"]').click()
    tab.mouse.click(*at(tab, 25, 75))
    (name, item), = calls(tab)
    near(item["value"], x=25, y=75)
    assert name == "addRegion" and item["type"] == "keypointlabels" and item["value"]["keypointlabels"] == ["Nose"]
    accepted(item)
    for key, tool in [("r", "rectangle"), ("p", "polygon"), ("v", "select")]:
        tab.keyboard.press(key)
        assert tab.locator(".lw-image").get_attribute("data-tool") == tool


def test_unlabelled_rectangle_control_draws_without_a_label(tab):
    xml = '<View><Image name="img" value="$image"/><Rectangle name="r" toName="img"/></View>'
    open_form(tab, xml=xml)
    tab.get_by_test_id("tool-rectangle").click()
    drag(tab, (0, 0), (100, 100))
    (_, item), = calls(tab)
    assert item["from_name"] == "r" and item["type"] == "rectangle" and "rectangle" not in item["value"]
    near(item["value"], x=0, y=0, width=100, height=100)
    assert parse_config(xml).check_results([item], DATA) == ([], [])
