"""Label Studio's file-upload API and import status, driven as scripts drive them: SDK 2.x
(`files.list/get/update/delete/delete_many`, `tasks.create_many_status`) and the legacy SDK
(`Project.import_tasks`, which polls the import status when the answer names an import)."""

from __future__ import annotations

import json
import time

import pytest
from label_studio_sdk.core.api_error import ApiError

CONFIG = ('<View><Text name="text" value="$text"/>'
          '<Choices name="mood" toName="text"><Choice value="pos"/></Choices></View>')


def stored(server, upload: dict):
    """The file of an upload on disk (its `file` is Label Studio's `upload/<project>/<name>`)."""
    return server.data_dir / upload["file"]


def member_client(server, api, make_user, project_id: int, role: str = "annotator"):
    user = make_user(role)
    assert api.post(f"/api/projects/{project_id}/members", json={"user": user["id"], "role": role}).status_code == 201
    key = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]
    return server.client(token=key)


def refused(call, status: int) -> dict:
    with pytest.raises(ApiError) as caught:
        call()
    assert caught.value.status_code == status, caught.value.body
    return caught.value.body


def test_file_uploads_through_sdk_2(server, api, sdk, make_project, make_user):
    project = make_project(label_config=CONFIG)["id"]
    first = sdk.projects.import_tasks(project, request=[{"text": "one"}, {"text": "two"}], return_task_ids=True)
    [a] = first.file_upload_ids
    second = api.post(f"/api/projects/{project}/import", files=[("file", ("more.csv", b"text\nthree\n"))]).json()
    [b] = second["file_upload_ids"]

    listed = sdk.files.list(id=project)
    assert [u.id for u in listed] == [a, b]
    assert all(u.file.startswith(f"upload/{project}/") and stored(server, u.dict()).is_file() for u in listed)
    assert listed[1].size == len(b"text\nthree\n") and listed[1].dict()["original_name"] == "more.csv"
    assert [u.id for u in sdk.files.list(id=project, ids=[str(b)])] == [b]
    assert [u["id"] for u in api.get(f"/api/projects/{project}/file-uploads?ids=[{a},{b}]").json()] == [a, b]
    assert api.get(f"/api/projects/{project}/file-uploads?ids=[]").json() == []
    assert [u.id for u in sdk.files.list(id=project, ids=[str(a)], all_=True)] == [a, b]
    bad = refused(lambda: sdk.files.list(id=project, ids=["1; drop"]), 400)
    assert "ids" in bad["validation_errors"]

    one = sdk.files.get(b)
    assert (one.id, one.file, one.size) == (b, listed[1].file, listed[1].size)
    replaced = sdk.files.update(b, file=("fixed.csv", b"text\nthree, fixed\n"))
    assert replaced.file == one.file and replaced.size == len(b"text\nthree, fixed\n")
    assert stored(server, one.dict()).read_bytes() == b"text\nthree, fixed\n"
    assert api.get(one.dict()["url"]).content == b"text\nthree, fixed\n"
    assert "same kind of file" in json.dumps(refused(lambda: sdk.files.update(b, file=("x.png", b"\x89PNG")), 400))
    assert api.patch(f"/api/import/file-upload/{b}", json={}).status_code == 400

    # others: a member sees no upload (404, as for a project they cannot see) and no list (403)
    annotator = member_client(server, api, make_user, project)
    assert annotator.get(f"/api/import/file-upload/{a}").status_code == 404
    assert annotator.delete(f"/api/import/file-upload/{a}").status_code == 404
    assert annotator.get(f"/api/projects/{project}/file-uploads").status_code == 403
    assert annotator.request("DELETE", f"/api/projects/{project}/file-uploads").status_code == 403
    assert stored(server, listed[0].dict()).is_file()
    assert refused(lambda: sdk.files.get(10**9), 404)

    # one deleted: its file is gone, its tasks stay without it
    sdk.files.delete(a)
    assert not stored(server, listed[0].dict()).exists()
    refused(lambda: sdk.files.get(a), 404)
    tasks = api.get(f"/api/tasks?project={project}").json()["tasks"]
    assert len(tasks) == 3 and [t["file_upload"] for t in tasks if t["id"] in first.task_ids] == [None, None]

    # several: by id list (Label Studio's body), none for an empty list, a 400 for a bad list
    url = f"/api/projects/{project}/file-uploads"
    assert api.request("DELETE", url, json={"file_upload_ids": []}).json() == {"deleted": 0}
    bad = api.request("DELETE", url, json={"file_upload_ids": "all"})
    assert bad.status_code == 400 and "file_upload_ids" in bad.json()["validation_errors"]
    assert api.request("DELETE", url, json={"file_upload_ids": [b, "x"]}).status_code == 400
    assert api.request("DELETE", url, content=b"{oops", headers={"content-type": "application/json"}).status_code == 400
    assert api.request("DELETE", url, json={"file_upload_ids": [b]}).json() == {"deleted": 1}
    assert not stored(server, one.dict()).exists() and sdk.files.list(id=project) == []

    # SDK 2.x's delete_many sends no body: every upload of the project goes, as in Label Studio
    other = make_project(label_config=CONFIG)["id"]
    kept = api.post(f"/api/projects/{other}/import", json=[{"text": "elsewhere"}]).json()["file_upload_ids"]
    for name in ("x.json", "y.json"):
        api.post(f"/api/projects/{project}/import", files=[("file", (name, b'[{"text": "again"}]'))])
    paths = [stored(server, u.dict()) for u in sdk.files.list(id=project)]
    assert len(paths) == 2
    sdk.files.delete_many(id=project)
    assert sdk.files.list(id=project) == [] and not any(p.exists() for p in paths)
    assert [u.id for u in sdk.files.list(id=other)] == kept
    assert len(api.get(f"/api/tasks?project={project}").json()["tasks"]) == 5


