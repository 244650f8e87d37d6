"""<TimeSeries>, <Channel> and <TimeSeriesLabels>: configs checked with line and attribute, the five time
series templates of Label Studio's gallery accepted, data parsed on the server (header or not, separators,
case-insensitive columns, timeFormat with zones and ms timestamps) with bad data named by file, row and
column, the window reduction keeping every bucket's min and max, and results in Label Studio's shape
(numbers, or timeFormat strings) stored, refused when wrong and exported."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.labelling.series import reduce
from components import ConfigError, parse_config
from components.time_series import Series, SeriesError

TEMPLATES = Path(__file__).resolve().parent / "data" / "configs" / "timeseries"


def config(ts: str = '<TimeSeries name="ts" value="$csv" timeColumn="time"><Channel column="Value"/></TimeSeries>',
           extra: str = "") -> str:
    return (f'<View>\n{ts}\n<TimeSeriesLabels name="label" toName="ts"><Label value="Run"/><Label value="Walk"/>'
            f"</TimeSeriesLabels>{extra}\n</View>")


def series(ts: str, raw, where: str = "run.csv") -> Series:
    return parse_config(config(ts)).by_name["ts"].parse(raw, where)


def test_every_time_series_template_of_the_gallery_is_accepted(api):
    names = sorted(p.name for p in TEMPLATES.glob("*.xml"))
    assert names == ["activity-recognition.xml", "change-point-detection.xml", "outliers-anomaly-detection.xml",
                     "signal-quality.xml", "time-series-forecasting.xml"]
    for path in TEMPLATES.glob("*.xml"):
        checked = api.post("/api/projects/validate", json={"label_config": path.read_text()})
        assert checked.status_code == 200, (path.name, checked.text)


@pytest.mark.parametrize(("xml", "attribute", "words"), [
    ('<TimeSeries name="ts" value="$csv" valueType="csv"><Channel column="a"/></TimeSeries>', "valueType", "'url' or 'json'"),
    ('<TimeSeries name="ts" value="$csv" sep="ab"><Channel column="a"/></TimeSeries>', "sep", "one character or tab"),
    ('<TimeSeries name="ts" value="$csv" timeFormat="YYYY"><Channel column="a"/></TimeSeries>', "timeFormat", "d3"),
    ('<TimeSeries name="ts" value="$csv" overviewWidth="wide"><Channel column="a"/></TimeSeries>', "overviewWidth",
     "percentage"),
    ('<TimeSeries name="ts" value="$csv"><Channel legend="a"/></TimeSeries>', "column", "needs a column"),
    ('<TimeSeries name="ts" value="$csv"><Channel column="a" strokeColor="not a colour!"/></TimeSeries>',
     "strokeColor", "colour"),
])
def test_bad_time_series_configs_are_refused_naming_line_and_attribute(xml, attribute, words):
    with pytest.raises(ConfigError) as caught:
        parse_config(f"<View>\n<Text name=\"other\" value=\"$t\"/>\n{xml}\n</View>")
    found = [e for e in caught.value.errors if e.attribute == attribute]
    assert found and words in found[0].message and found[0].line == 3, caught.value.errors


def test_a_time_series_without_channels_draws_nothing_and_labels_on_other_objects_are_refused():
    bare = parse_config('<View><TimeSeries name="ts" value="$csv"/></View>').by_name["ts"]
    with pytest.raises(SeriesError, match="has no <Channel"):  # accepted, as in Label Studio, but nothing to draw
        bare.parse("a,b\n1,2\n3,4\n", "run.csv")
    with pytest.raises(ConfigError, match="cannot label <Text>"):
        parse_config('<View><Text name="t" value="$t"/><TimeSeriesLabels name="l" toName="t"><Label value="A"/>'
                     "</TimeSeriesLabels></View>")


def test_csv_json_headless_separators_and_time_formats_are_read():
    named = '<TimeSeries name="ts" value="$csv" timeColumn="Time" sep="{}"><Channel column="VALUE"/></TimeSeries>'
    for sep, written in ((",", ","), ("tab", "\t"), (";", ";")):
        got = series(named.format(sep), f"time{written}value\n0{written}1.5\n2{written}-3\n")
        assert got.x.tolist() == [0, 2] and got.channels["VALUE"].tolist() == [1.5, -3]  # names match any case
    headless = series('<TimeSeries name="ts" value="$csv" timeColumn="0"><Channel column="2"/></TimeSeries>',
                      "10,1,7\n11,2,8\n12,3,9\n")
    assert headless.x.tolist() == [10, 11, 12] and headless.channels["2"].tolist() == [7, 8, 9]
    indexed = series('<TimeSeries name="ts" value="$d" valueType="json"><Channel column="a"/></TimeSeries>',
                     json.dumps({"a": [4, 5, 6]}))
    assert indexed.x.tolist() == [0, 1, 2] and indexed.channels["a"].tolist() == [4, 5, 6]
    dated = '<TimeSeries name="ts" value="$csv" timeColumn="t" timeFormat="{}"><Channel column="v"/></TimeSeries>'
    base = 1592250751000  # 2020-06-15 19:52:31 UTC
    for fmt, rows in (("%Y-%m-%d %H:%M:%S", ["2020-06-15 19:52:31", "2020-06-15 19:52:32"]),
                      ("%Y-%m-%d %H:%M:%S", ["2020-06-15 19:52:31+00:00", "2020-06-15 21:52:32+02:00"]),
                      ("%Y-%m-%d %H:%M:%S.%f", ["2020-06-15 19:52:31.000000", "2020-06-15 19:52:32.000"]),
                      ("%Y-%m-%dT%H:%M:%S%Z", ["2020-06-15T19:52:31Z", "2020-06-15T19:52:32+0000"]),
                      ("%Q", [str(base), str(base + 1000)]), ("%s", [str(base // 1000), str(base // 1000 + 1)])):
        got = series(dated.format(fmt), "t,v\n" + "".join(f"{r},1\n" for r in rows))
        assert got.x.tolist() == [base, base + 1000], (fmt, rows)


@pytest.mark.parametrize(("ts", "raw", "words"), [
    ('timeColumn="time"', "time,value\n3,1\n2,2\n", "run.csv, column 'time', row 3: time goes backwards"),
    ('timeColumn="time" timeFormat="%Y-%m-%d"', "time,value\n2020-01-01,1\nsoon,2\n",
     "run.csv, column 'time', row 3: 'soon' does not match timeFormat '%Y-%m-%d'"),
    ('timeColumn="when"', "time,value\n1,1\n2,2\n", "run.csv: no column 'when' (timeColumn); the data has time, value"),
    ('timeColumn="time"', "time,value\n1,1\n", "run.csv: 1 row(s) of data; a series needs at least 2"),
    ('timeColumn="time"', "time,value\n1,1\n2,x\n", "run.csv, column 'value', row 3: 'x' is not a number"),
    ('timeColumn="time"', "time,value\n1,1\n2\n", "run.csv, row 3: 1 values where the first row has 2"),
    ('timeColumn="time"', "", "run.csv: the file is empty"),
])
def test_bad_data_is_named_by_file_row_and_column(ts, raw, words):
    with pytest.raises(SeriesError) as caught:
        series(f'<TimeSeries name="ts" value="$csv" {ts}><Channel column="value"/></TimeSeries>', raw)
    assert str(caught.value).startswith(words), str(caught.value)


def test_the_reduction_keeps_every_buckets_min_and_max():
    rng = np.random.default_rng(7)
    x = np.arange(100_000, dtype=np.float64)
    y = rng.normal(size=x.size)
    y[31_337], y[77_777] = 50.0, -40.0  # two spikes a plain sample would miss
    got = reduce(Series(x, {"a": y}), 10_000, 90_000, 200)
    assert got["reduced"] and len(got["x"]) == 200 and got["points"] == 100_000
    edges = np.searchsorted(x, got["x"]).tolist() + [90_001 + 1]
    for i in range(200):
        part = y[edges[i]:edges[i + 1]]
        assert got["channels"]["a"]["min"][i] == part.min() and got["channels"]["a"]["max"][i] == part.max()
    assert max(got["channels"]["a"]["max"]) == 50.0 and min(got["channels"]["a"]["min"]) == -40.0
    few = reduce(Series(x, {"a": y}), 10, 20, 200)  # few points: all of them, and one past each side
    assert not few["reduced"] and few["x"] == list(range(9, 22)) and few["channels"]["a"]["min"] == y[9:22].tolist()


def test_ranges_from_the_workspace_are_written_in_the_time_format():
    xml = config('<TimeSeries name="ts" value="$csv" timeColumn="t" timeFormat="%Y-%m-%d %H:%M:%S">'
                 '<Channel column="v"/></TimeSeries>')
    region = {"id": "r1", "from_name": "label", "to_name": "ts", "type": "timeserieslabels",
              "value": {"start": 1592250751000, "end": 1592251017000, "timeserieslabels": ["Run"]}}
    (got,) = parse_config(xml).collect({"csv": "/x"}, {"region": [json.dumps(region)]})
    assert got["value"] == {"start": "2020-06-15 19:52:31", "end": "2020-06-15 19:56:57", "instant": False,
                            "timeserieslabels": ["Run"]}
    instant = {**region, "value": {"start": 5, "end": 5, "instant": True, "timeserieslabels": ["Walk"]}}
    (got,) = parse_config(config()).collect({"csv": "/x"}, {"region": [json.dumps(instant)]})
    assert got["value"] == {"start": 5, "end": 5, "instant": True, "timeserieslabels": ["Walk"]}


def csv_of(rows: int) -> bytes:
    return ("time,value\n" + "".join(f"2020-06-15 19:52:{i:02d},{i * i}\n" for i in range(rows))).encode()


def uploaded(api, project_id: int, name: str, body: bytes) -> str:
    """The address of a CSV stored in a project whose config takes any rows (its import reads them as
    tasks); tests/test_time_series_import.py imports a CSV as one time series task instead."""
    response = api.post(f"/api/projects/{project_id}/import", files=[("file", (name, body))])
    assert response.status_code == 201, response.text
    new = api.get(f"/api/import/file-upload/{response.json()['file_upload_ids'][0]}").json()
    return f"/data/{new['file']}"


FORMAT_XML = config('<TimeSeries name="ts" value="$csv" timeColumn="time" timeFormat="%Y-%m-%d %H:%M:%S">'
                    '<Channel column="value"/></TimeSeries>',
                    '<Choices name="kind" toName="ts" perRegion="true"><Choice value="Outlier"/></Choices>')
LS_RANGE = {"id": "t1", "from_name": "label", "to_name": "ts", "type": "timeserieslabels", "origin": "manual",
            "value": {"start": "2020-06-15 19:52:10", "end": "2020-06-15 19:52:20", "instant": False,
                      "timeserieslabels": ["Run"]}}
LS_KIND = {"id": "t1", "from_name": "kind", "to_name": "ts", "type": "choices", "origin": "manual",
           "value": {"start": "2020-06-15 19:52:10", "end": "2020-06-15 19:52:20", "instant": False,
                     "choices": ["Outlier"]}}


def test_windows_results_and_exports_over_http(api, make_project):
    project, files = make_project(label_config=FORMAT_XML), make_project()
    good, bad = uploaded(api, files["id"], "run.csv", csv_of(60)), uploaded(api, files["id"], "bad.csv", b"time,value\n1,2\n")
    tasks = [{"csv": good}, {"csv": bad}, {"csv": "https://example.com/run.csv"}]
    reply = api.post(f"/api/projects/{project['id']}/import?return_task_ids=true", json=tasks).json()
    ok, broken, remote = reply["task_ids"]
    whole = api.get(f"/api/tasks/{ok}/timeseries/ts?width=100")
    assert whole.status_code == 200, whole.text
    whole = whole.json()
    assert whole["points"] == 60 and not whole["reduced"] and whole["channels"]["value"]["max"][-1] == 59 * 59
    assert whole["first"] == 1592250720000 and whole["last"] == 1592250779000
    small = api.get(f"/api/tasks/{ok}/timeseries/ts?start=1592250720000&end=1592250779000&width=10").json()
    assert small["reduced"] and len(small["x"]) == 10 and small["channels"]["value"]["max"][-1] == 59 * 59
    refused = api.get(f"/api/tasks/{broken}/timeseries/ts")
    assert refused.status_code == 422 and "bad.csv" in refused.json()["detail"] and "at least 2" in refused.text
    far = api.get(f"/api/tasks/{remote}/timeseries/ts")
    assert far.status_code == 422 and "not fetched" in far.json()["detail"]
    assert api.get(f"/api/tasks/{ok}/timeseries/ts?start=soon").status_code == 422
    assert api.get(f"/api/tasks/{ok}/timeseries/nothing").status_code == 404

    saved = api.post(f"/api/tasks/{ok}/annotations", json={"result": [LS_RANGE, LS_KIND]})
    assert saved.status_code == 201, saved.text
    for bad_value, words in (({"start": "tomorrow"}, "does not match timeFormat"),
                             ({"start": "2020-06-15 19:52:30"}, "is after value.end"),
                             ({"instant": "no"}, "value.instant must be true or false")):
        wrong = {**LS_RANGE, "value": {**LS_RANGE["value"], **bad_value}}
        refused = api.post(f"/api/tasks/{ok}/annotations", json={"result": [wrong]})
        assert refused.status_code == 400 and words in refused.text, (bad_value, refused.text)
    exported = api.get(f"/api/projects/{project['id']}/export?exportType=JSON").json()
    result = next(t for t in exported if t["id"] == ok)["annotations"][0]["result"]
    assert [r["value"] for r in result] == [LS_RANGE["value"], LS_KIND["value"]]
    minimal = api.get(f"/api/projects/{project['id']}/export?exportType=JSON_MIN").json()
    row = next(t for t in minimal if t.get("csv") == good)
    assert row["label"][0]["timeserieslabels"] == ["Run"] and row["label"][0]["start"] == "2020-06-15 19:52:10"
    assert api.get(f"/api/projects/{project['id']}/export?exportType=CSV").status_code == 200
