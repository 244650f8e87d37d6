"""<TimeSeries> in a real browser (Debian's Chromium): a sine of 2,000 points with two known anomalies,
stored as a CSV; a range dragged over one anomaly is stored on its bounds, an instant by a double click,
a selected range grown by a key; bad data is an error in the page, not a spinner."""

from __future__ import annotations

import math

from playwright.sync_api import expect

from tests.helpers import accessibility_problems
from tests.test_browser import log_in
from tests.test_time_series import uploaded
from tests.test_workspace_browser import annotations, annotator_in, ready  # noqa: F401 (a fixture)

CONFIG = """<View>
  <TimeSeriesLabels name="label" toName="ts"><Label value="Anomaly"/><Label value="Change"/></TimeSeriesLabels>
  <TimeSeries name="ts" value="$csv" timeColumn="time"><Channel column="value" legend="Signal"/></TimeSeries>
</View>"""
FIRST, SECOND = (600, 640), (1500, 1520)  # samples where the sine is replaced by a spike


def sine() -> bytes:
    rows = []
    for i in range(2000):
        value = math.sin(i / 25)
        if FIRST[0] <= i <= FIRST[1]:
            value = 5.0
        elif SECOND[0] <= i <= SECOND[1]:
            value = -5.0
        rows.append(f"{i},{value:.6f}\n")
    return ("time,value\n" + "".join(rows)).encode()


def x_of(page, x: float) -> float:
    """Where an x value is on screen: the chart's box and the window it shows."""
    box = page.get_by_test_id("ts-chart-ts").bounding_box()
    start, end = (float(page.get_by_test_id("object-ts").get_attribute(f"data-{k}")) for k in ("start", "end"))
    return box["x"] + (x - start) / (end - start) * box["width"]


def regions(page) -> list[dict]:
    return page.evaluate("""[...document.querySelectorAll('input[name=region]')].map(i => JSON.parse(i.value))""")


def settled(page) -> None:
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")


def labelling(page, api, make_project, annotator_in, name: str, body: bytes) -> dict:  # noqa: F811
    """A project of one task naming the CSV, its annotator signed in on the workspace; the project."""
    files = make_project()
    address = uploaded(api, files["id"], name, body)
    project, user = annotator_in(CONFIG, [{"csv": address}])
    api.post(f"/api/projects/{files['id']}/members", json={"user": user["id"]})  # the file's project
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    return project


def test_ranges_over_an_anomaly_an_instant_and_keys(page, server, api, make_project, annotator_in):  # noqa: F811
    project = labelling(page, api, make_project, annotator_in, "sine.csv", sine())
    expect(page.get_by_test_id("ts-status-ts")).to_contain_text("of 2,000 points in view")
    assert float(page.get_by_test_id("object-ts").get_attribute("data-end")) == 1999 * 0.25  # overviewWidth 25 %
    for _ in range(4):  # pan by a quarter of the window: 500-1000 holds the first anomaly
        page.get_by_role("button", name="Pan right").click()
    expect(page.get_by_test_id("object-ts")).to_have_attribute("data-start", "499.75")
    expect(page.get_by_test_id("ts-status-ts")).to_contain_text("points in view")

    page.get_by_test_id("label-Anomaly").click()
    box = page.get_by_test_id("ts-chart-ts").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(x_of(page, FIRST[0]), y)
    page.mouse.down()
    page.mouse.move(x_of(page, 620), y, steps=4)
    page.mouse.move(x_of(page, FIRST[1]), y, steps=4)
    page.mouse.up()
    settled(page)
    (made,) = regions(page)
    assert abs(made["value"]["start"] - FIRST[0]) <= 1 and abs(made["value"]["end"] - FIRST[1]) <= 1, made
    assert made["value"]["instant"] is False and made["value"]["timeserieslabels"] == ["Anomaly"]
    expect(page.locator(".lw-ts-region")).to_have_count(1)

    page.keyboard.press("Escape")  # the new range is selected: a label now would relabel it
    page.get_by_test_id("label-Change").click()
    expect(page.get_by_test_id("label-Change")).to_have_attribute("aria-pressed", "true")
    page.mouse.dblclick(x_of(page, 800), y)
    expect(page.locator(".lw-ts-region")).to_have_count(2)
    settled(page)
    instant = next(r for r in regions(page) if r["value"]["timeserieslabels"] == ["Change"])
    assert instant["value"]["start"] == instant["value"]["end"] and abs(instant["value"]["start"] - 800) <= 1
    assert instant["value"]["instant"] is True

    # select the range, grow its end by one step (1 % of the 500-sample window)
    page.locator(f".lw-ts-region[data-region='{made['id']}']").click()
    page.keyboard.press("ArrowRight")
    settled(page)
    grown = next(r for r in regions(page) if r["id"] == made["id"])
    assert abs(grown["value"]["end"] - made["value"]["end"] - 1999 * 0.25 / 100) < 1e-9 and grown["value"]["start"] == made["value"]["start"]
    assert accessibility_problems(page, ".lw-ts") == []

    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("workspace-error")).to_have_count(0)
    page.wait_for_timeout(500)
    (annotation,) = annotations(api, project["id"])
    stored = sorted(annotation["result"], key=lambda r: r["value"]["start"])
    assert [r["type"] for r in stored] == ["timeserieslabels", "timeserieslabels"]
    assert stored[0]["value"]["end"] == grown["value"]["end"] and stored[1]["value"]["instant"] is True


def test_bad_data_is_an_error_in_the_page_not_a_spinner(page, server, api, make_project, annotator_in):  # noqa: F811
    labelling(page, api, make_project, annotator_in, "back.csv", b"time,value\n1,1\n3,2\n2,3\n")
    expect(page.get_by_test_id("ts-error-ts")).to_contain_text("back.csv, column 'time', row 4: time goes backwards")
    expect(page.get_by_test_id("ts-status-ts")).to_have_text("The series could not be drawn.")


def test_the_window_in_the_display_format_and_a_range_by_keys_alone(page, server, api, make_project, annotator_in):  # noqa: F811
    config = CONFIG.replace('timeColumn="time"', 'timeColumn="time" timeFormat="%Y-%m-%d %H:%M:%S" '
                                                 'timeDisplayFormat="%d.%m.%Y %H:%M" overviewWidth="100%"')
    rows = "".join(f"2024-03-05 {h:02d}:{m:02d}:00,{math.sin(h * 60 + m):.4f}\n" for h in range(0, 4) for m in range(60))
    files = make_project()
    address = uploaded(api, files["id"], "dates.csv", ("time,value\n" + rows).encode())
    project, user = annotator_in(config, [{"csv": address}])
    api.post(f"/api/projects/{files['id']}/members", json={"user": user["id"]})
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    expect(page.get_by_test_id("ts-range-ts")).to_have_text("05.03.2024 00:00 – 05.03.2024 03:59")
    # by keys alone: a label's key, an instant (i) at the window's middle, grown into a range by arrows
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("1")
    page.keyboard.press("i")
    expect(page.locator(".lw-ts-region")).to_have_count(1)
    settled(page)
    (made,) = regions(page)
    # the window is 00:00 to 03:59 (239 minutes): its middle is 01:59:30, as the format writes it back
    assert made["value"]["instant"] is True and made["value"]["start"] == "2024-03-05 01:59:30"
    page.keyboard.press("Shift+ArrowRight")  # 10 steps of 1 % of the window: 23 min 54 s
    settled(page)
    (grown,) = regions(page)
    assert grown["value"]["instant"] is False and grown["value"]["start"] == "2024-03-05 01:59:30"
    assert grown["value"]["end"] == "2024-03-05 02:23:24", grown
