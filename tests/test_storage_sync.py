"""Import sync as a background job, against a real S3 server: media objects as one task each
(s3:// URIs in the config's data key), JSON/JSONL task files with annotations, re-sync adding only
what is new, two syncs at once and a worker killed midway never making a task twice, a bad file
named by key and line, and keys with spaces, unicode and `..`."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests import s3server
from tests.helpers import start_server, wait_job

IMAGE_CONFIG = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="a"/></Choices></View>'
TEXT_CONFIG = '<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/><Choice value="b"/></Choices></View>'
RESULT = [{"from_name": "c", "to_name": "text", "type": "choices", "value": {"choices": ["a"]}}]


def connect(api, project_id: int, bucket: str, endpoint: str, **extra) -> dict:
    body = {"project": project_id, "bucket": bucket, "s3_endpoint": endpoint,
            "aws_access_key_id": s3server.KEY_ID, "aws_secret_access_key": s3server.SECRET, **extra}
    answer = api.post("/api/storages/s3", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def sync(api, storage: dict, timeout: float = 120) -> dict:
    answer = api.post(f"/api/storages/s3/{storage['id']}/sync")
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] in ("queued", "in_progress", "completed")
    job = wait_job(api, int(answer.json()["last_sync_job"]), timeout)
    assert job["state"] == "done", job
    return api.get(f"/api/storages/s3/{storage['id']}").json()


def tasks_of(api, project_id: int) -> list[dict]:
    return api.get(f"/api/tasks?project={project_id}&fields=all&page_size=100000&resolve_uri=false").json()["tasks"]


def test_media_objects_become_tasks_and_resync_adds_only_new(api, worker, make_project, make_bucket, s3_endpoint):
    project = make_project(label_config=IMAGE_CONFIG)
    keys = ["img/a.jpg", "img/b c.jpg", "img/ünï ☃.png", "img/..dots.jpg", "img/skip.txt", "img/sub/deep.jpg",
            "img/../up.jpg"]
    bucket = make_bucket({k: b"\xff\xd8" + k.encode() for k in keys})
    storage = connect(api, project["id"], bucket, s3_endpoint, prefix="img", regex_filter=r".*\.(jpg|png)$",
                      use_blob_urls=True)
    done = sync(api, storage)
    assert done["status"] == "completed", done
    assert done["last_sync_count"] == 4 and done["meta"]["tasks_existed"] == 0
    assert set(done["meta"]) >= {"attempts", "time_queued", "time_in_progress", "time_last_ping", "time_completed",
                                 "duration"}
    assert done["last_sync"] is not None
    data = sorted(t["data"]["image"] for t in tasks_of(api, project["id"]))
    assert data == sorted(f"s3://{bucket}/{k}" for k in keys[:4])  # not the .txt, not the sub-folder
    assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == 4
    s3server.client(s3_endpoint).put_object(Bucket=bucket, Key="img/new.jpg", Body=b"new")
    again = sync(api, storage)
    assert again["last_sync_count"] == 1 and again["meta"]["tasks_existed"] == 4
    assert len(tasks_of(api, project["id"])) == 5
    assert sync(api, storage)["last_sync_count"] == 0
    assert len(tasks_of(api, project["id"])) == 5
    # a recursive scan of the same bucket also takes the sub-folders, `..` among them
    deep = connect(api, project["id"], bucket, s3_endpoint, prefix="img", regex_filter=r".*\.jpg$",
                   use_blob_urls=True, recursive_scan=True)
    assert sync(api, deep)["last_sync_count"] == 6  # the .jpg files, new.jpg, sub/ and ../ included
    data = [t["data"]["image"] for t in tasks_of(api, project["id"])]
    assert data.count(f"s3://{bucket}/img/../up.jpg") == 1 and data.count(f"s3://{bucket}/img/sub/deep.jpg") == 1


def test_task_files_json_and_jsonl(api, worker, make_project, make_bucket, s3_endpoint):
    project = make_project(label_config=TEXT_CONFIG)
    objects = {
        "t/one.json": json.dumps({"text": "bare dict"}).encode(),
        "t/many.json": json.dumps([{"data": {"text": "x1"}, "annotations": [{"result": RESULT}]},
                                   {"data": {"text": "x2"}, "predictions": [{"result": RESULT, "score": 0.5}]}]).encode(),
        "t/lines.jsonl": b'{"text": "l1"}\n\n{"data": {"text": "l2"}}\n',
        "t/noext": b'{"text": "no extension"}',
    }
    storage = connect(api, project["id"], make_bucket(objects), s3_endpoint, prefix="t")
    done = sync(api, storage)
    assert done["status"] == "completed", done
    assert done["last_sync_count"] == 6
    tasks = tasks_of(api, project["id"])
    assert sorted(t["data"]["text"] for t in tasks) == ["bare dict", "l1", "l2", "no extension", "x1", "x2"]
    info = api.get(f"/api/projects/{project['id']}").json()
    assert info["task_number"] == 6 and info["total_annotations_number"] == 1
    assert info["total_predictions_number"] == 1
    assert sync(api, storage)["last_sync_count"] == 0


def test_bad_file_completes_with_errors_naming_key_and_line(api, worker, make_project, make_bucket, s3_endpoint):
    project = make_project(label_config=TEXT_CONFIG)
    objects = {"b/good.jsonl": b'{"text": "fine"}\n',
               "b/bad lines.jsonl": b'{"text": "ok"}\n{not json\n{"other": 1}\n',
               "b/broken.json": b'[{"text": "a"},',
               "b/bad-annotation.json": json.dumps([{"data": {"text": "z"}, "annotations": [
                   {"result": [{**RESULT[0], "from_name": "nope"}]}]}]).encode()}
    storage = connect(api, project["id"], make_bucket(objects), s3_endpoint, prefix="b")
    done = sync(api, storage)
    assert done["status"] == "completed_with_errors", done
    lines = done["traceback"].splitlines()
    assert any(line.startswith("b/bad lines.jsonl, line 2:") for line in lines), lines
    assert any(line.startswith("b/bad lines.jsonl, line 3:") and "'text'" in line for line in lines), lines
    assert any(line.startswith("b/broken.json, line 1") for line in lines), lines
    assert any(line.startswith("b/bad-annotation.json, item 0") for line in lines), lines
    assert sorted(t["data"]["text"] for t in tasks_of(api, project["id"])) == ["fine", "ok"]


def test_media_files_in_task_mode_fail_clearly(api, worker, make_project, make_bucket, s3_endpoint):
    project = make_project(label_config=IMAGE_CONFIG)
    storage = connect(api, project["id"], make_bucket({"m/a.jpg": b"x"}), s3_endpoint, prefix="m")
    done = sync(api, storage)
    assert done["status"] == "failed" and "use_blob_urls" in done["traceback"]


def test_huge_task_file_refused_by_name(tmp_path, database_url_factory, make_bucket, s3_endpoint):
    """An object over the upload limit is named and not read; the rest still syncs."""
    srv = start_server(tmp_path, database_url_factory("sqlite"), LABELWELL_UPLOAD_MAX_MB="0.01")
    try:
        srv.start_worker()
        with srv.client(srv.admin_token) as api:
            project = api.post("/api/projects", json={"title": "Huge", "label_config": TEXT_CONFIG}).json()
            objects = {"h/big.json": json.dumps([{"text": "x" * 20_000}]).encode(), "h/small.json": b'{"text": "s"}'}
            storage = connect(api, project["id"], make_bucket(objects), s3_endpoint, prefix="h")
            done = sync(api, storage)
            assert done["status"] == "completed_with_errors", done
            assert done["traceback"].startswith("h/big.json: 20,") and "LABELWELL_UPLOAD_MAX_MB" in done["traceback"]
            assert [t["data"]["text"] for t in tasks_of(api, project["id"])] == ["s"]
    finally:
        srv.stop()


MANY = 1100  # two listing pages (S3 lists 1,000 keys a page)


@pytest.fixture(scope="session")
def many(s3_endpoint) -> str:
    """A bucket of MANY small images under k/, shared: syncs only read it."""
    return s3server.new_bucket(s3_endpoint, {f"k/{i:05}.jpg": b"x" for i in range(MANY)})


def test_two_syncs_at_once_make_no_duplicates(api, server, worker, make_project, many, s3_endpoint):
    project = make_project(label_config=IMAGE_CONFIG)
    bucket = many
    storage = connect(api, project["id"], bucket, s3_endpoint, prefix="k", use_blob_urls=True)
    second = server.start_worker()  # two workers, so the two jobs really run together
    try:
        first_job = api.post(f"/api/storages/s3/{storage['id']}/sync").json()["last_sync_job"]
        second_job = api.post(f"/api/storages/s3/{storage['id']}/sync").json()["last_sync_job"]
        assert first_job != second_job
        for job in (first_job, second_job):
            assert wait_job(api, int(job), 120)["state"] == "done"
    finally:
        second.terminate()
        second.wait(timeout=30)
    links = server.query("SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS keys FROM lw_storage_link WHERE storage = $1",
                         storage["id"])[0]
    assert links["n"] == links["keys"] == MANY
    assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == MANY
    assert server.query("SELECT COUNT(*) AS n FROM lw_task WHERE project = $1", project["id"])[0]["n"] == MANY


def test_killed_worker_leaves_no_duplicates_and_not_in_progress(api, server, worker, make_project, many,
                                                                s3_endpoint):
    project = make_project(label_config=IMAGE_CONFIG)
    total = MANY
    storage = connect(api, project["id"], many, s3_endpoint, prefix="k", use_blob_urls=True)
    job_id = int(api.post(f"/api/storages/s3/{storage['id']}/sync").json()["last_sync_job"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not api.get(f"/api/jobs/{job_id}").json()["progress"]:
        time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool, mid-sync
    worker.wait(timeout=30)
    deadline = time.monotonic() + 30  # the pool process dies a moment after the main one is reaped
    while (partial := api.get(f"/api/storages/s3/{storage['id']}").json())["status"] != "failed":
        assert time.monotonic() < deadline, partial  # its process is gone: not left in_progress
        time.sleep(0.2)
    assert "Sync again" in partial["traceback"]
    made = api.get(f"/api/projects/{project['id']}").json()["task_number"]
    assert made < total
    server.start_worker()
    done = sync(api, storage)
    assert done["status"] == "completed" and done["last_sync_count"] == total - made
    links = server.query("SELECT COUNT(*) AS n, COUNT(DISTINCT key) AS keys FROM lw_storage_link WHERE storage = $1",
                         storage["id"])[0]
    assert links["n"] == links["keys"] == total
    assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == total
