"""Label Studio gallery configs that Label Studio accepts: created through both SDKs, a task
imported, the workspace rendered, an annotation saved as Label Studio writes it, and exported."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import browser
from tests.test_workspace_browser import annotator_in, drag_across, png, start_labelling  # noqa: F401 (a fixture)

# Label Studio's gallery headers use any size; size="8" is in its templates
HEADER = """<View>
  <Header value="Read the review" size="8"/>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices>
</View>"""


def test_header_of_any_size(server, api, legacy_sdk, sdk):
    legacy = legacy_sdk.start_project(title="Header 8", label_config=HEADER)
    current = sdk.projects.create(title="Header 8 (2.x)", label_config=HEADER)
    assert current.id and legacy.id
    api.post(f"/api/projects/{legacy.id}/import", json=[{"text": "Fine."}])
    task = api.get(f"/api/tasks?project={legacy.id}").json()
    task_id = (task["tasks"] if isinstance(task, dict) else task)[0]["id"]
    page = browser(server).get(f"/projects/{legacy.id}/label/{task_id}")
    assert page.status_code == 200 and '<h6 class="lw-header">Read the review</h6>' in page.text
    saved = api.post(f"/api/tasks/{task_id}/annotations", json={"result": [
        {"id": "c", "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}}]})
    assert saved.status_code == 201, saved.text
    exported = api.get(f"/api/projects/{legacy.id}/export?exportType=JSON").json()
    assert exported[0]["annotations"][0]["result"][0]["value"] == {"choices": ["Positive"]}


def test_a_header_size_that_is_not_a_number_is_still_a_heading(api):
    for size in ("big", "0", "-3", "1"):
        checked = api.post("/api/projects/validate", json={"label_config": HEADER.replace('size="8"', f'size="{size}"')})
        assert checked.status_code == 200, (size, checked.text)


# Label Studio's two-level sentiment template: layout Views and a Header inside the second <Choices>
TWO_LEVEL = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" showInline="true">
    <Choice value="Positive"/><Choice value="Negative"/>
  </Choices>
  <Choices name="emotion" toName="text" choice="multiple" visibleWhen="choice-selected"
           whenTagName="sentiment" whenChoiceValue="Positive">
    <View style="width: 100%"><Header value="What kind of positive?"/></View>
    <View style="display: flex"><Choice value="Joy"/><Choice value="Gratitude"/></View>
  </Choices>
</View>"""

# Label Studio's OCR template: <Labels> on the image labels what <Rectangle>/<Polygon> draw
OCR = """<View>
  <Image name="image" value="$ocr"/>
  <Labels name="label" toName="image"><Label value="Text" background="green"/><Label value="Handwriting" background="blue"/></Labels>
  <Rectangle name="bbox" toName="image" strokeWidth="3"/>
  <Polygon name="poly" toName="image" strokeWidth="3"/>
  <TextArea name="transcription" toName="image" editable="true" perRegion="true" required="true"
            maxSubmissions="1" rows="5" placeholder="Recognized Text" displayMode="region-list"/>
</View>"""

# a multi-page document: one <Image> over a list of pages
PAGES = """<View>
  <Image name="page" valueList="$pages"/>
  <RectangleLabels name="box" toName="page"><Label value="Title"/><Label value="Table"/></RectangleLabels>
</View>"""


def first_task(api, project_id: int) -> int:
    found = api.get(f"/api/tasks?project={project_id}").json()
    return (found["tasks"] if isinstance(found, dict) else found)[0]["id"]


def test_views_inside_choices(server, api, legacy_sdk, sdk):
    legacy = legacy_sdk.start_project(title="Two-level sentiment", label_config=TWO_LEVEL)
    assert sdk.projects.create(title="Two-level (2.x)", label_config=TWO_LEVEL).id
    legacy.import_tasks([{"text": "Thank you, this made my day."}])
    task_id = first_task(api, legacy.id)
    page = browser(server).get(f"/projects/{legacy.id}/label/{task_id}").text
    # the choices sit inside their layout, under the header, in the config's order
    assert page.index("What kind of positive?") < page.index('value="Joy"') < page.index('value="Gratitude"')
    result = [{"id": "s", "from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": ["Positive"]}},
              {"id": "e", "from_name": "emotion", "to_name": "text", "type": "choices",
               "value": {"choices": ["Joy", "Gratitude"]}}]
    legacy.create_annotation(task_id, result=result)
    (task,) = legacy.export_tasks()
    assert task["annotations"][0]["result"][1]["value"] == {"choices": ["Joy", "Gratitude"]}


