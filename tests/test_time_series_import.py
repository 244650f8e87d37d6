"""A CSV as one time series task (issue 19), as Label Studio's "Treat CSV/TSV as Time Series" does it:
the import API reads a CSV as a list of tasks and says `could_be_tasks_list`; `commit_to_project=false`
keeps the file without tasks, and `reimport` with `files_as_tasks_list: false` makes it one task whose
data value is the file's address, which the chart opens and a range labels. The project page offers
the same choice, on by default when the config reads a file per task."""

from __future__ import annotations

from tests.helpers import browser, csrf_from, html, wait_job

CONFIG = """<View>
  <TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time"><Channel column="value"/></TimeSeries>
  <TimeSeriesLabels name="label" toName="ts"><Label value="Peak"/></TimeSeriesLabels>
</View>"""
ROWS = 60
CSV = ("time,value\n" + "".join(f"{i},{(i * 7) % 13}\n" for i in range(ROWS))).encode()
RANGE = {"id": "r1", "from_name": "label", "to_name": "ts", "type": "timeserieslabels",
         "value": {"start": 10, "end": 20, "instant": False, "timeserieslabels": ["Peak"]}}


def address(api, upload_id: int) -> str:
    return "/data/" + api.get(f"/api/import/file-upload/{upload_id}").json()["file"]


def tasks_of(api, project_id: int) -> list[dict]:
    return api.get(f"/api/tasks?project={project_id}&fields=all").json()["tasks"]


def test_a_csv_becomes_one_time_series_task_by_reimport(api, make_project):
    project = make_project(label_config=CONFIG)
    pid = project["id"]
    listed = api.post(f"/api/projects/{pid}/import", files=[("file", ("run.csv", CSV))])
    assert listed.status_code == 400  # read as a list of tasks, its rows lack the file the config needs
    assert "run.csv, line 2: no data key 'csv'" in listed.json()["validation_errors"]["import"][0]

    kept = api.post(f"/api/projects/{pid}/import?commit_to_project=false", files=[("file", ("run.csv", CSV))])
    assert kept.status_code == 201, kept.text
    body = kept.json()
    assert body["could_be_tasks_list"] is True and body["task_count"] == ROWS and body["annotation_count"] is None
    assert tasks_of(api, pid) == []
    (upload_id,) = body["file_upload_ids"]

    made = api.post(f"/api/projects/{pid}/reimport", json={"file_upload_ids": [upload_id], "files_as_tasks_list": False})
    assert made.status_code == 201, made.text
    assert made.json()["task_count"] == 1 and made.json()["file_upload_ids"] == [upload_id]
    (task,) = tasks_of(api, pid)
    assert task["data"] == {"csv": address(api, upload_id)} and task["data"]["csv"].startswith(f"/data/upload/{pid}/")

    chart = api.get(f"/api/tasks/{task['id']}/timeseries/ts")
    assert chart.status_code == 200, chart.text
    assert chart.json()["points"] == ROWS and chart.json()["channels"]["value"]["max"][:3] == [0, 7, 1]
    saved = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [RANGE]})
    assert saved.status_code == 201, saved.text
    (exported,) = api.get(f"/api/projects/{pid}/export?exportType=JSON").json()
    assert exported["data"]["csv"] == task["data"]["csv"]
    assert exported["annotations"][0]["result"][0]["value"] == RANGE["value"]

    again = api.post(f"/api/projects/{pid}/reimport", json={"file_upload_ids": [upload_id], "files_as_tasks_list": False})
    assert again.status_code == 201  # the file's earlier task (and its annotation) is replaced, not doubled
    assert [t["id"] for t in tasks_of(api, pid)] != [task["id"]] and len(tasks_of(api, pid)) == 1
    assert api.get(f"/api/projects/{pid}").json()["total_annotations_number"] == 0
    refused = api.post(f"/api/projects/{pid}/reimport", json={"file_upload_ids": [upload_id]})  # as rows
    assert refused.status_code == 400 and "run.csv, line 2: no data key 'csv'" in refused.text
    assert len(tasks_of(api, pid)) == 1 and address(api, upload_id) == task["data"]["csv"]  # nothing changed


