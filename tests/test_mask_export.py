"""Brush masks exported over HTTP: BRUSH_TO_PNG / BRUSH_TO_NUMPY zips named as Label Studio's converter
names them, each file exactly the mask; COCO with the masks as COCO RLE that pycocotools decodes to the
same pixels; a mask whose RLE is not its image's size is left out and listed, not a failed export."""

from __future__ import annotations

import io
import json
import time
import zipfile
from contextlib import closing

import lxml.html
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask
from pycocotools.coco import COCO

from components.rle import encode
from tests.helpers import browser

CONFIG = """<View>
  <Image name="image" value="$image"/>
  <BrushLabels name="tag" toName="image">
    <Label value="Airplane"/>
    <Label value="Car"/>
  </BrushLabels>
</View>"""
W, H = 48, 32


def circle(cx: int, cy: int, r: int) -> np.ndarray:
    ys, xs = np.mgrid[:H, :W]
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r


def rectangle(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def mask_item(rid: str, mask: np.ndarray, label: str | None, width: int = W, height: int = H) -> dict:
    value = {"format": "rle", "rle": encode(mask)}
    if label:
        value["brushlabels"] = [label]
    return {"id": rid, "from_name": "tag", "to_name": "image", "type": "brushlabels" if label else "brush",
            "original_width": width, "original_height": height, "image_rotation": 0, "value": value}


def seeded_masks() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    noisy = rng.random((H, W)) > 0.6  # every run length from 1 up: the codec's literals and runs
    return {"car1": circle(12, 10, 7), "car2": rectangle(30, 20, 46, 31), "plane": circle(36, 8, 6) | noisy & rectangle(0, 24, 20, 32)}


@pytest.fixture
def masked_project(api, make_project):
    project = make_project(label_config=CONFIG)
    masks = seeded_masks()
    result = [mask_item("car1", masks["car1"], "Car"), mask_item("car2", masks["car2"], "Car"),
              mask_item("plane", masks["plane"], "Airplane")]
    tasks = [{"data": {"image": "https://example.com/street/one.png"}, "annotations": [{"result": result}],
              "predictions": [{"result": [mask_item("p", masks["car1"], "Car")]}]}]
    answer = api.post(f"/api/projects/{project['id']}/import", json=tasks)
    assert answer.status_code == 201, answer.text
    task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
    annotation = api.get(f"/api/tasks/{task['id']}/annotations").json()[0]
    return project, task, annotation, masks


def export(api, project: dict, kind: str):
    answer = api.get(f"/api/projects/{project['id']}/export?exportType={kind}")
    assert answer.status_code == 200, answer.text[:300]
    return answer


def test_brush_formats_are_offered_for_a_brush_project(server, api, masked_project):
    project = masked_project[0]
    with closing(browser(server)) as web:
        page = lxml.html.fromstring(web.get(f"/projects/{project['id']}").text)
    options = {o.get("value"): o.text_content() for o in page.cssselect("option")}
    assert "PNG" in options["BRUSH_TO_PNG"] and "NumPy" in options["BRUSH_TO_NUMPY"] and "YOLO" not in options
    offered = {f["name"]: f for f in api.get(f"/api/projects/{project['id']}/export/formats").json()}
    assert not any(offered[name]["disabled"] for name in ("BRUSH_TO_PNG", "BRUSH_TO_NUMPY", "COCO"))
    assert offered["YOLO"]["disabled"] and "PNG" in offered["BRUSH_TO_PNG"]["title"]  # no boxes here


def test_brush_to_png_gives_each_mask_exactly_with_label_studios_names(api, masked_project):
    project, task, annotation, masks = masked_project
    archive = zipfile.ZipFile(io.BytesIO(export(api, project, "BRUSH_TO_PNG").content))
    by = str(annotation["completed_by"])
    prefix = f"task-{task['id']}-annotation-{annotation['id']}-by-{by}-tag"
    expected = {f"{prefix}-Car-0.png": masks["car1"], f"{prefix}-Car-1.png": masks["car2"],
                f"{prefix}-Airplane-0.png": masks["plane"]}
    assert sorted(archive.namelist()) == sorted(expected)  # annotations only, as Label Studio: no predictions
    for name, mask in expected.items():
        image = Image.open(io.BytesIO(archive.read(name)))
        assert image.mode == "L" and image.size == (W, H)
        pixels = np.asarray(image)
        assert set(np.unique(pixels)) <= {0, 255}
        assert np.array_equal(pixels == 255, mask), name


def test_masks_png_gives_one_file_per_image_and_label_with_its_masks_merged(api, masked_project):
    project, task, _, masks = masked_project
    archive = zipfile.ZipFile(io.BytesIO(export(api, project, "MASKS_PNG").content))
    folder = f"one-{task['id']}"
    assert sorted(archive.namelist()) == [f"{folder}/Airplane.png", f"{folder}/Car.png"]
    for label, mask in (("Car", masks["car1"] | masks["car2"]), ("Airplane", masks["plane"])):
        pixels = np.asarray(Image.open(io.BytesIO(archive.read(f"{folder}/{label}.png"))))
        assert pixels.shape == (H, W) and np.array_equal(pixels == 255, mask), label


def test_brush_to_numpy_gives_the_same_arrays(api, masked_project):
    project, task, annotation, masks = masked_project
    archive = zipfile.ZipFile(io.BytesIO(export(api, project, "BRUSH_TO_NUMPY").content))
    name = f"task-{task['id']}-annotation-{annotation['id']}-by-{annotation['completed_by']}-tag-Airplane-0.npy"
    array = np.load(io.BytesIO(archive.read(name)))
    assert array.dtype == np.uint8 and np.array_equal(array == 255, masks["plane"])
    assert len(archive.namelist()) == 3


def test_coco_masks_decode_to_the_original_pixels(api, masked_project, tmp_path):
    project, task, _, masks = masked_project
    answer = export(api, project, "COCO")
    data = answer.json()
    names = {c["id"]: c["name"] for c in data["categories"]}
    assert sorted(names.values()) == ["Airplane", "Car"]
    assert data["images"] == [{"id": task["id"], "file_name": "one.png", "width": W, "height": H}]
    assert len(data["annotations"]) == 3
    wanted = {"Car": [masks["car1"], masks["car2"]], "Airplane": [masks["plane"]]}
    for item in data["annotations"]:
        segmentation = item["segmentation"]
        assert segmentation["size"] == [H, W] and item["iscrowd"] == 1
        decoded = coco_mask.decode(coco_mask.frPyObjects(segmentation, H, W)).astype(bool)
        match = [m for m in wanted[names[item["category_id"]]] if np.array_equal(decoded, m)]
        assert match, item["id"]
        rows, cols = np.nonzero(match[0])
        assert item["area"] == int(match[0].sum())
        assert item["bbox"] == [cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
    path = tmp_path / "coco.json"
    path.write_bytes(answer.content)
    coco = COCO(str(path))
    first = coco.loadAnns(coco.getAnnIds(imgIds=[task["id"]]))[0]
    assert coco.annToMask(first).sum() == first["area"]


def test_a_mask_of_another_size_is_left_out_and_listed(server, api, masked_project):
    project, task, annotation, masks = masked_project
    # a mask stored before its image was resized (or written by a broken script): no API lets it in
    wrong = mask_item("bad", masks["car1"], "Car", width=W + 2)
    result = [mask_item("plane", masks["plane"], "Airplane"), wrong]
    server.query("UPDATE lw_annotation SET result = $1 WHERE id = $2", json.dumps(result), annotation["id"])
    archive = zipfile.ZipFile(io.BytesIO(export(api, project, "BRUSH_TO_PNG").content))
    assert [n for n in archive.namelist() if n.endswith(".png")] == [
        f"task-{task['id']}-annotation-{annotation['id']}-by-{annotation['completed_by']}-tag-Airplane-0.png"]
    note = archive.read("skipped.txt").decode()
    assert f"task {task['id']}" in note and "'bad'" in note and "values" in note
    data = export(api, project, "COCO").json()
    assert len(data["annotations"]) == 1 and "'bad'" in data["skipped_masks"][0]


def test_brush_to_png_matches_label_studios_converter_on_the_json_export(api, masked_project, tmp_path):
    from label_studio_sdk.converter import Converter

    project = masked_project[0]
    source = tmp_path / "export.json"
    source.write_bytes(export(api, project, "JSON").content)
    (tmp_path / "ls").mkdir()
    Converter(config=CONFIG, project_dir=str(tmp_path), download_resources=False).convert(
        str(source), str(tmp_path / "ls"), "BRUSH_TO_PNG", is_dir=False)
    theirs = {p.name: np.asarray(Image.open(p)) for p in (tmp_path / "ls").iterdir()}
    archive = zipfile.ZipFile(io.BytesIO(export(api, project, "BRUSH_TO_PNG").content))
    ours = {name: np.asarray(Image.open(io.BytesIO(archive.read(name)))) for name in archive.namelist()}
    assert sorted(ours) == sorted(theirs) and len(ours) == 3
    assert all(np.array_equal(ours[name], theirs[name]) for name in ours)


def test_a_snapshot_converts_to_brush_png_with_the_same_files(api, masked_project, worker):
    from tests.test_export_snapshots import wait_status

    project, *_ = masked_project
    base = f"/api/projects/{project['id']}/exports"
    made = api.post(base, json={"title": "masks"}).json()
    wait_status(api, project["id"], made["id"])
    assert api.post(f"{base}/{made['id']}/convert", json={"export_type": "BRUSH_TO_PNG"}).status_code in (200, 201)
    deadline = time.monotonic() + 60
    while (found := api.get(f"{base}/{made['id']}").json()["converted_formats"][0])["status"] != "completed":
        assert time.monotonic() < deadline and found["status"] != "failed", found
        time.sleep(0.1)
    answer = api.get(f"{base}/{made['id']}/download?exportType=BRUSH_TO_PNG")
    assert answer.status_code == 200, answer.text[:300]
    snapshot = zipfile.ZipFile(io.BytesIO(answer.content))
    direct = zipfile.ZipFile(io.BytesIO(export(api, project, "BRUSH_TO_PNG").content))
    assert sorted(snapshot.namelist()) == sorted(direct.namelist()) and len(direct.namelist()) == 3
    assert all(snapshot.read(name) == direct.read(name) for name in direct.namelist())


def test_an_unlabelled_brush_mask_is_the_no_label_layer(api, make_project):
    config = '<View><Image name="image" value="$image"/><Brush name="tag" toName="image"/></View>'
    project = make_project(label_config=config)
    mask = circle(20, 16, 9)
    tasks = [{"data": {"image": "https://example.com/b.png"}, "annotations": [{"result": [mask_item("b", mask, None)]}]}]
    assert api.post(f"/api/projects/{project['id']}/import", json=tasks).status_code == 201
    archive = zipfile.ZipFile(io.BytesIO(export(api, project, "BRUSH_TO_PNG").content))
    [name] = archive.namelist()
    assert name.endswith("-tag-no_label-0.png")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(archive.read(name)))) == 255, mask)
    offered = {f["name"]: f["disabled"] for f in api.get(f"/api/projects/{project['id']}/export/formats").json()}
    assert offered["COCO"] and not offered["BRUSH_TO_NUMPY"]  # COCO needs labels for its categories
