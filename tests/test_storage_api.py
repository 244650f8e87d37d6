"""Import storages through Label Studio's API against a real S3 server (moto's standalone one):
create (the connection checked first), validate saying what is wrong, list, change, delete, the
credentials never in any answer; and local-files storages under LABELWELL_LOCAL_FILES_ROOT."""

from __future__ import annotations

import json
import socket
import time
import uuid

import pytest

from tests import s3server
from tests.helpers import start_server

IMAGE_CONFIG = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="a"/></Choices></View>'


def s3_body(project_id: int, bucket: str, endpoint: str, **extra) -> dict:
    return {"project": project_id, "bucket": bucket, "s3_endpoint": endpoint, "title": "Photos",
            "aws_access_key_id": s3server.KEY_ID, "aws_secret_access_key": s3server.SECRET, **extra}


def no_secret(text: str) -> None:
    assert s3server.SECRET not in text and s3server.KEY_ID not in text


def test_create_list_patch_delete(api, make_project, make_bucket, s3_endpoint, server):
    project = make_project(label_config=IMAGE_CONFIG)
    bucket = make_bucket({"images/a.jpg": b"x", "images/b.jpg": b"y"})
    created = api.post("/api/storages/s3", json=s3_body(project["id"], bucket, s3_endpoint, prefix="images",
                                                         use_blob_urls=True, presign_ttl=15))
    assert created.status_code == 201, created.text
    body = created.json()
    no_secret(created.text)
    assert body["type"] == "s3" and body["bucket"] == bucket and body["prefix"] == "images"
    assert body["status"] == "initialized" and body["presign"] is True and body["presign_ttl"] == 15
    assert body["project"] == project["id"] and body["meta"] == {} and body["last_sync_job"] is None
    assert set(body) >= {"id", "synchronizable", "last_sync", "last_sync_count", "traceback", "title", "description",
                         "created_at", "regex_filter", "use_blob_urls", "region_name", "s3_endpoint",
                         "recursive_scan", "aws_sse_kms_key_id"}
    assert "can_delete_objects" not in body
    # stored sealed: the database holds no credential in clear
    row = server.query("SELECT secrets, config FROM lw_storage WHERE id = $1", body["id"])[0]
    assert s3server.SECRET not in row["secrets"] and s3server.SECRET not in str(row["config"])
    for path in (f"/api/storages/?project={project['id']}", f"/api/storages/s3?project={project['id']}",
                 f"/api/storages/s3/?project={project['id']}"):
        listed = api.get(path)
        assert listed.status_code == 200 and [s["id"] for s in listed.json()] == [body["id"]], path
        no_secret(listed.text)
    one = api.get(f"/api/storages/s3/{body['id']}")
    assert one.json()["bucket"] == bucket
    changed = api.patch(f"/api/storages/s3/{body['id']}", json={"title": "Renamed", "regex_filter": ".*\\.jpg"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["title"] == "Renamed" and changed.json()["prefix"] == "images"
    no_secret(changed.text)
    # a blank secret keeps the stored one: the connection still works
    assert api.post("/api/storages/s3/validate", json={"id": body["id"], "project": project["id"],
                                                        "aws_secret_access_key": ""}).status_code == 200
    assert api.delete(f"/api/storages/s3/{body['id']}").status_code == 204
    assert api.get(f"/api/storages/s3/{body['id']}").status_code == 404
    no_secret(server.log())


def test_project_is_required(api):
    for path in ("/api/storages/", "/api/storages/s3", "/api/storages/localfiles/"):
        answer = api.get(path)
        assert answer.status_code == 400, path
        assert answer.json()["validation_errors"]["project"] == ['query parameter "project" is required']


def test_types(api):
    for path in ("/api/storages/types", "/api/storages/export/types"):
        assert api.get(path).json() == [{"name": "s3", "title": "AWS S3"}, {"name": "localfiles", "title": "Local files"}]


@pytest.mark.parametrize("case", ["no_bucket", "unreachable", "empty_prefix", "bad_regex", "bad_type"])
def test_validate_says_what_is_wrong(api, make_project, make_bucket, s3_endpoint, case):
    project = make_project()
    bucket = make_bucket({"in/a.json": b"{}"})
    body = s3_body(project["id"], bucket, s3_endpoint, prefix="in")
    expected = {"no_bucket": "Cannot find bucket",
                "unreachable": "Cannot reach the S3 endpoint", "empty_prefix": "not found",
                "bad_regex": "regex_filter", "bad_type": "use_blob_urls"}[case]
    if case == "no_bucket":
        body["bucket"] = "lw-missing-" + uuid.uuid4().hex[:8]
    elif case == "unreachable":
        body["s3_endpoint"] = "http://127.0.0.1:9"
    elif case == "empty_prefix":
        body["prefix"] = "nothing-here"
    elif case == "bad_regex":
        body["regex_filter"] = "(["
    else:
        body["use_blob_urls"] = "maybe"
    for path in ("/api/storages/s3/validate", "/api/storages/s3"):
        answer = api.post(path, json=body)
        assert answer.status_code == 400, (path, answer.text)
        assert expected in answer.text, answer.text
        no_secret(answer.text)
    assert api.get(f"/api/storages/?project={project['id']}").json() == []  # nothing saved


def test_validate_ok_is_empty(api, make_project, make_bucket, s3_endpoint):
    project = make_project()
    answer = api.post("/api/storages/s3/validate", json=s3_body(project["id"], make_bucket({"a": b"1"}), s3_endpoint))
    assert answer.status_code == 200 and answer.content == b""


def test_files_preview_and_form(api, make_project, make_bucket, s3_endpoint):
    project = make_project()
    bucket = make_bucket({f"p/{i:02}.txt": b"x" * i for i in range(5)})
    answer = api.post("/api/storages/s3/files", json={**s3_body(project["id"], bucket, s3_endpoint, prefix="p"),
                                                      "limit": 3})
    assert answer.status_code == 200, answer.text
    files = answer.json()["files"]
    assert [f["key"] for f in files] == ["p/00.txt", "p/01.txt", "p/02.txt", None]
    assert files[1]["size"] == 1
    form = api.get("/api/storages/s3/form").json()
    names = {f["name"]: f for f in form[0]["fields"]}
    assert names["aws_secret_access_key"]["type"] == "password" and "value" not in names["aws_secret_access_key"]
    assert names["bucket"]["required"]


def test_only_admins(server, make_project):
    project = make_project()
    with server.client() as anonymous:
        assert anonymous.get(f"/api/storages/?project={project['id']}").status_code == 401
        assert anonymous.post("/api/storages/s3", json={"project": project["id"]}).status_code == 401


def test_localfiles(api, make_project, server):
    project = make_project(label_config='<View><Text name="text" value="$text"/></View>')
    folder = server.data_dir / "local-files" / f"in-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text('{"text": "hello"}')
    outside = api.post("/api/storages/localfiles", json={"project": project["id"], "path": "/etc"})
    assert outside.status_code == 400 and "LABELWELL_LOCAL_FILES_ROOT" in outside.text
    missing = api.post("/api/storages/localfiles", json={"project": project["id"], "path": str(folder / "nope")})
    assert missing.status_code == 400 and "does not exist" in missing.text
    created = api.post("/api/storages/localfiles/", json={"project": project["id"], "path": str(folder),
                                                          "regex_filter": ".*json"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["type"] == "localfiles" and body["path"] == str(folder) and body["use_blob_urls"] is False
    assert "bucket" not in body and "presign" not in body
    listed = api.get(f"/api/storages/localfiles?project={project['id']}").json()
    assert [s["id"] for s in listed] == [body["id"]]
    assert api.get(f"/api/storages/s3?project={project['id']}").json() == []
    preview = api.post("/api/storages/localfiles/files", json={"id": body["id"]}).json()
    assert [f["key"] for f in preview["files"]] == [f"{folder.name}/a.json"]


def test_an_endpoint_that_hangs_is_named_within_its_timeout(tmp_path, database_url_factory, make_bucket, s3_endpoint):
    """A server that takes the connection and never answers: the timeout's words, quickly, nothing saved."""
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(64)  # the kernel accepts; nobody ever reads or answers
    srv = start_server(tmp_path / "data", database_url_factory("sqlite"), LABELWELL_STORAGE_TIMEOUT_SECONDS="1")
    try:
        with srv.client(token=srv.admin_token) as api:
            project = api.post("/api/projects", json={"title": "Hangs", "label_config": "<View></View>"}).json()
            body = s3_body(project["id"], make_bucket(), f"http://127.0.0.1:{hanging.getsockname()[1]}")
            started = time.monotonic()
            answer = api.post("/api/storages/s3/validate", json=body)
            assert answer.status_code == 400, answer.text
            assert "did not answer within 1 s" in answer.json()["validation_errors"]["non_field_errors"][0]
            assert time.monotonic() - started < 15  # one retry, not a request left hanging
            assert api.post("/api/storages/s3", json=body).status_code == 400
            assert api.get(f"/api/storages/?project={project['id']}").json() == []
    finally:
        srv.stop()
        hanging.close()


@pytest.fixture(scope="module")
def checking_s3():
    """A second S3 server that checks credentials, as AWS does (moto checks signatures against the
    keys its IAM made once the first requests are past): its URL, a bucket with one object, a good key."""
    import boto3

    url, proc = s3server.start(INITIAL_NO_AUTH_ACTION_COUNT="3")
    try:
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", aws_access_key_id="setup",
                           aws_secret_access_key="setup")
        iam.create_user(UserName="labelwell")  # requests 1 to 3 go unchecked: the user, its key, its rights
        key = iam.create_access_key(UserName="labelwell")["AccessKey"]
        iam.put_user_policy(UserName="labelwell", PolicyName="s3", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
        s3.create_bucket(Bucket="checked")
        s3.put_object(Bucket="checked", Key="in/a.json", Body=b'{"text": "hello"}')
        yield url, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_wrong_credentials_are_named_and_nothing_is_saved(api, make_project, checking_s3):
    url, key_id, secret = checking_s3
    project = make_project()
    good = {"project": project["id"], "bucket": "checked", "prefix": "in", "s3_endpoint": url,
            "aws_access_key_id": key_id, "aws_secret_access_key": secret}
    for wrong in ({"aws_secret_access_key": "not-the-secret"}, {"aws_access_key_id": "AKIANOBODYHASTHIS00"}):
        for path in ("/api/storages/s3/validate", "/api/storages/s3"):
            answer = api.post(path, json={**good, **wrong})
            assert answer.status_code == 400, (path, answer.text)
            assert "Cannot connect to S3 checked with specified AWS credentials" in answer.text, answer.text
            assert secret not in answer.text and "not-the-secret" not in answer.text
    assert api.get(f"/api/storages/?project={project['id']}").json() == []  # nothing saved
    assert api.post("/api/storages/s3/validate", json=good).status_code == 200  # the right key passes
