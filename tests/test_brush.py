"""<BrushLabels>/<Brush> masks over HTTP: Label Studio's RLE read and written byte for byte (its own
SDK is the other side), a mask from a Label Studio export shown in place as the server's PNG, a mask
painted in the page (a PNG) stored as RLE, and bad masks refused with the field named."""

from __future__ import annotations

import base64
import io
import json
from contextlib import closing

import lxml.html
import numpy as np
import pytest
from label_studio_sdk.converter import brush as ls_brush
from PIL import Image

from components import rle
from tests.test_labelling import browser, html, open_workspace, post

W, H = 320, 240
CONFIG = """<View>
  <Image name="image" value="$image" zoom="true"/>
  <BrushLabels name="tag" toName="image">
    <Label value="Car" background="#FF0000"/>
    <Label value="Airplane" background="#0000FF"/>
  </BrushLabels>
</View>"""


def picture(seed: int = 7) -> bytes:
    """A seeded 320 x 240 PNG to paint on."""
    pixels = np.random.default_rng(seed).integers(90, 200, (H, W, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def disc(cx: float, cy: float, r: float) -> np.ndarray:
    """The pixels whose centres are within r of (cx, cy), as the brush paints them."""
    yy, xx = np.mgrid[0:H, 0:W]
    return (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= r * r


def rectangle(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def mask_item(mask: np.ndarray, rid: str = "m1", label: str = "Car", encoded: list[int] | None = None) -> dict:
    return {"id": rid, "from_name": "tag", "to_name": "image", "type": "brushlabels",
            "original_width": W, "original_height": H, "image_rotation": 0,
            "value": {"format": "rle", "rle": encoded if encoded is not None else rle.encode(mask),
                      "brushlabels": [label]}}


@pytest.fixture
def image_project(api, make_project):
    """A project whose one task is an uploaded picture, and the task."""
    project = make_project(label_config=CONFIG)
    done = api.post(f"/api/projects/{project['id']}/import", files=[("file", ("street.png", picture()))])
    assert done.status_code == 201, done.text
    task = api.get(f"/api/tasks?project={project['id']}&fields=all").json()["tasks"][0]
    return project, task


def test_the_codec_writes_what_label_studios_sdk_writes_and_reads_what_it_reads():
    rng = np.random.default_rng(3)
    for mask in (disc(100, 80, 40), rng.random((H, W)) > 0.7, np.ones((H, W), bool), np.zeros((H, W), bool),
                 rectangle(0, 0, W, 1)):
        ours = rle.encode(mask)
        assert ours == ls_brush.mask2rle(mask.astype(np.uint8) * 255)  # the same bytes
        theirs = ls_brush.decode_rle(ours).reshape(H, W, 4)[:, :, 3] > 0
        assert (theirs == mask).all() and (rle.decode(ours, W, H) == mask).all()
    # literal sequences (Label Studio's editor writes them) and other field widths are read too
    values = np.repeat(np.where(disc(60, 60, 30), 255, 0).astype(np.uint8).ravel(), 4)
    assert (rle.decode_values(rle.encode_values(values)) == values).all()
    # Label Studio's editor encodes its canvas: the label's colour in red, green and blue, alpha 255, so
    # runs do not fall on whole pixels; only the alpha channel is the mask
    canvas = np.zeros((H, W, 4), np.uint8)
    canvas[disc(200, 100, 45)] = (255, 0, 128, 255)
    editor = rle.encode_values(canvas.ravel())
    assert (rle.decode(editor, W, H) == disc(200, 100, 45)).all()
    assert (ls_brush.decode_rle(editor).reshape(H, W, 4) == canvas).all()
    with pytest.raises(rle.RLEError, match="holds 307200 values"):
        rle.decode(ours, W * 2, H)


def test_a_mask_from_a_label_studio_export_renders_in_place(api, image_project):
    project, task = image_project
    car = disc(90, 100, 35) | rectangle(200, 30, 300, 90)
    # the SDK's own encoding, as a Label Studio export holds it
    imported = mask_item(car, encoded=ls_brush.mask2rle(car.astype(np.uint8) * 255))
    made = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [imported]})
    assert made.status_code == 201, made.text
    stored = api.get(f"/api/annotations/{made.json()['id']}").json()["result"][0]
    assert stored["value"]["rle"] == imported["value"]["rle"] and stored["type"] == "brushlabels"
    page = api.get(f"/projects/{project['id']}/label/{task['id']}")
    assert page.status_code == 200
    shown = lxml.html.fromstring(page.text).cssselect('img[data-testid="mask-m1"]')
    assert len(shown) == 1
    src = shown[0].get("src")
    assert src.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as png:
        assert png.size == (W, H)
        rgba = np.asarray(png.convert("RGBA"))
    assert ((rgba[:, :, 3] > 0) == car).all()  # exactly the mask's pixels, nothing else
    assert tuple(rgba[100, 90, :3]) == (255, 0, 0)  # in the label's colour
    assert shown[0].get("data-pixels") == str(int(car.sum()))
    assert f"{int(car.sum()):,} px" in page.text  # the region list says how big the mask is


def test_a_painted_png_is_stored_as_label_studios_rle(server, api, image_project, make_user):
    project, task = image_project
    painted = disc(50, 50, 12) | rectangle(100, 100, 180, 160)
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[painted] = (255, 0, 0, 255)
    item = {**mask_item(painted), "value": {"format": "png", "png": png_url(rgba), "brushlabels": ["Car"]}}
    done = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [item]})
    assert done.status_code == 400 and "format" in done.text  # the API takes Label Studio's shape only
    user = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    with closing(browser(server, user["email"], user["password"])) as web:
        page, fields = open_workspace(web, project["id"])
        saved = post(web, page, "draft", fields, region=[json.dumps(item)], revision="5")
        assert saved.status_code == 200, saved.text
        shown = html(saved).cssselect(f'img[data-testid="mask-{item["id"]}"]')
        assert shown and shown[0].get("data-pixels") == str(int(painted.sum()))
        stored = json.loads(html(saved).cssselect(f'.lw-region[data-region="{item["id"]}"] input[name=region]')[0].get("value"))
        assert stored["value"]["format"] == "rle" and "png" not in stored["value"]
        assert stored["value"]["rle"] == ls_brush.mask2rle(painted.astype(np.uint8) * 255)
        # a PNG of another size than the image is refused, naming both sizes
        wrong = {**item, "value": {**item["value"], "png": png_url(rgba[:100, :100])}}
        refused = post(web, page, "draft", fields, region=[json.dumps(wrong)], revision="6")
        assert refused.status_code == 422 and "100 x 100" in refused.text and "320 x 240" in refused.text
        done = post(web, page, "submit", fields, region=[json.dumps(stored)], revision="7")
        assert done.status_code == 200, done.text
    result = api.get(f"/api/tasks/{task['id']}/annotations").json()[0]["result"]
    assert [r["type"] for r in result] == ["brushlabels"]
    assert (rle.decode(result[0]["value"]["rle"], W, H) == painted).all()


def png_url(rgba: np.ndarray) -> str:
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.mark.parametrize("change, says", [
    (lambda v, i: v.update(rle=rle.encode(np.ones((10, 10), bool))), "holds 400 values"),
    (lambda v, i: v.update(rle=[1, 2, 300]), "byte values 0-255"),
    (lambda v, i: v.update(format="png"), "value.format must be"),
    (lambda v, i: i.pop("original_width"), "original_width"),
])
def test_bad_masks_are_refused_naming_the_problem(api, image_project, change, says):
    _, task = image_project
    item = mask_item(disc(30, 30, 10))
    change(item["value"], item)
    done = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [item]})
    assert done.status_code == 400, done.text
    assert says in done.text
    assert api.get(f"/api/tasks/{task['id']}/annotations").json() == []  # nothing half stored
