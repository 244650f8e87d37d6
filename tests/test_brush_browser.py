"""Painting masks in a real browser (Debian's Chromium): a brush dab, a filled polygon, the eraser at
a smaller size, undo and redo, a second mask for another label; after submit the stored RLE decodes
to exactly the pixels painted (each dab the pixels whose centres are within the brush's radius, each
fill those inside the polygon), and the gallery's semantic-segmentation template is labelled."""

from __future__ import annotations

import io
import zipfile

import numpy as np
from label_studio_sdk.converter import brush as ls_brush
from PIL import Image
from playwright.sync_api import expect
from pycocotools import mask as coco_mask

from components import rle
from tests.helpers import accessibility_problems
from tests.test_browser import log_in
from tests.test_brush import CONFIG, H, W, disc, mask_item, picture, rectangle
from tests.test_workspace_browser import annotations, ready

# Label Studio 1.23.2's computer-vision/semantic-segmentation-with-masks template, as it ships
GALLERY = """<View>
  <Header value="Select label and click the image to start"/>
  <Image name="image" value="$image" zoom="true"/>
  <BrushLabels name="tag" toName="image">
    <Label value="Airplane" background="rgba(255, 0, 0, 0.7)"/>
    <Label value="Car" background="rgba(0, 0, 255, 0.7)"/>
  </BrushLabels>
</View>"""


def open_picture(page, api, make_project, make_user, config, prediction=None):
    """A new annotator on the workspace of a project whose one task is an uploaded picture (with a
    prediction of `prediction`'s results, if given): (project, task)."""
    project = make_project(label_config=config)
    done = api.post(f"/api/projects/{project['id']}/import", files=[("file", ("street.png", picture()))])
    assert done.status_code == 201, done.text
    (task,) = api.get(f"/api/tasks?project={project['id']}&fields=all").json()["tasks"]
    if prediction:
        made = api.post("/api/predictions", json={"task": task["id"], "result": prediction, "model_version": "ls-export"})
        assert made.status_code == 201, made.text
    user = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    page.set_viewport_size({"width": 1400, "height": 1000})
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    page.wait_for_function("() => document.querySelector('.lw-image-frame img').naturalWidth > 0")
    return project, task


def click_at(page, x: float, y: float) -> None:
    """A click at (x, y) in the image's natural pixels, wherever the page shows it."""
    box = page.locator(".lw-image-frame img:not(.lw-mask)").bounding_box()
    page.mouse.click(box["x"] + x / W * box["width"], box["y"] + y / H * box["height"])


def settled(page) -> None:
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")


def masks_stored(api, project_id):
    [annotation] = annotations(api, project_id)
    return {r["value"]["brushlabels"][0]: r for r in annotation["result"]}


def test_paint_fill_erase_undo_redo_and_two_labels(page, server, api, make_project, make_user):
    project, _ = open_picture(page, api, make_project, make_user, CONFIG)
    page.get_by_test_id("label-Car").click()
    expect(page.get_by_test_id("tool-brush")).to_have_attribute("aria-pressed", "true")  # the label's tool
    expect(page.get_by_test_id("brush-size")).to_have_text("Brush 20 px")
    click_at(page, 60, 60)  # one dab, radius 10
    settled(page)
    expect(page.locator("img.lw-mask")).to_have_count(1)
    page.keyboard.press("f")
    expect(page.get_by_test_id("tool-fill")).to_have_attribute("aria-pressed", "true")
    for x, y in ((150, 40), (250, 40), (250, 120), (150, 120)):
        click_at(page, x, y)
    page.keyboard.press("Enter")  # into the selected Car mask
    settled(page)
    expect(page.locator("img.lw-mask")).to_have_count(1)
    page.keyboard.press("e")
    for _ in range(3):
        page.keyboard.press("[")  # 20 -> 16 -> 12 -> 8 px
    expect(page.get_by_test_id("brush-size")).to_have_text("Brush 8 px")
    click_at(page, 200, 80)  # a hole of radius 4 in the rectangle
    settled(page)
    expected = (disc(60, 60, 10) | rectangle(150, 40, 250, 120)) & ~disc(200, 80, 4)
    pixels = page.locator("img.lw-mask").get_attribute("data-pixels")
    assert pixels == str(int(expected.sum()))
    page.keyboard.press("Control+z")  # the hole goes
    expect(page.locator("img.lw-mask")).to_have_attribute("data-pixels", str(int((expected | disc(200, 80, 4)).sum())))
    page.keyboard.press("Control+Shift+z")  # and comes back
    expect(page.locator("img.lw-mask")).to_have_attribute("data-pixels", pixels)
    # another label paints a mask of its own (a label clicked with a mask selected relabels it, as in
    # Label Studio: so unselect first)
    page.keyboard.press("Escape")
    page.get_by_test_id("label-Airplane").click()
    page.keyboard.press("b")
    page.keyboard.press("]")  # 8 -> 12 px
    page.get_by_test_id("zoom-in").click()  # zoomed in, a dab still lands on the pixels under the pointer
    click_at(page, 100, 140)
    settled(page)
    expect(page.locator("img.lw-mask")).to_have_count(2)
    # the Select tool picks a mask by a click on its pixels, and unselects on a click beside it
    page.keyboard.press("v")
    click_at(page, 60, 60)
    expect(page.locator(".lw-region.lw-selected strong")).to_have_text("Car")
    click_at(page, 10, 150)
    expect(page.locator(".lw-region.lw-selected")).to_have_count(0)
    assert accessibility_problems(page, ".lw-workspace") == []
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("submit")).to_have_count(0, timeout=10_000)
    stored = masks_stored(api, project["id"])
    assert set(stored) == {"Car", "Airplane"}
    car = stored["Car"]
    assert car["type"] == "brushlabels" and car["value"]["format"] == "rle"
    assert (car["original_width"], car["original_height"]) == (W, H)
    assert (rle.decode(car["value"]["rle"], W, H) == expected).all()  # exactly the painted pixels
    assert (rle.decode(stored["Airplane"]["value"]["rle"], W, H) == disc(100, 140, 6)).all()


