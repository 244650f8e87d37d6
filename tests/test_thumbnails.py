"""Thumbnails in the task list, as an admin sees them: each task's picture, from a bucket or an
upload, shrunk once by the worker and shown from Labelwell; a picture that cannot be read says so."""

from __future__ import annotations

import io
from contextlib import closing

from PIL import Image
from playwright.sync_api import expect

from tests import s3server
from tests.helpers import accessibility_problems, browser, wait_job
from tests.test_browser import log_in

CONFIG = ('<View><Image name="image" value="$image"/><Choices name="c" toName="image">'
          '<Choice value="cat"/><Choice value="dog"/></Choices></View>')


def picture(size=(640, 480), colour=(200, 30, 30), kind="JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def bucket_project(api, make_project, make_bucket, s3_endpoint, objects: dict) -> dict:
    project = make_project(label_config=CONFIG)
    body = {"project": project["id"], "bucket": make_bucket(objects), "prefix": "pics", "use_blob_urls": True,
            "s3_endpoint": s3_endpoint, "aws_access_key_id": s3server.KEY_ID, "aws_secret_access_key": s3server.SECRET}
    made = api.post("/api/storages/s3", json=body)
    assert made.status_code == 201, made.text
    assert wait_job(api, int(api.post(f"/api/storages/s3/{made.json()['id']}/sync").json()["last_sync_job"]))[
        "state"] == "done"
    return project


def test_the_task_list_shows_thumbnails_made_once(page, server, api, worker, make_project, make_bucket,
                                                  s3_endpoint):
    project = bucket_project(api, make_project, make_bucket, s3_endpoint, {
        "pics/a wide.jpg": picture((640, 480)), "pics/b tall.png": picture((300, 600), (20, 20, 220), "PNG"),
        "pics/c broken.jpg": b"this is not a picture"})
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    log_in(page, server.admin_email, server.admin_password)
    page.goto(f"/projects/{project['id']}/tasks")
    thumbs = page.locator("img.thumb")
    expect(thumbs).to_have_count(2, timeout=30_000)  # swapped in as the worker makes them
    page.wait_for_function("() => [...document.querySelectorAll('img.thumb')].every(i => i.naturalWidth > 0)")
    sizes = thumbs.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert sorted(sizes) == [[80, 160], [160, 120]]  # the longer side 160, the shape kept
    expect(page.locator(".thumb-failed")).to_have_text("No preview: not a picture (or of a kind this server cannot read)")
    assert accessibility_problems(page) == []
    assert not any(url.startswith(s3_endpoint) for url in requested), "the list loaded full pictures from the bucket"
    made = [j for j in api.get(f"/api/projects/{project['id']}/jobs?kind=thumbnails").json()]
    assert len(made) == 1 and made[0]["state"] == "done", made
    # a second visit shows them at once and asks the worker for nothing
    page.reload()
    expect(thumbs).to_have_count(2)
    expect(page.locator(".thumb-pending")).to_have_count(0)
    assert len(api.get(f"/api/projects/{project['id']}/jobs?kind=thumbnails").json()) == 1


def test_an_upload_gets_a_thumbnail_beside_it_and_only_members_see_it(server, api, worker, make_project, make_user):
    project = make_project(label_config=CONFIG)
    done = api.post(f"/api/projects/{project['id']}/import", files=[("file", ("street.png", picture(kind="PNG")))])
    assert done.status_code == 201, done.text
    (task,) = api.get(f"/api/tasks?project={project['id']}&fields=all").json()["tasks"]
    address = f"/projects/{project['id']}/tasks/{task['id']}/thumbnail?key=image"
    with closing(browser(server)) as admin:
        assert admin.get(f"/projects/{project['id']}/tasks").status_code == 200  # the list asks for it
    (job,) = api.get(f"/api/projects/{project['id']}/jobs?kind=thumbnails").json()
    assert wait_job(api, job["id"])["state"] == "done"
    answer = api.get(address)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(answer.content)).size == (160, 120)
    stored = server.data_dir / "upload" / task["data"]["image"].removeprefix("/data/upload/")
    assert (stored.parent / (stored.name + ".thumb.jpg")).is_file()  # kept beside the upload
    outsider = make_user()
    with closing(browser(server, outsider["email"], outsider["password"])) as other:
        assert other.get(address).status_code == 404
    assert api.get(f"/projects/{project['id']}/tasks/{task['id']}/thumbnail?key=nothing").status_code == 404


def test_a_bucket_that_stops_answering_costs_one_try_and_leaves_them_queued(server, api, worker, make_project):
    """The worker asks a gone bucket once for a page of pictures, not once a picture, and calls no
    picture broken: they are made once it answers again."""
    endpoint, moto = s3server.start()
    try:
        project = bucket_project(api, make_project, lambda objects: s3server.new_bucket(endpoint, objects), endpoint,
                                 {f"pics/{i}.jpg": picture((64, 48)) for i in range(6)})
    finally:
        moto.kill()
        moto.wait()
    listed = api.get(f"/projects/{project['id']}/tasks")
    assert listed.status_code == 200
    (job,) = api.get(f"/api/projects/{project['id']}/jobs?kind=thumbnails").json()
    done = wait_job(api, job["id"])
    assert done["result"]["made"] == 0 and done["result"]["failed"] == 0, done
    assert "Cannot reach the S3 endpoint" in done["result"]["bucket"], done
    again = api.get(f"/projects/{project['id']}/tasks").text
    assert "thumb-failed" not in again and again.count("thumb-pending") == 6
