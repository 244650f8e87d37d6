"""Importing tasks through the API the way Label Studio scripts do: formats, annotations and
predictions, errors that name file and line, all-or-nothing, uploads served only in their project."""

from __future__ import annotations

import io
import json
from contextlib import closing

import pytest
from PIL import Image

from tests.conftest import SAMPLES

TEXT = "Ada Lovelace joined Kestrel Labs."


def upload(api, project_id: int, name: str, content: bytes | str, query: str = "") -> dict:
    body = content.encode() if isinstance(content, str) else content
    return api.post(f"/api/projects/{project_id}/import{query}", files=[("file", (name, body))])


def tasks_of(api, project_id: int) -> list[dict]:
    return api.get(f"/api/tasks?project={project_id}&page_size=1000").json()["tasks"]


@pytest.mark.parametrize(("name", "content", "texts"), [
    ("a.jsonl", '{"text": "one"}\n\n{"data": {"text": "two"}, "meta": {"src": "x"}}\n', ["one", "two"]),
    ("a.json", '[{"text": "one"}, {"data": {"text": "two"}}]', ["one", "two"]),
    ("a.json", '{"data": {"text": "only"}}', ["only"]),
    ("a.csv", 'text,source\n"one, with comma",app\ntwo,web\n', ["one, with comma", "two"]),
    ("a.csv", "text;source\none;app\ntwo;web\n", ["one", "two"]),
    ("a.tsv", "text\tsource\none\tapp\n", ["one"]),
    ("a.txt", "one\r\ntwo 🚀\n\n", ["one", "two 🚀"]),
])
def test_formats(api, ner_project, name, content, texts):
    response = upload(api, ner_project["id"], name, content)
    assert response.status_code == 201, response.text
    assert response.json()["task_count"] == len(texts)
    assert [t["data"]["text"] for t in tasks_of(api, ner_project["id"])] == texts
    assert api.get(f"/api/projects/{ner_project['id']}").json()["task_number"] == len(texts)


def test_json_body_and_task_ids(api, ner_project):
    response = api.post(f"/api/projects/{ner_project['id']}/import?return_task_ids=true",
                        json=[{"text": "a"}, {"text": "b"}])
    assert response.status_code == 201
    body = response.json()
    assert body["task_count"] == 2 and len(body["task_ids"]) == 2
    assert api.get(f"/api/tasks/{body['task_ids'][1]}").json()["data"] == {"text": "b"}


def test_sample_files_import(api, make_project, sample_config):
    for config, task_file, count in [("ner.xml", "ner.jsonl", 200), ("sentiment.xml", "sentiment.csv", None),
                                     ("dialogue-intent.xml", "dialogue.json", None)]:
        project = make_project(label_config=sample_config(config))
        response = upload(api, project["id"], task_file, (SAMPLES / "tasks" / task_file).read_bytes())
        assert response.status_code == 201, response.text
        assert response.json()["task_count"] == (count or response.json()["task_count"]) > 0


def test_bad_input_names_file_and_line_and_stores_nothing(api, ner_project):
    upload(api, ner_project["id"], "good.jsonl", '{"text": "kept"}\n')
    content = "\n".join([
        '{"text": "fine"}',
        '{"text": "broken"',
        '{"body": "wrong key"}',
        json.dumps({"data": {"text": "short"}, "annotations": [{"result": [{"id": "a", "from_name": "label",
                    "to_name": "text", "type": "labels", "value": {"start": 0, "end": 99, "labels": ["PERSON"]}}]}]}),
        '["not", "an", "object"]',
    ])
    response = upload(api, ner_project["id"], "mixed.jsonl", content)
    assert response.status_code == 400
    errors = response.json()["validation_errors"]["import"]
    assert response.json()["error_count"] == 4
    assert errors[0].startswith("mixed.jsonl, line 2: not valid JSON")
    assert errors[1] == "mixed.jsonl, line 3: no data key 'text', which the config needs (the task has: 'body')"
    assert errors[2].startswith("mixed.jsonl, line 4: annotation 0: item 0 (label): span 0-99 is outside the text")
    assert errors[3] == "mixed.jsonl, line 5: a task must be an object, not list"
    assert [t["data"]["text"] for t in tasks_of(api, ner_project["id"])] == ["kept"]