def test_reimport_as_a_list_and_its_bad_input(api, make_project):
    project = make_project(label_config='<View><Text name="t" value="$value"/></View>')
    pid = project["id"]
    kept = api.post(f"/api/projects/{pid}/import?commit_to_project=false", files=[("file", ("run.csv", CSV))]).json()
    rows = api.post(f"/api/projects/{pid}/reimport", json={"file_upload_ids": kept["file_upload_ids"]})
    assert rows.status_code == 201 and rows.json()["task_count"] == ROWS  # files_as_tasks_list is true by default
    assert tasks_of(api, pid)[0]["data"] == {"time": "0", "value": "0"}
    one = api.post(f"/api/projects/{pid}/reimport", json={"file_upload_ids": kept["file_upload_ids"],
                                                           "files_as_tasks_list": "false"})
    assert one.status_code == 201 and [t["data"] for t in tasks_of(api, pid)] == [
        {"value": address(api, kept["file_upload_ids"][0])}]  # no TimeSeries: the config's single data key
    unknown = api.post(f"/api/projects/{pid}/reimport", json={"file_upload_ids": [999999]})
    assert unknown.status_code == 400 and "No upload 999999 in this project" in unknown.text
    wrong = api.post(f"/api/projects/{pid}/reimport", json={"file_upload_ids": "all"})
    assert wrong.status_code == 400 and "list of upload ids" in wrong.text
    assert api.post(f"/api/projects/{pid}/reimport", json={}).status_code == 204
    for odd in ({"file_upload_ids": [2**64]}, {"file_upload_ids": [True]}, {"file_upload_ids": [-1]},
                {"file_upload_ids": [[1]]}):
        assert api.post(f"/api/projects/{pid}/reimport", json=odd).status_code == 400, odd
    for odd in ([1, 2], "ids", 7):  # not an object: no ids
        assert api.post(f"/api/projects/{pid}/reimport", json=odd).status_code == 204, odd
    assert api.post(f"/api/projects/{pid}/reimport", content=b"{not json",
                    headers={"content-type": "application/json"}).status_code == 400
    json_only = api.post(f"/api/projects/{pid}/import", json=[{"value": "x"}]).json()
    assert json_only["could_be_tasks_list"] is False


def test_the_project_page_offers_one_task_per_file(server, api, make_project, worker):
    series, text = make_project(label_config=CONFIG), make_project(label_config='<View><Text name="t" value="$v"/></View>')
    client = browser(server)
    box = "input[name=one_task_per_file]"
    assert html(client.get(f"/projects/{text['id']}")).cssselect(box)[0].get("checked") is None
    page = client.get(f"/projects/{series['id']}")
    (checkbox,) = html(page).cssselect(box)
    assert checkbox.get("checked") is not None  # the config reads a file per task: on by default
    assert "one task (a time series)" in checkbox.getparent().text_content()
    sent = client.post(f"/projects/{series['id']}/import", data={"_csrf_token": csrf_from(page.text),
                                                                  "one_task_per_file": "true"},
                       files=[("file", ("run.csv", CSV)), ("file", ("walk.csv", CSV))])
    assert sent.status_code in (302, 303), sent.text
    job = wait_job(api, int(sent.headers["location"].split("job=")[1].split("#")[0]))
    assert job["state"] == "done" and job["result"]["task_count"] == 2, job
    assert api.get(f"/api/projects/{series['id']}/imports/{job['id']}").json()["could_be_tasks_list"] is True
    found = tasks_of(api, series["id"])
    assert len({t["data"]["csv"] for t in found}) == 2
    assert all(api.get(f"/api/tasks/{t['id']}/timeseries/ts").json()["points"] == ROWS for t in found)


def test_importing_a_csv_as_a_series_in_the_browser(page, server, api, make_project, worker):
    from playwright.sync_api import expect

    from tests.helpers import accessibility_problems
    from tests.test_browser import log_in
    from tests.test_workspace_browser import ready

    project = make_project(label_config=CONFIG)
    log_in(page, server.admin_email, server.admin_password)
    page.goto(f"/projects/{project['id']}")
    expect(page.get_by_test_id("one-task-per-file")).to_be_checked()
    assert accessibility_problems(page, "#import") == []
    page.set_input_files("#import-files", files=[{"name": "run.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text("Imported 1 tasks", timeout=30_000)
    (task,) = tasks_of(api, project["id"])
    assert task["data"]["csv"].startswith(f"/data/upload/{project['id']}/") and task["data"]["csv"].endswith("run.csv")
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    expect(page.get_by_test_id("ts-status-ts")).to_contain_text(f"of {ROWS} points in view")
