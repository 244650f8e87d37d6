"""Uploads in a bucket (LABELWELL_MEDIA_URL, issue 21): two web processes with their own data
folders share one PostgreSQL database and one media bucket on the test S3 server, with one worker.
What one node stores, the other serves (by a redirect to a presigned URL: the bytes come from the
bucket); what the worker makes beside an upload (waveform peaks, PDF pages, thumbnails) lands in the
bucket too, and neither node keeps an upload on its own disk."""

from __future__ import annotations

import io
import json
import time
import uuid
from contextlib import closing

import httpx
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests import s3server
from tests.helpers import browser, launch
from tests.test_browser import log_in
from tests.test_export import wav
from tests.test_pdf import make_pdf

IMAGE = '<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="cat"/></Choices></View>'
AUDIO = '<View><Audio name="audio" value="$audio"/><TextArea name="t" toName="audio"/></View>'
SERIES = ('<View><TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time"><Channel column="value"/>'
          '</TimeSeries><TimeSeriesLabels name="label" toName="ts"><Label value="Peak"/></TimeSeriesLabels></View>')
PAGES = ('<View><Image name="page" valueList="$pages"/><RectangleLabels name="box" toName="page">'
         '<Label value="Signature"/></RectangleLabels></View>')


def picture(colour=(200, 30, 30), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, database_url_factory, s3_endpoint, redis_url):
    """Two web nodes and a worker over one database, one broker and one media bucket: what a
    deployment of several nodes shares."""
    bucket = s3server.new_bucket(s3_endpoint)
    token = uuid.uuid4().hex
    shared = {"LABELWELL_MEDIA_URL": f"s3://{bucket}/media", "LABELWELL_MEDIA_ENDPOINT": s3_endpoint,
              "AWS_ACCESS_KEY_ID": s3server.KEY_ID, "AWS_SECRET_ACCESS_KEY": s3server.SECRET,
              "LABELWELL_SECRET_KEY": "shared-" + uuid.uuid4().hex, "LABELWELL_USERNAME": "admin@example.com",
              "LABELWELL_PASSWORD": "admin-pass-1", "LABELWELL_USER_TOKEN": token,
              # a database of the Redis server of its own: no other test's messages
              "CELERY_BROKER_URL": redis_url.rsplit("/", 1)[0] + "/7" if redis_url.count("/") > 2 else redis_url + "/7"}
    database = database_url_factory("postgres")
    first = launch(tmp_path_factory.mktemp("node-a"), database, shared)
    second = launch(tmp_path_factory.mktemp("node-b"), database, shared)
    first.start_worker()
    for node in (first, second):
        node.admin_token, node.admin_email, node.admin_password = token, "admin@example.com", "admin-pass-1"
    yield first, second, bucket
    for node in (first, second):
        node.stop()