def test_csv_row_with_wrong_field_count(api, ner_project):
    response = upload(api, ner_project["id"], "bad.csv", "text,source\nok,app\nbroken,app,extra\n")
    assert response.json()["validation_errors"]["import"] == ["bad.csv, line 3: has 3 fields, the header has 2"]


def test_txt_needs_a_single_data_key(api, make_project):
    project = make_project(label_config='<View><Text name="a" value="$a"/><Text name="b" value="$b"/></View>')
    response = upload(api, project["id"], "lines.txt", "x\n")
    assert "single data key" in response.json()["validation_errors"]["import"][0]


def test_unsupported_file_is_named(api, ner_project):
    response = upload(api, ner_project["id"], "tasks.xlsx", b"PK\x03\x04")
    assert response.status_code == 400
    assert "tasks.xlsx: this kind of file cannot be imported" in response.json()["validation_errors"]["file"][0]


def test_reimporting_the_same_file_is_said(api, ner_project):
    upload(api, ner_project["id"], "same.jsonl", '{"text": "x"}\n')
    again = upload(api, ner_project["id"], "same.jsonl", '{"text": "x"}\n').json()
    assert again["task_count"] == 1
    assert "same content as same.jsonl" in again["warnings"][0]


def ls_export(user_id: int) -> list[dict]:
    return [{
        "id": 17, "data": {"text": TEXT}, "meta": {"batch": 3},
        "annotations": [
            {"id": 5, "completed_by": user_id, "lead_time": 4.288, "ground_truth": True, "was_cancelled": False,
             "created_at": "2024-03-09T21:52:49.513742Z", "updated_at": "2024-03-09T22:16:08.746926Z",
             "result": [{"id": "Dx_aB91ISN", "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual",
                         "value": {"start": 0, "end": 12, "text": "Ada Lovelace", "labels": ["PERSON"]}}]},
            {"id": 6, "completed_by": user_id, "lead_time": 1.5, "was_cancelled": True, "result": []}],
        "predictions": [{"model_version": "ner-v2", "score": 0.8734, "result": [
            {"id": "t5sp3TyXPo", "from_name": "label", "to_name": "text", "type": "labels",
             "value": {"start": 20, "end": 32, "text": "Kestrel Labs", "labels": ["ORG"]}}]}],
    }]


def test_label_studio_export_round_trips(api, ner_project):
    me = api.get("/api/current-user/whoami").json()["id"]
    source = ls_export(me)
    response = upload(api, ner_project["id"], "export.json", json.dumps(source))
    assert response.json() | {"duration": 0} == response.json() | {"duration": 0, "task_count": 1, "annotation_count": 2,
                                                                    "prediction_count": 1}
    exported = api.get(f"/api/projects/{ner_project['id']}/export?exportType=JSON").json()
    assert len(exported) == 1
    task = exported[0]
    assert task["data"] == source[0]["data"] and task["meta"] == source[0]["meta"]
    keep = ("result", "lead_time", "ground_truth", "was_cancelled", "completed_by")
    assert [{k: a[k] for k in keep} for a in task["annotations"]] == [
        {k: a.get(k, False) for k in keep} for a in source[0]["annotations"]]
    assert task["annotations"][0]["created_at"].startswith("2024-03-09T21:52:49.513742")
    assert [(p["result"], p["score"], p["model_version"]) for p in task["predictions"]] == [
        (p["result"], p["score"], p["model_version"]) for p in source[0]["predictions"]]
    project = api.get(f"/api/projects/{ner_project['id']}").json()
    assert (project["total_annotations_number"], project["skipped_annotations_number"],
            project["total_predictions_number"], project["finished_task_number"]) == (1, 1, 1, 1)


