"""Agreement of two annotators' brush masks: per label, the IoU of the union of each one's masks of that
label (a label only one of them drew scores 0), on the agreement API and on the dashboard page."""

from __future__ import annotations

from contextlib import closing

import lxml.html
import pytest

from tests.helpers import browser
from tests.test_mask_export import CONFIG, mask_item, rectangle


def annotate(server, api, project: dict, task: dict, make_user, result: list[dict]) -> None:
    user = make_user("annotator")
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    key = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]
    with server.client(token=key) as client:
        answer = client.post(f"/api/tasks/{task['id']}/annotations", json={"result": result})
        assert answer.status_code == 201, answer.text


def test_mask_agreement_is_the_iou_of_each_labels_union(server, api, make_project, make_user):
    project = make_project(label_config=CONFIG, maximum_annotations=2)
    answer = api.post(f"/api/projects/{project['id']}/import", json=[{"image": "https://example.com/a.png"}])
    assert answer.status_code == 201, answer.text
    task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
    # first: two Car masks, 10x10 each side by side (x 0-20, y 0-10), and an Airplane;
    # second: one Car mask x 10-30, y 0-10, no Airplane. Car: 100 shared of 300 pixels; Airplane: 0.
    annotate(server, api, project, task, make_user, [
        mask_item("c1", rectangle(0, 0, 10, 10), "Car"), mask_item("c2", rectangle(10, 0, 20, 10), "Car"),
        mask_item("p1", rectangle(30, 20, 40, 30), "Airplane")])
    annotate(server, api, project, task, make_user, [mask_item("c3", rectangle(10, 0, 30, 10), "Car")])
    found = api.get(f"/api/projects/{project['id']}/agreement").json()
    assert found["controls"]["tag"]["score"] == pytest.approx((1 / 3 + 0) / 2)
    assert "mask IoU" in found["controls"]["tag"]["metric"]
    assert found["labels"] == {"Car": pytest.approx(1 / 3), "Airplane": 0.0}
    assert api.get(f"/api/tasks/{task['id']}").json()["agreement"] == pytest.approx(1 / 6)
    with closing(browser(server)) as web:
        page = lxml.html.fromstring(web.get(f"/projects/{project['id']}/agreement").text)
    row = page.cssselect("tr[data-control=tag]")[0].text_content()
    assert "mask IoU" in row and "0.17" in row


def test_identical_masks_agree_fully_and_a_label_neither_drew_is_left_out(server, api, make_project, make_user):
    project = make_project(label_config=CONFIG, maximum_annotations=2)
    api.post(f"/api/projects/{project['id']}/import", json=[{"image": "https://example.com/b.png"}])
    task = api.get(f"/api/tasks?project={project['id']}").json()["tasks"][0]
    for _ in range(2):
        annotate(server, api, project, task, make_user, [mask_item("c", rectangle(5, 5, 25, 15), "Car")])
    found = api.get(f"/api/projects/{project['id']}/agreement").json()
    assert found["controls"]["tag"]["score"] == pytest.approx(1.0)
    assert api.get(f"/api/tasks/{task['id']}").json()["agreement"] == pytest.approx(1.0)
