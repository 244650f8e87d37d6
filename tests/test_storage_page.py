"""The project's Storage page in Chromium, as an admin uses it: connect a bucket (a wrong one
refused with what is wrong, nothing saved), sync it and see the tasks counted, see a broken
file's problem listed, connect a target; the page's controls are labelled and keyboard reachable,
and no credential is ever in the page."""

from __future__ import annotations

from playwright.sync_api import expect

from tests import s3server
from tests.helpers import accessibility_problems
from tests.test_browser import log_in

CONFIG = '<View><Text name="text" value="$text"/></View>'


def fill_s3(page, bucket: str, endpoint: str, prefix: str = "in") -> None:
    form = page.get_by_test_id("storage-form-s3")
    form.get_by_test_id("storage-s3-title").fill("Shared bucket")
    form.get_by_test_id("storage-s3-bucket").fill(bucket)
    form.get_by_test_id("storage-s3-prefix").fill(prefix)
    form.get_by_test_id("storage-s3-s3_endpoint").fill(endpoint)
    form.get_by_test_id("storage-s3-aws_access_key_id").fill(s3server.KEY_ID)
    form.get_by_test_id("storage-s3-aws_secret_access_key").fill(s3server.SECRET)


def test_connect_sync_and_see_problems(page, server, api, worker, make_project, make_bucket, s3_endpoint):
    project = make_project(label_config=CONFIG)
    bucket = make_bucket({"in/a.jsonl": b'{"text": "one"}\n{"text": "two"}\n', "in/bad.json": b"[{oops"})
    log_in(page, server.admin_email, server.admin_password)
    page.goto(f"/projects/{project['id']}")
    page.get_by_test_id("storage-settings").click()
    expect(page.get_by_role("heading", name="Storage", exact=True)).to_be_visible()
    assert accessibility_problems(page) == []

    fill_s3(page, "lw-no-such-bucket", s3_endpoint)
    page.get_by_test_id("storage-add-s3").click()
    expect(page.get_by_test_id("storage-error")).to_contain_text("Cannot find bucket lw-no-such-bucket")
    assert api.get(f"/api/storages/?project={project['id']}").json() == []
    assert s3server.SECRET not in page.content()
    expect(page.get_by_test_id("storage-s3-aws_secret_access_key")).to_have_value("")  # never sent back

    fill_s3(page, bucket, s3_endpoint)
    page.get_by_test_id("storage-add-s3").click()
    expect(page.locator("[data-testid^=storage-row-]")).to_have_count(1)
    (storage,) = api.get(f"/api/storages/?project={project['id']}").json()
    expect(page.get_by_test_id(f"storage-row-{storage['id']}")).to_contain_text(f"s3://{bucket}/in")
    page.get_by_test_id(f"storage-sync-{storage['id']}").focus()
    page.keyboard.press("Enter")
    status = page.get_by_test_id(f"storage-status-{storage['id']}")
    expect(status).to_contain_text("completed with errors: 2 tasks added", timeout=30_000)
    page.get_by_test_id(f"storage-errors-{storage['id']}").locator("summary").click()
    expect(page.get_by_test_id(f"storage-errors-{storage['id']}")).to_contain_text("in/bad.json, line 1")
    assert api.get(f"/api/projects/{project['id']}").json()["task_number"] == 2
    assert s3server.SECRET not in page.content() and s3server.KEY_ID not in page.content()

    # a target on the same page: the one annotation goes out, the row says so
    target = make_bucket()
    form = page.get_by_test_id("storage-form-s3")
    form.get_by_label("Target: annotations written to the storage").check()
    fill_s3(page, target, s3_endpoint, prefix="out")
    page.get_by_test_id("storage-add-s3").click()
    expect(page.locator("[data-testid^=storage-row-]")).to_have_count(2)
    exports = api.get(f"/api/storages/export?project={project['id']}").json()
    assert len(exports) == 1 and exports[0]["bucket"] == target
    expect(page.get_by_test_id(f"storage-row-{exports[0]['id']}")).to_contain_text("Target")
    assert accessibility_problems(page) == []