def test_the_gallery_segmentation_template_is_labelled(page, server, api, make_project, make_user):
    project, _ = open_picture(page, api, make_project, make_user, GALLERY)
    click_at(page, 40, 40)  # no label pressed yet: nothing to paint with
    page.keyboard.press("b")
    click_at(page, 40, 40)
    expect(page.locator(".lw-image-status")).to_contain_text("Pick a label first")
    page.get_by_test_id("label-Airplane").click()
    page.mouse.move(0, 0)
    box = page.locator(".lw-image-frame img:not(.lw-mask)").bounding_box()
    sx, sy = box["width"] / W, box["height"] / H
    page.mouse.move(box["x"] + 100 * sx, box["y"] + 120 * sy)
    page.mouse.down()
    for step in range(1, 11):  # a stroke 100 px long
        page.mouse.move(box["x"] + (100 + 10 * step) * sx, box["y"] + 120 * sy)
    page.mouse.up()
    settled(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("submit")).to_have_count(0, timeout=10_000)
    mask = rle.decode(masks_stored(api, project["id"])["Airplane"]["value"]["rle"], W, H)
    # the stroke covers the line from (100, 120) to (200, 120), 20 px wide, and nothing far from it
    assert mask[120, 100:200].all() and mask[111:130, 150].all()
    assert not mask[:100].any() and not mask[140:].any() and not mask[:, :85].any()
    painted = np.argwhere(mask)
    assert painted[:, 1].max() <= 211


def test_a_label_studio_mask_round_trips_through_import_the_workspace_and_export(page, server, api, make_project,
                                                                                make_user):
    """Label Studio's JSON (the SDK's own RLE) imported as a prediction, shown in place, an erased hole
    and a filled triangle, submitted, exported as BRUSH_TO_PNG and COCO: the same pixels everywhere."""
    car = disc(120, 110, 50)
    imported = mask_item(car, encoded=ls_brush.mask2rle(car.astype(np.uint8) * 255))
    project, _ = open_picture(page, api, make_project, make_user, CONFIG, prediction=[imported])
    shown = page.get_by_test_id("mask-m1")
    expect(shown).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.lw-mask').complete")
    # in place: the mask covers the picture exactly, and its pixels are the imported ones
    assert shown.bounding_box() == page.locator(".lw-image-frame img:not(.lw-mask)").bounding_box()
    alpha = page.evaluate("""() => { const i = document.querySelector('img.lw-mask'), c = document.createElement('canvas');
        c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0);
        return Array.from(g.getImageData(0, 0, c.width, c.height).data.filter((_, k) => k % 4 === 3), v => v > 0 ? 1 : 0) }""")
    assert (np.array(alpha, bool).reshape(H, W) == car).all()
    page.get_by_test_id("region-m1").locator("strong").click()  # select the mask in the region list
    page.keyboard.press("e")
    click_at(page, 120, 110)  # a hole of radius 10 in the middle
    settled(page)
    page.keyboard.press("f")
    for x, y in ((230, 150), (300, 150), (265, 220)):
        click_at(page, x, y)
    page.keyboard.press("Enter")
    settled(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("submit")).to_have_count(0, timeout=10_000)
    yy, xx = np.mgrid[0:H, 0:W] + 0.5
    half = (220 - yy) / 2  # the triangle's half width at each row: 35 px at the top, 0 at the apex
    triangle = (yy >= 150) & (yy < 220) & (xx >= 265 - half) & (xx < 265 + half)
    expected = (car & ~disc(120, 110, 10)) | triangle
    [annotation] = annotations(api, project["id"])
    (stored,) = annotation["result"]
    assert stored["id"] == "m1" and stored["origin"] == "prediction-changed"
    assert (rle.decode(stored["value"]["rle"], W, H) == expected).all()
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"/api/projects/{project['id']}/export?exportType=BRUSH_TO_PNG").content))
    (name,) = [n for n in archive.namelist() if n.endswith(".png")]
    with Image.open(archive.open(name)) as png:
        assert ((np.asarray(png) > 0) == expected).all()
    coco = api.get(f"/api/projects/{project['id']}/export?exportType=COCO").json()
    (segment,) = [a["segmentation"] for a in coco["annotations"]]
    assert (coco_mask.decode(coco_mask.frPyObjects(segment, H, W)).astype(bool) == expected).all()