def test_authors_by_email_and_unknown_authors(api, ner_project, make_user):
    user = make_user()
    task = {"data": {"text": TEXT}, "annotations": [{"completed_by": user["email"].upper(), "result": []}]}
    assert api.post(f"/api/projects/{ner_project['id']}/import", json=task).status_code == 201
    stranger = {"data": {"text": TEXT}, "annotations": [{"completed_by": "ghost@example.com", "result": []}]}
    refused = api.post(f"/api/projects/{ner_project['id']}/import", json=stranger)
    assert "completed_by 'ghost@example.com' is no user here" in refused.json()["validation_errors"]["import"][0]
    taken = api.post(f"/api/projects/{ner_project['id']}/import?attribute_unknown_authors=true", json=stranger)
    assert taken.status_code == 201
    authors = [a["completed_by"] for a in api.get(f"/api/projects/{ner_project['id']}/export?exportType=JSON").json()
               for a in a["annotations"]]
    assert authors == [user["id"], api.get("/api/current-user/whoami").json()["id"]]


def test_prediction_shorthands(api, make_project, sample_config):
    project = make_project(label_config=sample_config("sentiment.xml"))
    tasks = [{"data": {"review": "good"}, "predictions": [{"result": "Positive", "score": 0.9}]},
             {"data": {"review": "bad"}, "predictions": [{"result": {"choices": ["Negative"]}, "model_version": 3}]}]
    assert api.post(f"/api/projects/{project['id']}/import", json=tasks).status_code == 201
    found = [p for t in tasks_of(api, project["id"]) for p in t["predictions"]]
    assert [(p["result"][0]["from_name"], p["result"][0]["value"], p["model_version"]) for p in found] == [
        ("sentiment", {"choices": ["Positive"]}, "undefined"), ("sentiment", {"choices": ["Negative"]}, "3")]
    csv = "review,sentiment\ngreat,Positive\n"
    response = upload(api, project["id"], "p.csv", csv, "?preannotated_from_fields=sentiment")
    assert response.json()["prediction_count"] == 1


def test_predictions_for_existing_tasks(api, ner_project):
    ids = api.post(f"/api/projects/{ner_project['id']}/import?return_task_ids=true",
                   json=[{"text": TEXT}]).json()["task_ids"]
    result = [{"from_name": "label", "to_name": "text", "type": "labels",
               "value": {"start": 0, "end": 3, "text": "Ada", "labels": ["PERSON"]}}]
    response = api.post(f"/api/projects/{ner_project['id']}/import/predictions",
                        json=[{"task": ids[0], "result": result, "score": 0.5, "model_version": "m1"}])
    assert response.json() == {"created": 1}
    bad = api.post(f"/api/projects/{ner_project['id']}/import/predictions", json=[{"task": 99999, "result": []}])
    assert bad.status_code == 400 and "not in this project" in bad.json()["validation_errors"]["predictions"][0]
    one = api.post("/api/predictions", json={"task": ids[0], "result": result, "model_version": "m2"})
    assert one.status_code == 201 and one.json()["result"][0]["id"]  # an id was given to the region
    assert api.get(f"/api/predictions?task={ids[0]}").json()[1]["model_version"] == "m2"
    assert api.get(f"/api/projects/{ner_project['id']}").json()["total_predictions_number"] == 2


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 100, 50)).save(out, "PNG")
    return out.getvalue()


def test_images_become_tasks_and_are_served_only_in_their_project(server, api, make_project, sample_config, make_user):
    project = make_project(label_config=sample_config("bbox.xml"))
    response = api.post(f"/api/projects/{project['id']}/import",
                        files=[("file", ("street.png", png(64, 48))), ("file", ("cat photo.png", png(20, 10)))])
    assert response.json()["task_count"] == 2
    urls = [t["data"]["image"] for t in tasks_of(api, project["id"])]
    assert all(u.startswith(f"/data/upload/{project['id']}/") for u in urls) and urls[1].endswith("-cat_photo.png")
    served = api.get(urls[0])
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(served.content)).size == (64, 48)
    outsider = make_user()
    token = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', outsider["id"])[0]["key"]
    assert server.client(token=token).get(urls[0]).status_code == 404
    anonymous = server.client().get(urls[0])
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/login")
    for sneaky in ("..%2F..%2Fsecret_key", "%2E%2E/secret_key", "../../secret_key"):
        assert api.get(f"/data/upload/{project['id']}/{sneaky}").status_code == 404
    dims = server.query("SELECT width, height FROM lw_file_upload WHERE original_name = $1 AND project = $2",
                        "street.png", project["id"])[0]
    assert (dims["width"], dims["height"]) == (64, 48)


