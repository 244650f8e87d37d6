"""Media in a bucket, as annotators see it: the task keeps `s3://bucket/key`, the workspace
shows Label Studio's resolver address instead, and the resolver answers with a redirect to a
presigned URL on the S3 server (Labelwell never carries the bytes) or, with presign off, streams
the object itself with Range; in Chromium the picture loads from the S3 server's address."""

from __future__ import annotations

import io
import time
from contextlib import closing

import httpx
from PIL import Image
from playwright.sync_api import expect

from tests import s3server
from tests.helpers import browser, wait_job
from tests.test_browser import log_in
from tests.test_workspace_browser import ready

CONFIG = ('<View><Image name="image" value="$image"/><Choices name="c" toName="image">'
          '<Choice value="cat"/><Choice value="dog"/></Choices></View>')


def picture(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


def synced_project(api, make_project, make_bucket, s3_endpoint, objects: dict, **storage) -> tuple[dict, dict, list]:
    project = make_project(label_config=CONFIG)
    bucket = make_bucket(objects)
    body = {"project": project["id"], "bucket": bucket, "prefix": "pics", "use_blob_urls": True,
            "s3_endpoint": s3_endpoint, "aws_access_key_id": s3server.KEY_ID,
            "aws_secret_access_key": s3server.SECRET, **storage}
    made = api.post("/api/storages/s3", json=body)
    assert made.status_code == 201, made.text
    job = api.post(f"/api/storages/s3/{made.json()['id']}/sync").json()["last_sync_job"]
    assert wait_job(api, int(job))["state"] == "done"
    tasks = api.get(f"/api/tasks?project={project['id']}&fields=all&resolve_uri=false").json()["tasks"]
    return project, {**made.json(), "bucket": bucket}, sorted(tasks, key=lambda t: t["data"]["image"])


def resolver_address(server, project_id: int) -> str:
    """The image address the workspace page gives the browser."""
    with closing(browser(server)) as person:
        page = person.get(f"/projects/{project_id}/label", follow_redirects=True)
    assert page.status_code == 200, page.text[:300]
    assert "s3://" not in page.text and s3server.SECRET not in page.text and s3server.KEY_ID not in page.text
    src = page.text.split('src="/tasks/', 1)[1].split('"', 1)[0]
    return "/tasks/" + src.replace("&amp;", "&")


def test_presigned_redirect_to_the_bucket(server, api, worker, make_project, make_bucket, s3_endpoint):
    data = picture()
    project, storage, (task,) = synced_project(api, make_project, make_bucket, s3_endpoint, {"pics/cat 1.png": data})
    assert task["data"]["image"] == f"s3://{storage['bucket']}/pics/cat 1.png"  # stored raw
    address = resolver_address(server, project["id"])
    assert address.startswith(f"/tasks/{task['id']}/resolve/?fileuri=")
    answer = api.get(address)
    assert answer.status_code == 303, answer.text
    assert answer.headers["cache-control"] == "no-store, max-age=60"  # presign_ttl 1 minute
    location = answer.headers["location"]
    assert location.startswith(s3_endpoint + "/") and "X-Amz-Signature" in location
    assert s3server.SECRET not in location
    assert httpx.get(location).content == data  # no Labelwell credentials: the signature is the key
    legacy = api.get(address.replace("/resolve/", "/presign/"))  # what ML backends call
    assert legacy.status_code == 303 and legacy.headers["location"].startswith(s3_endpoint)
    # only URIs the task's data names: no open redirect, no other bucket through this task
    assert api.get(f"/tasks/{task['id']}/resolve/?fileuri=czM6Ly9vdGhlci9rLnBuZw==").status_code == 404
    no_secret_anywhere(server)


def test_the_api_answers_resolver_addresses_as_label_studio(server, api, worker, make_project, make_bucket,
                                                            s3_endpoint):
    project, storage, (task,) = synced_project(api, make_project, make_bucket, s3_endpoint, {"pics/a.png": picture()})
    raw = f"s3://{storage['bucket']}/pics/a.png"
    api.patch(f"/api/tasks/{task['id']}", json={"data": {
        "image": raw, "other": "s3://another-bucket/b.png", "nested": [raw], "html": f'<img src="{raw}">'}})
    mine = f"/tasks/{task['id']}/resolve/?fileuri="
    detail = api.get(f"/api/tasks/{task['id']}").json()["data"]
    assert detail["image"].startswith(mine) and detail["nested"][0] == detail["image"]
    assert detail["other"] == "s3://another-bucket/b.png"  # no storage of this project holds that bucket
    assert detail["html"] == f'<img src="{detail["image"]}">'
    assert api.get(detail["image"]).status_code == 303  # the address works as it is
    assert api.get(f"/api/tasks/{task['id']}?resolve_uri=false").json()["data"]["image"] == raw
    (listed,) = api.get(f"/api/tasks?project={project['id']}").json()["tasks"]
    assert listed["data"]["image"] == detail["image"]
    assert api.get(f"/api/projects/{project['id']}/next").json()["data"]["image"] == detail["image"]
    # the database keeps the raw URI: exports carry it so
    (exported,) = api.get(f"/api/projects/{project['id']}/export?exportType=JSON&download_all_tasks=true").json()
    assert exported["data"]["image"] == raw


def no_secret_anywhere(server) -> None:
    logs = server.log() + "".join(p.read_text(errors="replace") for p in server.data_dir.glob("worker-*.log"))
    assert s3server.SECRET not in logs


def test_annotators_of_other_projects_get_nothing(server, api, worker, make_project, make_bucket, s3_endpoint,
                                                  make_user):
    project, _, (task,) = synced_project(api, make_project, make_bucket, s3_endpoint, {"pics/a.png": picture()})
    address = resolver_address(server, project["id"])
    outsider = make_user()
    with closing(browser(server, outsider["email"], outsider["password"])) as other:
        assert other.get(address).status_code in (403, 404)
    with server.client() as anonymous:
        assert anonymous.get(address).status_code in (302, 401)


def test_proxied_with_range_when_presign_is_off(server, api, worker, make_project, make_bucket, s3_endpoint):
    data = picture((10, 200, 10))
    project, storage, (task,) = synced_project(api, make_project, make_bucket, s3_endpoint,
                                               {"pics/ünï ☃.png": data}, presign=False)
    address = resolver_address(server, project["id"])
    whole = api.get(address)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "image/png" and whole.headers["accept-ranges"] == "bytes"
    part = api.get(address, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == data[:10]
    assert part.headers["content-range"] == f"bytes 0-9/{len(data)}"
    # the object is deleted from the bucket after sync: a clear answer, not a 500
    s3server.client(s3_endpoint).delete_object(Bucket=storage["bucket"], Key="pics/ünï ☃.png")
    gone = api.get(address)
    assert gone.status_code == 424 and "no longer in bucket" in gone.json()["detail"], gone.text
    assert api.get(f"/api/tasks/{task['id']}").status_code == 200  # the task is still there


def test_image_loads_from_the_s3_server_in_chromium(page, server, api, worker, make_project, make_bucket,
                                                    s3_endpoint, make_user):
    """The picture comes from the S3 server's address; the next task's picture is fetched while the
    annotator works on this one, and after submit it is on screen from the browser's cache."""
    project, _, (task, following) = synced_project(api, make_project, make_bucket, s3_endpoint, {
        "pics/a-dog.png": picture(), "pics/b-cat.png": picture((20, 20, 220))})
    user = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cached: list[str] = []
    cdp.on("Network.responseReceived", lambda e: cached.append(e["response"]["url"]) if (
        e["response"].get("fromPrefetchCache") or e["response"].get("fromDiskCache")) else None)
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    page.wait_for_function("() => document.querySelector('.lw-image-frame img').naturalWidth === 64")
    assert any(url.startswith(s3_endpoint + "/") and "a-dog.png" in url for url in requested), requested
    deadline = time.monotonic() + 10
    while not any(url.startswith(s3_endpoint + "/") and "b-cat.png" in url for url in requested):
        assert time.monotonic() < deadline, f"the next task's picture was not preloaded: {requested}"
        page.wait_for_timeout(100)
    page.get_by_test_id("choice-dog").check()
    page.get_by_test_id("submit").click()
    expect(page.locator(f".lw-workspace[data-task='{following['id']}']")).to_be_visible()
    page.wait_for_function("() => document.querySelector('.lw-image-frame img').naturalWidth === 64")
    # from the browser's cache: the bucket was not asked again
    assert any(url.startswith(s3_endpoint + "/") and "b-cat.png" in url for url in cached), cached
    (done,) = api.get(f"/api/tasks/{task['id']}/annotations").json()
    assert done["result"][0]["value"]["choices"] == ["dog"]
