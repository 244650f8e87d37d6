"""Label Studio's own SDK, both generations, connecting and syncing storages against a running
server and the test S3 server, as scripts do: the legacy Client's connect_s3_import_storage,
sync_import_storage, connect_s3_export_storage, connect_local_import_storage and
get_import_storages, and the current LabelStudio client's import_storage / export_storage."""

from __future__ import annotations

import json
import uuid

from tests import s3server
from tests.helpers import wait_job
from tests.test_storage_export import eventually, stored

CONFIG = ('<View><Image name="image" value="$image"/><Choices name="c" toName="image">'
          '<Choice value="a"/></Choices></View>')


def test_legacy_client(legacy_sdk, api, worker, make_bucket, s3_endpoint, server, monkeypatch):
    project = legacy_sdk.start_project(title="Legacy storage", label_config=CONFIG)
    bucket = make_bucket({"p/1.png": b"1", "p/2.png": b"2"})
    storage = project.connect_s3_import_storage(
        bucket=bucket, prefix="p", use_blob_urls=True, presign=True, presign_ttl=5, title="Legacy",
        aws_access_key_id=s3server.KEY_ID, aws_secret_access_key=s3server.SECRET, s3_endpoint=s3_endpoint)
    assert storage["type"] == "s3" and storage["presign_ttl"] == 5 and "aws_secret_access_key" not in storage
    synced = project.sync_import_storage("s3", storage["id"])
    wait_job(api, int(synced["last_sync_job"]))
    assert [s["id"] for s in project.get_import_storages()] == [storage["id"]]
    raw = project.get_paginated_tasks(resolve_uri=False)["tasks"]
    assert sorted(t["data"]["image"] for t in raw) == [f"s3://{bucket}/p/1.png", f"s3://{bucket}/p/2.png"]
    # by default, as Label Studio, the task's media comes back as the resolver's address
    assert all(t["data"]["image"].startswith(f"/tasks/{t['id']}/resolve/?fileuri=") for t in project.get_tasks())
    target = make_bucket()
    export = project.connect_s3_export_storage(
        bucket=target, prefix="out", aws_access_key_id=s3server.KEY_ID, aws_secret_access_key=s3server.SECRET,
        s3_endpoint=s3_endpoint, can_delete_objects=True)
    assert [s["id"] for s in project.get_export_storages()] == [export["id"]]
    task = project.get_tasks()[0]
    made = project.create_annotation(task["id"], result=[
        {"from_name": "c", "to_name": "image", "type": "choices", "value": {"choices": ["a"]}}])
    body = eventually(lambda: stored(s3server.client(s3_endpoint), target, f"out/{made['id']}"), "not exported")
    assert body["task"]["id"] == task["id"]
    folder = server.data_dir / "local-files" / f"sdk-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    (folder / "t.json").write_text(json.dumps({"image": "/data/local-files/?d=x.png"}))
    # the SDK checks the folder against the root a script is told, as Label Studio's users set it
    monkeypatch.setenv("LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT", str(server.data_dir / "local-files"))
    local = project.connect_local_import_storage(str(folder))
    assert local["type"] == "localfiles" and local["path"] == str(folder)


def test_current_client(sdk, api, worker, make_project, make_bucket, s3_endpoint):
    project = make_project(label_config=CONFIG)
    bucket = make_bucket({"q/a.png": b"a"})
    body = {"project": project["id"], "bucket": bucket, "prefix": "q", "use_blob_urls": True, "s3endpoint": s3_endpoint,
            "aws_access_key_id": s3server.KEY_ID, "aws_secret_access_key": s3server.SECRET}
    sdk.import_storage.s3.validate(**body)  # raises on a 400
    storage = sdk.import_storage.s3.create(**body, title="Current")
    assert storage.id and storage.bucket == bucket and storage.presign is True
    assert [s.id for s in sdk.import_storage.s3.list(project=project["id"])] == [storage.id]
    synced = sdk.import_storage.s3.sync(id=storage.id)
    wait_job(api, int(synced.last_sync_job))
    assert sdk.import_storage.s3.get(id=storage.id).last_sync_count == 1
    updated = sdk.import_storage.s3.update(id=storage.id, title="Renamed")
    assert updated.title == "Renamed"
    target = sdk.export_storage.s3.create(project=project["id"], bucket=make_bucket(), s3endpoint=s3_endpoint,
                                          aws_access_key_id=s3server.KEY_ID,
                                          aws_secret_access_key=s3server.SECRET)
    assert [s.id for s in sdk.export_storage.s3.list(project=project["id"])] == [target.id]
    sdk.import_storage.s3.delete(id=storage.id)
    assert sdk.import_storage.s3.list(project=project["id"]) == []