def test_a_fake_image_is_refused(api, make_project, sample_config):
    project = make_project(label_config=sample_config("bbox.xml"))
    response = api.post(f"/api/projects/{project['id']}/import", files=[("file", ("x.png", b"<svg onload=alert(1)>"))])
    assert response.status_code == 400 and "not a readable image" in response.json()["validation_errors"]["file"][0]


def test_background_import_reports_progress(server, api, ner_project):
    server.start_worker() if not server.workers else None
    lines = "".join(json.dumps({"text": f"task {i}"}) + "\n" for i in range(4500))
    queued = upload(api, ner_project["id"], "big.jsonl", lines, "?background=true")
    assert queued.status_code == 202
    from tests.helpers import wait_job

    job = wait_job(api, queued.json()["id"])
    assert job["state"] == "done", job
    assert job["result"]["task_count"] == 4500 and job["progress"] == job["total"] == 4500
    assert api.get(f"/api/projects/{ner_project['id']}").json()["task_number"] == 4500


def test_background_import_failure_lists_the_problems(server, api, ner_project):
    server.start_worker() if not server.workers else None
    queued = upload(api, ner_project["id"], "bad.jsonl", '{"text": "ok"}\n{"nope": 1}\n', "?background=true")
    from tests.helpers import wait_job

    job = wait_job(api, queued.json()["id"])
    assert job["state"] == "failed"
    assert job["result"]["validation_errors"]["import"] == [
        "bad.jsonl, line 2: no data key 'text', which the config needs (the task has: 'nope')"]
    assert api.get(f"/api/projects/{ner_project['id']}").json()["task_number"] == 0


def test_upload_size_limit_is_a_setting(tmp_path, database_url_factory):
    from tests.helpers import launch

    srv = launch(tmp_path, database_url_factory("sqlite"), {"LABELWELL_USER_TOKEN": "t0k", "LABELWELL_UPLOAD_MAX_MB": "0.01"})
    try:
        with srv.client(token="t0k") as api:
            project = api.post("/api/projects", json={"title": "Limits", "label_config": '<View><Text name="t" value="$text"/></View>'}).json()
            response = upload(api, project["id"], "big.jsonl", '{"text": "x"}\n' * 2000)
            assert response.status_code == 400
            assert "big.jsonl is larger than the upload limit of 0.01 MB (LABELWELL_UPLOAD_MAX_MB)" in response.text
            assert not list((tmp_path / "upload" / str(project["id"])).glob("*"))
    finally:
        srv.stop()


@pytest.mark.parametrize("digits", [25, 5000])  # beyond 64 bits; beyond Python's 4,300-digit int() too
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_numbers_too_large_name_file_and_line_and_store_nothing(api, ner_project, fmt, digits):
    big = "9" * digits
    result = '[{"id": "a", "from_name": "label", "to_name": "text", "type": "labels", "score": -%s, ' \
             '"value": {"start": 0, "end": 3, "text": "Ada", "labels": ["PERSON"]}}]' % big
    fine = '{"text": "fine"}'
    in_data = '{"text": "Ada", "n": %s}' % big
    in_result = '{"data": {"text": "Ada"}, "annotations": [{"result": %s}]}' % result
    for line, item in ((2, in_data), (3, in_result)):
        content = "\n".join([fine] + [""] * (line - 2) + [item]) + "\n"  # the big one on line `line`
        if fmt == "json":
            content, line = f"[\n{fine},\n{item}\n]\n", 3
        response = upload(api, ner_project["id"], f"big.{fmt}", content)
        assert response.status_code == 400, response.text[:300]
        assert response.json()["validation_errors"]["import"] == [
            f"big.{fmt}, line {line}: holds a number too large to store ({digits:,} digits: whole numbers must fit "
            "in 64 bits, others in a double)"], response.text[:300]
    as_body = api.post(f"/api/projects/{ner_project['id']}/import", content='[{"text": "x", "n": %s}]' % big,
                       headers={"Content-Type": "application/json"})
    assert as_body.status_code == 400 and "number too large" in as_body.text
    assert tasks_of(api, ner_project["id"]) == []
    assert api.get(f"/api/projects/{ner_project['id']}").json()["task_number"] == 0


