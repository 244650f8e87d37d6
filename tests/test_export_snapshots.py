"""Label Studio's export snapshots (/api/projects/{id}/exports), as scripts use them: the legacy
SDK's export_snapshot_* calls and project.export() (create, poll, download), the 2.x SDK's
projects.exports.create/list/get/convert/download/delete; the options Label Studio has, the
status after a worker stops, bad input, who may, and the project page's export card."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest
import requests

from tests.helpers import browser, submit
from tests.test_export import NER_TEXT, ner_tasks, span

CONFIG = """<View>
  <Labels name="label" toName="text">
    <Label value="PERSON"/><Label value="ORG"/><Label value="LOCATION"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""


@pytest.fixture
def snap_project(api, legacy_sdk, worker):
    """Four tasks: annotated, unannotated, ground truth, skipped; one prediction."""
    project = legacy_sdk.start_project(title="Snapshots", label_config=CONFIG)
    tasks = ner_tasks() + [
        {"data": {"text": "Truth from Oslo."}, "annotations": [
            {"result": [span("Truth from Oslo.", "Oslo", "LOCATION", "o")], "ground_truth": True}]},
        {"data": {"text": "Skipped one."}, "annotations": [{"result": [], "was_cancelled": True}]}]
    tasks[0]["predictions"] = [{"result": [span(NER_TEXT, "Ada Lovelace", "PERSON", "p")], "score": 0.5}]
    assert api.post(f"/api/projects/{project.id}/import", json=tasks).status_code == 201
    return project


def wait_status(api, pid: int, eid: int, status: str = "completed") -> dict:
    deadline = time.monotonic() + 60
    while True:
        found = api.get(f"/api/projects/{pid}/exports/{eid}").json()
        if found["status"] == status or time.monotonic() > deadline:
            assert found["status"] == status, found
            return found
        time.sleep(0.1)


def test_legacy_sdk_snapshots(api, snap_project, tmp_path):
    project, pid = snap_project, snap_project.id
    made = project.export_snapshot_create(title="First")  # the SDK's defaults: every annotation, prediction ids
    assert made["title"] == "First" and made["status"] in ("in_progress", "completed")
    assert made["created_by"]["email"] and set(made["created_by"]) >= {"id", "first_name", "last_name", "email", "avatar"}
    assert made["task_filter_options"]["only_with_annotations"] is False
    assert made["annotation_filter_options"] == {"usual": True, "ground_truth": True, "skipped": True}
    deadline = time.monotonic() + 60
    while not project.export_snapshot_status(made["id"]).is_completed():
        assert time.monotonic() < deadline and not project.export_snapshot_status(made["id"]).is_failed()
        time.sleep(0.1)
    done = project.export_snapshot_status(made["id"]).response
    assert done["finished_at"] and len(done["md5"]) == 32
    assert done["counters"] == {"task_number": 4, "annotation_number": 3, "prediction_number": 1}

    status, name = project.export_snapshot_download(made["id"], export_type="JSON", path=str(tmp_path))
    assert status == 200 and name.endswith(".json")
    tasks = json.loads((tmp_path / name).read_text())
    assert [t["data"]["text"] for t in tasks] == [NER_TEXT, "Nobody here.", "Truth from Oslo.", "Skipped one."]
    assert [len(t["annotations"]) for t in tasks] == [1, 0, 1, 1]
    assert isinstance(tasks[0]["predictions"][0], int)  # only ids, unless predictions are expanded

    status, name = project.export_snapshot_download(made["id"], export_type="CSV", path=str(tmp_path))
    assert status == 200 and name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / name).read_text())))
    assert len(rows) == 4 and rows[0]["text"] == NER_TEXT

    second = project.export_snapshot_create(
        title="Second", task_filter_options={"only_with_annotations": True},
        annotation_filter_options_skipped=False, serialization_options_predictions=False)
    wait_status(api, pid, second["id"])
    listed = project.export_snapshot_list()
    assert [e["id"] for e in listed][:2] == [second["id"], made["id"]]  # newest first
    status, name = project.export_snapshot_download(second["id"], path=str(tmp_path))
    tasks = json.loads((tmp_path / name).read_text())
    assert [t["data"]["text"] for t in tasks] == [NER_TEXT, "Truth from Oslo."]
    assert tasks[0]["predictions"][0]["score"] == 0.5  # expanded

    result = project.export(export_type="CONLL2003", output_dir=str(tmp_path / "out"))
    assert result["status"] == 200 and result["filename"].endswith(".conll")
    conll = (tmp_path / "out" / result["filename"]).read_text()
    assert "Ada -X- _ B-PERSON" in conll and "Reykjavík -X- _ B-LOCATION\n. -X- _ O" in conll

    assert project.export_snapshot_delete(made["id"]) == 204
    assert api.get(f"/api/projects/{pid}/exports/{made['id']}").status_code == 404
    with pytest.raises(requests.HTTPError, match="404"):
        project.export_snapshot_download(made["id"], path=str(tmp_path))
    assert made["id"] not in [e["id"] for e in project.export_snapshot_list()]


