"""Time series ranges as CSV (TIMESERIES_RANGES_CSV, issue 19): a row per range or instant of every
finished annotation, with the task, annotation, annotator, series, bounds as the result holds them,
`instant`, labels, and the choices and text that per-region controls gave the same region; cancelled
work and other results give none, and configs without <TimeSeriesLabels> are not offered it."""

from __future__ import annotations

import csv
import io
import json

CONFIG = """<View>
  <TimeSeries name="ts" value="$csv" timeColumn="time" timeFormat="%Y-%m-%d %H:%M:%S"><Channel column="v"/></TimeSeries>
  <TimeSeriesLabels name="label" toName="ts"><Label value="Run"/><Label value="Walk"/></TimeSeriesLabels>
  <Choices name="kind" toName="ts" perRegion="true"><Choice value="Outlier"/><Choice value="Noise"/></Choices>
  <TextArea name="note" toName="ts" perRegion="true"/>
</View>"""


def region(rid: str, start: str, end: str, labels: list[str], instant: bool = False, choices=None, text=None) -> list:
    bounds = {"start": start, "end": end, "instant": instant}
    items = [{"id": rid, "from_name": "label", "to_name": "ts", "type": "timeserieslabels",
              "value": {**bounds, "timeserieslabels": labels}}]
    if choices:
        items.append({"id": rid, "from_name": "kind", "to_name": "ts", "type": "choices",
                      "value": {**bounds, "choices": choices}})
    if text:
        items.append({"id": rid, "from_name": "note", "to_name": "ts", "type": "textarea",
                      "value": {**bounds, "text": text}})
    return items


def offered(api, project_id: int) -> dict[str, bool]:
    return {f["name"]: not f["disabled"] for f in api.get(f"/api/projects/{project_id}/export/formats").json()}


def ranges(api, project_id: int) -> list[dict]:
    """The project's ranges export, as a CSV download (text/csv), read by column name."""
    answer = api.get(f"/api/projects/{project_id}/export?exportType=TIMESERIES_RANGES_CSV")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv"), answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_a_row_per_range_with_its_choices_and_text(api, make_project):
    project = make_project(label_config=CONFIG)
    pid = project["id"]
    tasks = [{"data": {"csv": "/data/upload/1/a.csv"}, "annotations": [{"result": [
                 *region("r1", "2020-06-15 19:52:10", "2020-06-15 19:52:20", ["Run"], choices=["Outlier"],
                         text=["=spike", "then calm"]),
                 *region("r2", "2020-06-15 19:53:00", "2020-06-15 19:53:00", ["Walk"], instant=True)]}]},
             {"data": {"csv": "/data/upload/1/b.csv"}, "annotations": [
                 {"was_cancelled": True, "result": region("x", "2020-06-15 19:52:10", "2020-06-15 19:52:11", ["Run"])}]},
             {"data": {"csv": "/data/upload/1/c.csv"}}]
    imported = api.post(f"/api/projects/{pid}/import?return_task_ids=true", json=tasks)
    assert imported.status_code == 201, imported.text
    first_task = imported.json()["task_ids"][0]
    assert offered(api, pid)["TIMESERIES_RANGES_CSV"]
    rows = ranges(api, pid)
    assert list(rows[0]) == ["task_id", "annotation_id", "annotator", "series", "start", "end", "instant", "labels",
                             "choices", "text"]
    assert len(rows) == 2  # the cancelled annotation and the unlabelled task give none
    (annotation,) = api.get(f"/api/tasks/{first_task}/annotations").json()
    ranged, instant = rows
    assert ranged["task_id"] == str(first_task) and ranged["annotation_id"] == str(annotation["id"])
    assert ranged["annotator"] == str(annotation["completed_by"]) and ranged["series"] == "ts"
    assert (ranged["start"], ranged["end"], ranged["instant"]) == ("2020-06-15 19:52:10", "2020-06-15 19:52:20", "false")
    assert json.loads(ranged["labels"]) == ["Run"] and json.loads(ranged["choices"]) == ["Outlier"]
    assert ranged["text"] == "'=spike\nthen calm"  # a spreadsheet shows it, does not run it
    assert (instant["start"], instant["end"], instant["instant"]) == ("2020-06-15 19:53:00",) * 2 + ("true",)
    assert json.loads(instant["labels"]) == ["Walk"] and json.loads(instant["choices"]) == [] and instant["text"] == ""


def test_numeric_bounds_and_configs_without_ranges(api, make_project):
    project = make_project(label_config=CONFIG.replace(' timeFormat="%Y-%m-%d %H:%M:%S"', ""))
    task = {"data": {"csv": "/data/upload/1/a.csv"}, "annotations": [{"result": region("r1", 1.5, 30, ["Run"])}]}
    assert api.post(f"/api/projects/{project['id']}/import", json=[task]).status_code == 201
    (row,) = ranges(api, project["id"])
    assert (float(row["start"]), float(row["end"]), row["instant"]) == (1.5, 30.0, "false")
    plain = make_project(label_config='<View><Text name="t" value="$t"/></View>')
    assert not offered(api, plain["id"])["TIMESERIES_RANGES_CSV"]