def test_the_largest_64_bit_numbers_are_kept_exactly(api, ner_project):
    content = '{"text": "a", "n": 18446744073709551615, "m": -9223372036854775808, "id": "123456789012345678901234"}\n'
    assert upload(api, ner_project["id"], "edge.jsonl", content).status_code == 201
    assert tasks_of(api, ner_project["id"])[0]["data"] == {
        "text": "a", "n": 18446744073709551615, "m": -9223372036854775808, "id": "123456789012345678901234"}


def test_overlap_cohort_and_labeled_tasks_as_imported(server, api, make_project, sample_config):
    project = make_project(label_config=sample_config("ner.xml"), maximum_annotations=3, overlap_cohort_percentage=50)
    me = api.get("/api/current-user/whoami").json()["id"]
    tasks = [{"data": {"text": f"task {i}"}, "annotations": [{"completed_by": me, "result": []}] * (3 if i < 10 else 1)}
             for i in range(20)]
    assert api.post(f"/api/projects/{project['id']}/import", json=tasks).status_code == 201
    rows = server.query("SELECT inner_id, overlap, is_labeled, total_annotations FROM lw_task WHERE project = $1 "
                        "ORDER BY inner_id", project["id"])
    wanted = [3 if (i * 37) % 100 < 50 else 1 for i in range(1, 21)]  # Label Studio's cohort, by inner id
    assert [r["overlap"] for r in rows] == wanted and {1, 3} == set(wanted)
    labeled = [bool(r["is_labeled"]) for r in rows]
    assert labeled == [r["total_annotations"] >= w for r, w in zip(rows, wanted)]
    counters = api.get(f"/api/projects/{project['id']}").json()
    assert (counters["finished_task_number"], counters["total_annotations_number"]) == (sum(labeled), 40)


def test_a_retried_import_job_that_had_published_imports_nothing_twice(server, api, ner_project):
    """The worker died after the import was published but before the job was marked done: the job
    is failed as interrupted, and its retry finds the tasks instead of importing them again."""
    from tests.helpers import browser, submit, wait_job

    server.start_worker() if not server.workers else None
    lines = "".join(json.dumps({"text": f"task {i}"}) + "\n" for i in range(3000))
    job = wait_job(api, upload(api, ner_project["id"], "big.jsonl", lines, "?background=true").json()["id"])
    assert job["state"] == "done" and job["result"]["task_count"] == 3000
    server.query("UPDATE lw_job SET state = 'failed', error = 'interrupted by a restart' WHERE id = $1", job["id"])
    with closing(browser(server)) as admin:
        assert submit(admin, "/settings/jobs", f"/settings/jobs/{job['id']}/retry", {}).status_code == 302
    retried = server.query("SELECT id FROM lw_job WHERE kind = 'import' AND id > $1 ORDER BY id", job["id"])[-1]["id"]
    again = wait_job(api, retried)
    assert again["state"] == "done" and again["result"]["task_count"] == 3000, again
    assert "not imported again" in again["result"]["warnings"][0]
    assert api.get(f"/api/projects/{ner_project['id']}").json()["task_number"] == 3000
    assert len(server.query("SELECT id FROM lw_task WHERE project = $1", ner_project["id"])) == 3000
