"""Audio segments as CSV (AUDIO_SEGMENTS_CSV, issue 18): a row per segment of every finished
annotation, with the task, annotation, annotator, audio address, seconds, channel, labels and the
transcript a per-region TextArea gave the same region; cancelled work and other results give none."""

from __future__ import annotations

import csv
import io
import json

CONFIG = """<View>
  <Labels name="labels" toName="audio"><Label value="Speech"/><Label value="Noise"/></Labels>
  <Audio name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" perRegion="true"/>
  <Choices name="quality" toName="audio"><Choice value="good"/><Choice value="bad"/></Choices>
</View>"""


def segment(rid: str, start: float, end: float, labels: list[str], text: str | None = None) -> list[dict]:
    value = {"start": start, "end": end, "channel": 0}
    items = [{"id": rid, "from_name": "labels", "to_name": "audio", "type": "labels", "original_length": 9.0,
              "value": {**value, "labels": labels}}]
    if text is not None:
        items.append({"id": rid, "from_name": "transcription", "to_name": "audio", "type": "textarea",
                      "original_length": 9.0, "value": {**value, "text": [text]}})
    return items


def test_a_row_per_segment_with_its_transcript(api, make_project):
    project = make_project(label_config=CONFIG)
    tasks = [{"data": {"audio": "https://example.com/a.wav"}, "annotations": [{"result": [
                 *segment("s1", 0.5, 1.25, ["Speech"], "=hello, world"), *segment("s2", 2.0, 3.0, ["Noise"]),
                 {"id": "q", "from_name": "quality", "to_name": "audio", "type": "choices",
                  "value": {"choices": ["good"]}}]}]},
             {"data": {"audio": "https://example.com/b.wav"}, "annotations": [
                 {"was_cancelled": True, "result": segment("x", 1.0, 2.0, ["Speech"])}]},
             {"data": {"audio": "https://example.com/c.wav"}}]
    assert api.post(f"/api/projects/{project['id']}/import", json=tasks).status_code == 201
    offered = {f["name"] for f in api.get(f"/api/projects/{project['id']}/export/formats").json() if not f["disabled"]}
    assert "AUDIO_SEGMENTS_CSV" in offered
    answer = api.get(f"/api/projects/{project['id']}/export?exportType=AUDIO_SEGMENTS_CSV")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == ["task_id", "annotation_id", "annotator", "audio", "start", "end", "channel", "labels",
                             "transcript"]
    assert len(rows) == 2  # the cancelled annotation and the unlabelled task give none
    first, second = rows
    task_id = api.get(f"/api/tasks?project={project['id']}&fields=all").json()["tasks"][0]["id"]
    (annotation,) = api.get(f"/api/tasks/{task_id}/annotations").json()
    assert first["task_id"] == str(task_id) and first["annotation_id"] == str(annotation["id"])
    assert first["annotator"] == str(annotation["completed_by"])
    assert first["audio"] == "https://example.com/a.wav"
    assert (float(first["start"]), float(first["end"]), first["channel"]) == (0.5, 1.25, "0")
    assert json.loads(first["labels"]) == ["Speech"]
    assert first["transcript"] == "'=hello, world"  # a spreadsheet shows it, does not run it
    assert (float(second["start"]), float(second["end"]), second["transcript"]) == (2.0, 3.0, "")
    assert json.loads(second["labels"]) == ["Noise"]


def test_not_offered_without_audio_segments(api, make_project):
    project = make_project(label_config='<View><Audio name="audio" value="$audio"/>'
                                         '<TextArea name="t" toName="audio"/></View>')
    formats = {f["name"]: f for f in api.get(f"/api/projects/{project['id']}/export/formats").json()}
    assert formats.get("AUDIO_SEGMENTS_CSV", {"disabled": True})["disabled"]
