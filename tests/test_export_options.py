"""Label Studio's export options as scripts send them: task_filter_options (a data manager view's
filters, skipped / finished / annotated, only_with_annotations), annotation_filter_options,
serialization_options (drafts, predictions, completed_by expanded or ids), through the legacy SDK
(export_snapshot_create, project.export(filters=…), export_tasks) and the 2.x SDK
(projects.exports.create, then download); the drafts in the easy export; bad options as 400s."""

from __future__ import annotations

import json
import time
from contextlib import closing

import pytest
import requests

from tests.helpers import browser
from tests.test_export import NER_TEXT, ner_tasks, span
from tests.test_export_snapshots import CONFIG, wait_status
from tests.test_labelling import form_of, post

TEXTS = [NER_TEXT, "Nobody here.", "Truth from Oslo.", "Skipped one."]
DRAFT_KEYS = {"id", "user", "created_username", "created_ago", "result", "lead_time", "was_postponed", "created_at",
              "updated_at", "task", "annotation"}
OSLO = {"conjunction": "and", "items": [
    {"filter": "filter:tasks:data.text", "operator": "contains", "type": "String", "value": "Oslo"}]}


@pytest.fixture
def opts(server, api, legacy_sdk, worker, make_user):
    """Four tasks (annotated, unannotated with an annotator's draft, ground truth, skipped), one prediction."""
    project = legacy_sdk.start_project(title="Export options", label_config=CONFIG)
    tasks = ner_tasks() + [
        {"data": {"text": TEXTS[2]}, "annotations": [
            {"result": [span(TEXTS[2], "Oslo", "LOCATION", "o")], "ground_truth": True}]},
        {"data": {"text": TEXTS[3]}, "annotations": [{"result": [], "was_cancelled": True}]}]
    tasks[0]["predictions"] = [{"result": [span(NER_TEXT, "Ada Lovelace", "PERSON", "p")], "score": 0.5}]
    assert api.post(f"/api/projects/{project.id}/import", json=tasks).status_code == 201
    ids = sorted(t["id"] for t in project.get_tasks())
    annotator = make_user(first_name="Ann", last_name="Otator")
    assert api.post(f"/api/projects/{project.id}/members", json={"user": annotator["id"]}).status_code in (200, 201)
    with closing(browser(server, annotator["email"], annotator["password"])) as web:
        page = web.get(f"/projects/{project.id}/label/{ids[1]}")
        assert page.status_code == 200, page.text
        region = json.dumps({"id": "d1", "from_name": "label", "to_name": "text", "type": "labels",
                             "value": {"start": 0, "end": 6, "labels": ["ORG"]}})
        saved = post(web, page, "draft", form_of(page), region=[region], revision="3", lead_time="4.5")
        assert saved.status_code == 200, saved.text
    return project, ids, annotator


def texts(tasks: list[dict]) -> list[str]:
    return [t["data"]["text"] for t in tasks]


def legacy_snapshot(project, tmp_path, **options) -> list[dict]:
    made = project.export_snapshot_create(title="Options", **options)
    deadline = time.monotonic() + 60
    while not project.export_snapshot_status(made["id"]).is_completed():
        assert time.monotonic() < deadline and not project.export_snapshot_status(made["id"]).is_failed()
        time.sleep(0.1)
    status, name = project.export_snapshot_download(made["id"], export_type="JSON", path=str(tmp_path))
    assert status == 200
    return json.loads((tmp_path / name).read_text())


