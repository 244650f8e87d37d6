"""Label Studio gallery configs that Label Studio accepts: created through both SDKs, a task
imported, the workspace rendered, an annotation saved as Label Studio writes it, and exported."""

from __future__ import annotations

from tests.helpers import browser

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