def objects(endpoint: str, bucket: str) -> list[str]:
    listed = s3server.client(endpoint).list_objects_v2(Bucket=bucket, Prefix="media/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def fetched(client, address: str, endpoint: str, timeout: float = 60, through: bool = False) -> bytes:
    """The bytes behind a node's address once it is there: a redirect to the bucket, followed; or,
    `through`, the node's own answer (what the workspace's scripts fetch: no cross-origin redirect)."""
    deadline = time.monotonic() + timeout
    while (answer := client.get(address)).status_code == 404:
        assert time.monotonic() < deadline, f"{address} not there after {timeout} s"
        time.sleep(0.2)
    if through:
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
        return answer.content
    assert answer.status_code == 302, (answer.status_code, answer.text[:300])
    location = answer.headers["location"]
    assert location.startswith(endpoint + "/") and s3server.SECRET not in location
    with closing(httpx.Client(timeout=30)) as direct:
        got = direct.get(location)
    assert got.status_code == 200, got.text[:300]
    return got.content


def new_project(client, config: str) -> dict:
    made = client.post("/api/projects", json={"title": "Bucket " + uuid.uuid4().hex[:6], "label_config": config})
    assert made.status_code == 201, made.text
    return made.json()


def tasks_of(client, project_id: int) -> list[dict]:
    return client.get(f"/api/tasks?project={project_id}&fields=all").json()["tasks"]


def no_uploads_on_disk(*nodes) -> None:
    for node in nodes:
        kept = [p for p in (node.data_dir / "upload").rglob("*") if p.is_file()]
        assert not kept, f"a web node kept files of its own: {kept}"


def test_what_one_node_stores_the_other_serves_from_the_bucket(nodes, s3_endpoint):
    first, second, bucket = nodes
    with closing(first.client(first.admin_token)) as a, closing(second.client(second.admin_token)) as b:
        project = new_project(a, IMAGE)
        data = picture()
        assert a.post(f"/api/projects/{project['id']}/import", files=[("file", ("cat.png", data))]).status_code == 201
        # a task file too: the import reads it back from the bucket
        tasks_file = json.dumps([{"image": "https://example.com/dog.png"}]).encode()
        assert b.post(f"/api/projects/{project['id']}/import",
                      files=[("file", ("more.json", tasks_file))]).status_code == 201
        images = sorted((t["data"]["image"] for t in tasks_of(a, project["id"])), key=lambda v: v.startswith("/"))
        assert images[0] == "https://example.com/dog.png" and images[1].startswith(f"/data/upload/{project['id']}/")
        assert fetched(b, images[1], s3_endpoint) == data  # stored by node A, served by node B
        assert fetched(a, images[1], s3_endpoint) == data
        name = images[1].rsplit("/", 1)[-1]
        assert f"media/{project['id']}/{name}" in objects(s3_endpoint, bucket)
        # the task list's thumbnail: asked for on node B, made by the worker, served by node A
        (task,) = [t for t in tasks_of(a, project["id"]) if t["data"]["image"] == images[1]]
        assert b.get(f"/projects/{project['id']}/tasks").status_code == 200
        thumb = fetched(a, f"/projects/{project['id']}/tasks/{task['id']}/thumbnail?key=image", s3_endpoint)
        with Image.open(io.BytesIO(thumb)) as shown:
            assert shown.format == "JPEG" and max(shown.size) <= 160
        # nobody else's: an annotator outside the project, and anyone not logged in, get no bucket address
        email = f"out-{uuid.uuid4().hex[:6]}@example.com"
        assert a.post("/api/users", json={"email": email, "password": "outsider-pass-1",
                                          "role": "annotator"}).status_code == 201
        with closing(browser(second, email, "outsider-pass-1")) as outsider, closing(second.client()) as anonymous:
            assert outsider.get(images[1]).status_code == 404
            refused = anonymous.get(images[1])
            assert refused.status_code in (302, 401) and s3_endpoint not in refused.headers.get("location", "")
        # deleting the uploads takes them (and the thumbnail beside it) out of the bucket
        assert b.delete(f"/api/projects/{project['id']}/file-uploads").status_code in (200, 204)
        assert not [k for k in objects(s3_endpoint, bucket) if k.startswith(f"media/{project['id']}/{name}")]
        assert a.get(images[1]).status_code == 404
    no_uploads_on_disk(first, second)


def test_waveforms_and_pdf_pages_made_by_the_worker_are_served_by_either_node(nodes, s3_endpoint):
    first, second, bucket = nodes
    with closing(first.client(first.admin_token)) as a, closing(second.client(second.admin_token)) as b:
        audio = new_project(b, AUDIO)
        assert b.post(f"/api/projects/{audio['id']}/import",
                      files=[("file", ("talk.wav", wav(3.0)))]).status_code == 201
        (task,) = tasks_of(b, audio["id"])
        peaks = fetched(a, task["data"]["audio"] + "/peaks", s3_endpoint, through=True)
        assert peaks[:4] == b"LWPK" and len(peaks) > 16 + 2 * 250  # 100 buckets a second, 3 s
        assert a.get(f"/projects/{audio['id']}/label/{task['id']}").status_code == 200  # the player finds them
        pdf = new_project(a, PAGES)
        assert a.post(f"/api/projects/{pdf['id']}/import",
                      files=[("file", ("invoice.pdf", make_pdf(3)))]).status_code == 201
        (doc,) = tasks_of(a, pdf["id"])
        assert len(doc["data"]["pages"]) == 3
        for address in doc["data"]["pages"]:
            assert fetched(b, address, s3_endpoint)[:4] == b"\x89PNG"
        words = json.loads(fetched(a, doc["data"]["pages"][1] + "/text", s3_endpoint, through=True))["words"]
        assert any(w["text"] == "Invoice" for w in words)
        # a CSV kept without tasks (its rows counted from the bucket), made one time series task by
        # node B, charted by node A
        series = new_project(a, SERIES)
        rows = "time,value\n" + "".join(f"{i},{i * i}\n" for i in range(50))
        counted = a.post(f"/api/projects/{series['id']}/import?commit_to_project=false",
                         files=[("file", ("run.csv", rows.encode()))])
        assert counted.status_code == 201 and counted.json()["task_count"] == 50, counted.text
        made = b.post(f"/api/projects/{series['id']}/reimport",
                      json={"file_upload_ids": counted.json()["file_upload_ids"], "files_as_tasks_list": False})
        assert made.status_code == 201 and made.json()["task_count"] == 1, made.text
        (run,) = tasks_of(a, series["id"])
        chart = a.get(f"/api/tasks/{run['id']}/timeseries/ts")
        assert chart.status_code == 200 and chart.json()["points"] == 50, chart.text
        kept = objects(s3_endpoint, bucket)
        assert any(k.endswith(".wav.peaks") for k in kept) and any(k.endswith(".pdf.pages/page-3.png") for k in kept)
    no_uploads_on_disk(first, second)


def test_an_annotator_sees_a_bucket_upload_in_chromium(nodes, s3_endpoint, chromium):
    """The browser loads the picture from the S3 server's address, through node B's redirect, and
    the waveform the worker made from node B itself (a script's fetch follows no cross-origin redirect)."""
    first, second, _ = nodes
    with closing(first.client(first.admin_token)) as a:
        project, audio = new_project(a, IMAGE), new_project(a, AUDIO)
        assert a.post(f"/api/projects/{project['id']}/import",
                      files=[("file", ("red.png", picture(size=(80, 60))))]).status_code == 201
        assert a.post(f"/api/projects/{audio['id']}/import", files=[("file", ("talk.wav", wav(2.0)))]).status_code == 201
        email = f"ann-{uuid.uuid4().hex[:6]}@example.com"
        user = a.post("/api/users", json={"email": email, "password": "annotator-pass-1", "role": "annotator"}).json()
        for joined in (project, audio):
            assert a.post(f"/api/projects/{joined['id']}/members", json={"user": user["id"]}).status_code in (200, 201)
    context = chromium.new_context(base_url=second.base_url)
    try:
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        log_in(page, email, "annotator-pass-1")
        page.goto(f"/projects/{project['id']}/label")
        page.wait_for_function("() => document.querySelector('.lw-image-frame img')?.naturalWidth === 80")
        assert any(url.startswith(s3_endpoint + "/") and "red.png" in url for url in requested), requested
        page.goto(f"/projects/{audio['id']}/label")
        expect(page.get_by_test_id("wave-audio")).to_have_attribute("data-drawn", "true", timeout=30_000)
    finally:
        context.close()
    logs = "".join(p.read_text(errors="replace") for n in nodes[:2] for p in n.data_dir.glob("*.log"))
    assert s3server.SECRET not in logs


def test_a_media_bucket_that_is_not_there_is_named_and_nothing_is_kept(tmp_path, database_url_factory, s3_endpoint):
    """An upload to a node whose bucket does not exist is a 503 saying so; nothing half-made stays."""
    node = launch(tmp_path / "node", database_url_factory("sqlite"), {
        "LABELWELL_MEDIA_URL": "s3://no-such-media-bucket/x", "LABELWELL_MEDIA_ENDPOINT": s3_endpoint,
        "AWS_ACCESS_KEY_ID": s3server.KEY_ID, "AWS_SECRET_ACCESS_KEY": s3server.SECRET,
        "LABELWELL_USERNAME": "admin@example.com", "LABELWELL_PASSWORD": "admin-pass-1", "LABELWELL_USER_TOKEN": "tok-m"})
    try:
        with closing(node.client("tok-m")) as api:
            project = new_project(api, IMAGE)
            refused = api.post(f"/api/projects/{project['id']}/import", files=[("file", ("cat.png", picture()))])
            assert refused.status_code == 503, refused.text
            assert "media bucket" in refused.json()["detail"] and "no-such-media-bucket" in refused.json()["detail"]
            assert s3server.SECRET not in refused.text
            assert api.get(f"/api/projects/{project['id']}/file-uploads").json() == []
            assert api.get(f"/api/tasks?project={project['id']}").json()["total"] == 0
            status = api.get("/api/health").json()
            (media,) = [c for c in status["checks"] if c["key"] == "media"]
            assert not media["ok"] and "no-such-media-bucket" in media["sentence"], media
        no_uploads_on_disk(node)
        assert s3server.SECRET not in node.log()
    finally:
        node.stop()