def test_kept_refusals_name_line_and_attribute(api):
    refused = {
        "an image with neither value nor valueList": ('<View><Image name="i"/></View>', "valueList"),
        "choices with only an empty layout view": (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><View/></Choices></View>', "nothing to choose"),
        "a label inside choices": (
            '<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Label value="x"/></Choices></View>', "<Label>"),
        "labels on an image with a typo in toName": (OCR.replace('<Labels name="label" toName="image"',
                                                                   '<Labels name="label" toName="imag"'), "imag"),
    }
    for case, (xml, named) in refused.items():
        checked = api.post("/api/projects/validate", json={"label_config": xml})
        assert checked.status_code == 400, case
        assert named in checked.text and '"line"' in checked.text, (case, checked.text)


def test_ocr_labels_on_image_regions(server, api, legacy_sdk, sdk):
    project = legacy_sdk.start_project(title="OCR", label_config=OCR)
    assert sdk.projects.create(title="OCR (2.x)", label_config=OCR).id
    project.import_tasks([{"ocr": png(400, 200)}])
    task_id = first_task(api, project.id)
    shape = {"x": 10, "y": 20, "width": 30, "height": 10, "rotation": 0}
    sizes = {"original_width": 400, "original_height": 200, "image_rotation": 0}
    # as Label Studio writes it: the box, its label and its transcription share one id
    result = [{"id": "r1", "from_name": "bbox", "to_name": "image", "type": "rectangle", "value": shape, **sizes},
              {"id": "r1", "from_name": "label", "to_name": "image", "type": "labels",
               "value": {**shape, "labels": ["Handwriting"]}, **sizes},
              {"id": "r1", "from_name": "transcription", "to_name": "image", "type": "textarea",
               "value": {**shape, "text": ["Dear Sir"]}, **sizes}]
    project.create_annotation(task_id, result=result)
    page = browser(server).get(f"/projects/{project.id}/label/{task_id}").text
    assert 'name="label@r1" value="Handwriting" checked' in page
    assert "--lw-color: blue" in page  # the box takes its label's colour
    (task,) = project.export_tasks()
    assert sorted(r["type"] for r in task["annotations"][0]["result"]) == ["labels", "rectangle", "textarea"]
    bad = api.post(f"/api/tasks/{task_id}/annotations", json={"result": [
        {"id": "r2", "from_name": "label", "to_name": "image", "type": "labels", "value": {"labels": ["Text"]}}]})
    assert bad.status_code == 400 and "shape" in bad.text


def test_ocr_in_the_browser_draw_label_and_transcribe(page, server, api, annotator_in):
    project, user = annotator_in(OCR, [{"ocr": png(400, 200)}])
    start_labelling(page, project, user)
    image = page.locator(".lw-image img")
    expect(image).to_be_visible()
    page.get_by_test_id("tool-rectangle").click()
    drag_across(page, image, (0.10, 0.20), (0.50, 0.70))
    expect(page.locator(".lw-region")).to_have_count(1)
    page.get_by_test_id("region-label-Text").check()
    page.locator(".lw-region textarea").fill("Invoice 42")
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    tasks = api.get(f"/api/tasks?project={project['id']}&fields=all").json()["tasks"]
    (stored,) = api.get(f"/api/tasks/{tasks[0]['id']}/annotations").json()
    by_type = {r["type"]: r for r in stored["result"]}
    assert set(by_type) == {"rectangle", "labels", "textarea"}
    assert len({r["id"] for r in stored["result"]}) == 1
    assert by_type["labels"]["value"]["labels"] == ["Text"]
    assert by_type["textarea"]["value"]["text"] == ["Invoice 42"]
    assert abs(by_type["labels"]["value"]["width"] - 40) < 1.0 and by_type["labels"]["original_width"] == 400


def test_multi_page_image_draws_on_its_page(page, server, api, annotator_in, legacy_sdk):
    assert legacy_sdk.start_project(title="Pages (legacy)", label_config=PAGES).id
    project, user = annotator_in(PAGES, [{"pages": [png(400, 200), png(300, 300), png(200, 100)]}])
    start_labelling(page, project, user)
    expect(page.locator(".lw-image")).to_have_count(3)
    second = page.get_by_test_id("object-page:1")
    second.scroll_into_view_if_needed()
    page.get_by_test_id("label-Table").click()
    image = second.locator("img")
    expect(image).to_be_visible()
    drag_across(page, image, (0.2, 0.2), (0.6, 0.5))
    expect(second.locator(".lw-region")).to_have_count(1)
    expect(page.get_by_test_id("object-page:0").locator(".lw-region")).to_have_count(0)
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    task_id = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]["id"]
    (stored,) = api.get(f"/api/tasks/{task_id}/annotations").json()
    (item,) = stored["result"]
    assert item["item_index"] == 1 and item["value"]["rectanglelabels"] == ["Table"]
    assert (item["original_width"], item["original_height"]) == (300, 300)
    wrong = api.post(f"/api/tasks/{task_id}/annotations", json={"result": [{**item, "item_index": 3}]})
    assert wrong.status_code == 400 and "item_index" in wrong.text