def test_current_sdk_snapshots(api, sdk, snap_project):
    pid = snap_project.id
    made = sdk.projects.exports.create(pid, title="Current", task_filter_options={"annotated": "only"})
    assert made.id and made.title == "Current"
    wait_status(api, pid, made.id)
    found = sdk.projects.exports.get(pid, made.id)
    assert found.status == "completed" and found.counters["task_number"] == 2  # annotated: not skipped ones
    assert found.created_by.email and found.converted_formats == []
    assert made.id in [e.id for e in sdk.projects.exports.list(pid)]

    converted = sdk.projects.exports.convert(pid, made.id, export_type="CSV")
    assert converted.export_type == "CSV" and converted.converted_format
    deadline = time.monotonic() + 60
    while (fmt := sdk.projects.exports.get(pid, made.id).converted_formats[0]).status != "completed":
        assert time.monotonic() < deadline and fmt.status != "failed", fmt
        time.sleep(0.1)
    assert fmt.id == converted.converted_format and fmt.export_type == "CSV"
    again = api.post(f"/api/projects/{pid}/exports/{made.id}/convert", json={"export_type": "CSV"})
    assert again.status_code == 400 and "already started" in json.dumps(again.json())

    body = b"".join(sdk.projects.exports.download(pid, made.id, export_type="CSV"))
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [r["text"] for r in rows] == [NER_TEXT, "Truth from Oslo."]
    as_json = json.loads(b"".join(sdk.projects.exports.download(pid, made.id, export_type="JSON")))
    assert len(as_json) == 2
    sdk.projects.exports.delete(pid, made.id)
    assert api.get(f"/api/projects/{pid}/exports/{made.id}").status_code == 404


def test_a_stopped_worker_fails_the_snapshot(server, api, snap_project):
    """The job recovery marks a stopped worker's job failed; the snapshot says failed with it."""
    pid = snap_project.id
    made = api.post(f"/api/projects/{pid}/exports", json={"title": "Crash"}).json()
    wait_status(api, pid, made["id"])
    job = server.query("SELECT job FROM lw_export WHERE id = $1", made["id"])[0]["job"]
    # as if the worker had died mid-write: the row never got its final word, the recovery failed the job
    server.query("UPDATE lw_export SET status = 'in_progress', finished_at = NULL WHERE id = $1", made["id"])
    server.query("UPDATE lw_job SET state = 'running' WHERE id = $1", job)
    assert api.get(f"/api/projects/{pid}/exports/{made['id']}").json()["status"] == "in_progress"
    server.query("UPDATE lw_job SET state = 'failed', error = 'interrupted', finished_at = created_at WHERE id = $1", job)
    failed = api.get(f"/api/projects/{pid}/exports/{made['id']}").json()
    assert failed["status"] == "failed" and failed["finished_at"]
    assert api.get(f"/api/projects/{pid}/exports/{made['id']}/download").status_code == 404


def test_bad_input_and_who_may(server, api, snap_project, make_user):
    pid = snap_project.id
    base = f"/api/projects/{pid}/exports"
    for body, field in (({"title": 5}, "title"), ({"task_filter_options": {"skipped": "maybe"}}, "task_filter_options.skipped"),
                        ({"annotation_filter_options": {"usual": "x"}}, "annotation_filter_options.usual"),
                        ({"task_filter_options": []}, "task_filter_options"), ([1], "non_field_errors")):
        refused = api.post(base + "/", json=body)  # the trailing slash, as the 2.x SDK sends it
        assert refused.status_code == 400 and field in refused.json()["validation_errors"], (body, refused.text)
    made = api.post(base, json={}).json()
    wait_status(api, pid, made["id"])
    refused = api.post(f"{base}/{made['id']}/convert", json={"export_type": "COCO"})
    assert refused.status_code == 400 and "export_type" in refused.json()["validation_errors"]
    assert api.post(f"{base}/{made['id']}/convert", json={}).status_code == 400
    assert api.get(f"{base}/{made['id']}/download?exportType=YOLO").status_code == 400
    assert api.get(f"{base}/999999").status_code == 404 and api.delete(f"{base}/999999").status_code == 404
    annotator = make_user()
    api.post(f"/api/projects/{pid}/members", json={"user": annotator["id"], "role": "annotator"})
    token = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', annotator["id"])[0]["key"]
    with server.client(token=token) as them:
        assert them.get(base).status_code == 403 and them.post(base, json={}).status_code == 403
        assert them.get(f"{base}/{made['id']}/download").status_code == 403


def test_the_export_card_lists_and_makes_snapshots(server, api, snap_project):
    pid = snap_project.id
    client = browser(server)
    made = submit(client, f"/projects/{pid}", f"/projects/{pid}/exports", {"title": "From the page"})
    assert made.status_code in (302, 303)
    found = next(e for e in api.get(f"/api/projects/{pid}/exports").json() if e["title"] == "From the page")
    wait_status(api, pid, found["id"])
    assert found["counters"] == {} or found["status"] != "completed"
    part = client.get(f"/projects/{pid}/exports", headers={"HX-Request": "true"})
    assert part.status_code == 200 and "From the page" in part.text
    assert f"/api/projects/{pid}/exports/{found['id']}/download?exportType=CONLL2003" in part.text
    assert 'aria-label="Delete From the page"' in part.text
    page = client.get(f"/projects/{pid}/exports")  # without htmx: a page of its own
    assert page.status_code == 200 and "<h1>" in page.text
    gone = submit(client, f"/projects/{pid}/exports", f"/projects/{pid}/exports/{found['id']}/delete", {})
    assert gone.status_code in (302, 303)
    assert api.get(f"/api/projects/{pid}/exports/{found['id']}").status_code == 404