def wait_status(sdk, project: int, import_id: int, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = sdk.tasks.create_many_status(id=project, import_pk=import_id)
        if status.status in ("completed", "failed"):
            return status
        time.sleep(0.1)
    pytest.fail(f"import {import_id} still {status.status} after {timeout} s")


def test_background_import_status_through_both_sdks(server, api, sdk, legacy_sdk, make_project, make_user):
    server.start_worker() if not server.workers else None
    project = make_project(label_config=CONFIG)["id"]

    # SDK 2.x: the 202 names the import, whose status ends completed with the new tasks' ids
    queued = sdk.projects.import_tasks(project, request=[{"text": f"t{i}"} for i in range(3)], return_task_ids=True,
                                       request_options={"additional_query_parameters": {"background": "1"}})
    import_id = queued.dict()["import"]
    status = wait_status(sdk, project, import_id)
    assert (status.status, status.task_count, status.project, status.error) == ("completed", 3, project, None)
    tasks = api.get(f"/api/tasks?project={project}").json()["tasks"]
    assert sorted(status.task_ids) == sorted(t["id"] for t in tasks)
    assert status.file_upload_ids == queued.dict()["file_upload_ids"] and status.finished_at is not None

    # a refused background import: failed, with the problems in the error
    bad = api.post(f"/api/projects/{project}/import?background=1", json=[{"nope": 1}]).json()
    failed = wait_status(sdk, project, bad["import"])
    assert failed.status == "failed" and "no data key 'text'" in failed.error

    # not an import of this project, or not an import at all: 404; a member: 403
    other = make_project(label_config=CONFIG)["id"]
    refused(lambda: sdk.tasks.create_many_status(id=other, import_pk=import_id), 404)
    recount = api.post(f"/api/projects/{project}/recount").json()["id"]
    refused(lambda: sdk.tasks.create_many_status(id=project, import_pk=recount), 404)
    assert member_client(server, api, make_user, project).get(f"/api/projects/{project}/imports/{import_id}"
                                                             ).status_code == 403

    # the legacy SDK: a plain import answers at once with the task ids, as before
    legacy = legacy_sdk.get_project(project)
    ids = legacy.import_tasks([{"text": "now"}, {"text": "also now"}])
    assert len(ids) == 2 and all(isinstance(i, int) for i in ids)
    # and when the answer names an import (a background one), it polls the status to the task ids
    legacy_sdk.session.params = {"background": "1"}
    polled = legacy.import_tasks([{"text": "later"}])
    assert len(polled) == 1 and api.get(f"/api/tasks/{polled[0]}").json()["data"] == {"text": "later"}
    with pytest.raises(Exception, match="no data key 'text'"):
        legacy.import_tasks([{"nope": 2}])