def test_legacy_sdk_options(api, opts, tmp_path):
    project, ids, annotator = opts
    # a view with a filter: only its tasks, by id and through project.export(filters=…)
    view = project.create_view(filters=OSLO, title="Oslo only")
    assert texts(legacy_snapshot(project, tmp_path, task_filter_options={"view": view["id"]})) == [TEXTS[2]]
    result = project.export(filters=OSLO, export_type="JSON", output_dir=str(tmp_path / "out"))
    assert result["status"] == 200
    assert texts(json.loads((tmp_path / "out" / result["filename"]).read_text())) == [TEXTS[2]]

    for option, value, expected in (("skipped", "only", [3]), ("skipped", "exclude", [0, 1, 2]),
                                    ("finished", "only", [0, 2]), ("finished", "exclude", [1, 3]),
                                    ("annotated", "only", [0, 2]), ("annotated", "exclude", [1, 3])):
        got = texts(legacy_snapshot(project, tmp_path, task_filter_options={option: value}))
        assert got == [TEXTS[i] for i in expected], (option, value)

    # annotation kinds: every task still there, only the kinds asked for in them
    usual = legacy_snapshot(project, tmp_path, annotation_filter_options_ground_truth=False,
                            annotation_filter_options_skipped=False)
    assert [len(t["annotations"]) for t in usual] == [1, 0, 0, 0]
    truth = legacy_snapshot(project, tmp_path, task_filter_options={"only_with_annotations": True},
                            annotation_filter_options_usual=False, annotation_filter_options_skipped=False)
    assert texts(truth) == [TEXTS[2]] and truth[0]["annotations"][0]["ground_truth"] is True

    # drafts: ids by default (the SDK's only_id=True), in full when asked; completed_by likewise
    plain = legacy_snapshot(project, tmp_path)
    draft_id = plain[1]["drafts"][0]
    assert isinstance(draft_id, int) and [t["drafts"] for t in plain if t is not plain[1]] == [[], [], []]
    assert isinstance(plain[0]["annotations"][0]["completed_by"], int)
    full = legacy_snapshot(project, tmp_path, serialization_options_drafts=False,
                           serialization_options_annotations__completed_by=False)
    draft = full[1]["drafts"][0]
    assert set(draft) >= DRAFT_KEYS and draft["id"] == draft_id and draft["task"] == ids[1]
    assert draft["user"] == annotator["email"] and draft["annotation"] is None and draft["was_postponed"] is False
    assert draft["created_username"] == f"Ann Otator {annotator['email']}, {annotator['id']}"
    assert draft["lead_time"] == 4.5 and draft["result"][0]["value"]["labels"] == ["ORG"]
    assert "minute" in draft["created_ago"] and draft["created_at"] and draft["updated_at"]
    assert full[0]["annotations"][0]["completed_by"]["email"]

    # the easy export carries drafts in full, as Label Studio's does
    easy = project.export_tasks(export_type="JSON", download_all_tasks=True)
    assert texts(easy) == TEXTS and easy[1]["drafts"][0]["id"] == draft_id
    assert set(easy[1]["drafts"][0]) >= DRAFT_KEYS and easy[0]["drafts"] == []

    # a view that is not this project's is a 400 naming the field
    with pytest.raises(requests.HTTPError) as refused:
        project.export_snapshot_create(title="Bad", task_filter_options={"view": 999999})
    assert refused.value.response.status_code == 400
    assert "task_filter_options.view" in refused.value.response.json()["validation_errors"]


def test_current_sdk_options(api, sdk, opts, make_project):
    from label_studio_sdk.core.api_error import ApiError

    project, ids, _ = opts
    pid = project.id

    def snapshot(**options) -> list[dict]:
        made = sdk.projects.exports.create(pid, title="Current", **options)
        wait_status(api, pid, made.id)
        return json.loads(b"".join(sdk.projects.exports.download(pid, made.id, export_type="JSON")))

    view = sdk.views.create(project=pid, data={"title": "Oslo", "filters": OSLO})
    assert texts(snapshot(task_filter_options={"view": view.id})) == [TEXTS[2]]
    # no annotation_filter_options: every annotation (Label Studio's default); an object: its kinds
    assert [len(t["annotations"]) for t in snapshot()] == [1, 0, 1, 1]
    assert [len(t["annotations"]) for t in snapshot(annotation_filter_options={})] == [1, 0, 0, 0]
    only_skips = snapshot(annotation_filter_options={"usual": False, "skipped": True},
                          task_filter_options={"only_with_annotations": True})
    assert texts(only_skips) == [TEXTS[3]] and only_skips[0]["annotations"][0]["was_cancelled"] is True
    assert texts(snapshot(task_filter_options={"finished": "exclude", "skipped": "exclude"})) == [TEXTS[1]]

    absent = snapshot()
    assert isinstance(absent[1]["drafts"][0], int) and isinstance(absent[0]["predictions"][0], int)
    expanded = snapshot(serialization_options={"drafts": {"only_id": False}, "predictions": {}})
    assert set(expanded[1]["drafts"][0]) >= DRAFT_KEYS and expanded[0]["predictions"][0]["score"] == 0.5

    other = make_project()
    elsewhere = sdk.views.create(project=other["id"], data={"title": "Elsewhere"})
    for options, field in (({"task_filter_options": {"view": elsewhere.id}}, "task_filter_options.view"),
                           ({"task_filter_options": {"view": "tab"}}, "task_filter_options.view"),
                           ({"serialization_options": {"drafts": {"only_id": "maybe"}}},
                            "serialization_options.drafts.only_id"),
                           ({"serialization_options": {"interpolate_key_frames": "x"}},
                            "serialization_options.interpolate_key_frames"),
                           ({"annotation_filter_options": {"ground_truth": "x"}}, "annotation_filter_options.ground_truth"),
                           ({"task_filter_options": {"finished": "all"}}, "task_filter_options.finished")):
        with pytest.raises(ApiError) as refused:
            sdk.projects.exports.create(pid, title="Bad", **options)
        assert refused.value.status_code == 400 and field in refused.value.body["validation_errors"], options
