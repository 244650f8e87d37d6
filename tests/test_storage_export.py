"""Export storages against a real S3 server: connecting one writes what is there at once; every
submit, update and delete afterwards is written (or removed) by the worker, in Label Studio's
layout (`<prefix>/<annotation id>`, the annotation with its task); a bucket that fails never slows
or fails the annotator and its failures are listed on the storage; sync rewrites what is missing;
local-files export storages write the same JSON into a folder."""

from __future__ import annotations

import json
import time
import uuid

from tests import s3server
from tests.helpers import wait_job

CONFIG = ('<View><Text name="text" value="$text"/><Choices name="c" toName="text">'
          '<Choice value="a"/><Choice value="b"/></Choices></View>')


def result(choice: str) -> list[dict]:
    return [{"from_name": "c", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}]


def eventually(check, what: str, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


def stored(s3, bucket: str, key: str) -> dict | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def project_with_tasks(api, make_project, texts=("one", "two", "three")) -> tuple[dict, list[dict]]:
    project = make_project(label_config=CONFIG)
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t in texts]).status_code == 201
    tasks = api.get(f"/api/tasks?project={project['id']}&fields=all&resolve_uri=false").json()["tasks"]
    return project, sorted(tasks, key=lambda t: t["id"])


def connect(api, project_id: int, bucket: str, endpoint: str, **extra) -> dict:
    body = {"project": project_id, "bucket": bucket, "prefix": "out", "s3_endpoint": endpoint,
            "aws_access_key_id": s3server.KEY_ID, "aws_secret_access_key": s3server.SECRET, **extra}
    made = api.post("/api/storages/export/s3", json=body)
    assert made.status_code == 201, made.text
    assert s3server.SECRET not in made.text
    return made.json()


def test_every_annotation_written_updated_and_removed(api, worker, make_project, make_bucket, s3_endpoint, server):
    project, tasks = project_with_tasks(api, make_project)
    before = api.post(f"/api/tasks/{tasks[0]['id']}/annotations", json={"result": result("a")}).json()
    bucket = make_bucket()
    s3 = s3server.client(s3_endpoint)
    storage = connect(api, project["id"], bucket, s3_endpoint, can_delete_objects=True)
    assert storage["type"] == "s3" and storage["can_delete_objects"] is True and "presign" not in storage
    assert wait_job(api, int(storage["last_sync_job"]))["state"] == "done"
    first = stored(s3, bucket, f"out/{before['id']}")  # what was there before the storage, at once
    assert first["id"] == before["id"] and first["result"] == result("a")
    assert first["task"]["id"] == tasks[0]["id"] and first["task"]["data"] == {"text": "one"}
    assert first["completed_by"]["email"] == server.admin_email and "annotations" not in first["task"]
    done = api.get(f"/api/storages/export/s3/{storage['id']}").json()
    assert done["status"] == "completed" and done["last_sync_count"] == 1 and done["meta"]["total_annotations"] == 1
    assert [s["id"] for s in api.get(f"/api/storages/export?project={project['id']}").json()] == [storage["id"]]
    assert api.get(f"/api/storages/?project={project['id']}").json() == []  # import storages only

    made = api.post(f"/api/tasks/{tasks[1]['id']}/annotations", json={"result": result("b")}).json()
    eventually(lambda: stored(s3, bucket, f"out/{made['id']}"), "the new annotation was not written")
    assert api.patch(f"/api/annotations/{made['id']}", json={"result": result("a")}).status_code == 200
    eventually(lambda: (stored(s3, bucket, f"out/{made['id']}") or {}).get("result") == result("a"),
               "the update was not written")
    assert api.delete(f"/api/annotations/{made['id']}").status_code == 204
    eventually(lambda: stored(s3, bucket, f"out/{made['id']}") is None, "the deleted annotation's object stayed")
    assert stored(s3, bucket, f"out/{before['id']}") is not None

    # sync writes everything again: an object lost from the bucket comes back
    s3.delete_object(Bucket=bucket, Key=f"out/{before['id']}")
    again = api.post(f"/api/storages/export/s3/{storage['id']}/sync")
    assert again.status_code == 200 and again.json()["status"] in ("queued", "in_progress", "completed")
    assert wait_job(api, int(again.json()["last_sync_job"]))["state"] == "done"
    assert stored(s3, bucket, f"out/{before['id']}")["result"] == result("a")


def test_deletes_stay_without_can_delete_objects(api, worker, make_project, make_bucket, s3_endpoint):
    project, tasks = project_with_tasks(api, make_project, ["x"])
    bucket = make_bucket()
    s3 = s3server.client(s3_endpoint)
    connect(api, project["id"], bucket, s3_endpoint, prefix="")
    made = api.post(f"/api/tasks/{tasks[0]['id']}/annotations", json={"result": result("b")}).json()
    eventually(lambda: stored(s3, bucket, str(made["id"])), "not written at the bucket's root")
    assert api.delete(f"/api/annotations/{made['id']}").status_code == 204
    time.sleep(2.5)  # two sweeps
    assert stored(s3, bucket, str(made["id"])) is not None


def test_a_failing_bucket_never_fails_the_annotator_and_is_listed(api, worker, make_project, make_bucket,
                                                                  s3_endpoint):
    project, tasks = project_with_tasks(api, make_project, ["p", "q"])
    bucket = make_bucket()
    storage = connect(api, project["id"], bucket, s3_endpoint)
    wait_job(api, int(storage["last_sync_job"]))
    s3server.client(s3_endpoint).delete_bucket(Bucket=bucket)  # the bucket disappears
    started = time.monotonic()
    made = api.post(f"/api/tasks/{tasks[0]['id']}/annotations", json={"result": result("a")})
    assert made.status_code == 201 and time.monotonic() - started < 5
    shown = eventually(lambda: api.get(f"/api/storages/export/s3/{storage['id']}").json()["traceback"],
                       "the failure was not listed on the storage")
    assert f"annotation {made.json()['id']}: Cannot find bucket {bucket}" in shown
    assert s3server.SECRET not in shown
    assert len(api.get(f"/api/tasks/{tasks[0]['id']}/annotations").json()) == 1  # nothing lost


def test_localfiles_export(api, worker, make_project, server):
    project, tasks = project_with_tasks(api, make_project, ["local"])
    folder = server.data_dir / "local-files" / f"out-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    made = api.post("/api/storages/export/localfiles", json={"project": project["id"], "path": str(folder)})
    assert made.status_code == 201, made.text
    annotation = api.post(f"/api/tasks/{tasks[0]['id']}/annotations", json={"result": result("b")}).json()
    path = folder / str(annotation["id"])
    eventually(path.is_file, "the local export file was not written")
    text = path.read_text()
    assert text.startswith('{\n  "id": ') and json.loads(text)["task"]["data"] == {"text": "local"}
