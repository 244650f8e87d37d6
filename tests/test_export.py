"""Exports read by the tools people feed them to: spaCy's convert for CoNLL, pycocotools for COCO,
Python's csv and zipfile for the rest; filters Label Studio lacks; formats offered per config."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.test_import import png, tasks_of

NER_TEXT = "Ada Lovelace joined Kestrel Labs in Reykjavík."


def span(text: str, word: str, label: str, rid: str) -> dict:
    start = text.index(word)
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": start + len(word), "text": word, "labels": [label]}}


def ner_tasks() -> list[dict]:
    return [{"data": {"text": NER_TEXT}, "annotations": [{"result": [
                span(NER_TEXT, "Ada Lovelace", "PERSON", "a"), span(NER_TEXT, "Kestrel Labs", "ORG", "b"),
                span(NER_TEXT, "Reykjavík", "LOCATION", "c")]}]},
            {"data": {"text": "Nobody here."}}]


def test_formats_follow_the_config(api, ner_project, make_project, sample_config):
    offered = {f["name"]: f["disabled"] for f in api.get(f"/api/projects/{ner_project['id']}/export/formats").json()}
    assert not offered["CONLL2003"] and offered["COCO"] and offered["YOLO"]
    boxes = make_project(label_config=sample_config("bbox.xml"))
    offered = {f["name"]: f["disabled"] for f in api.get(f"/api/projects/{boxes['id']}/export/formats").json()}
    assert not offered["COCO"] and not offered["YOLO"] and not offered["VOC"] and offered["CONLL2003"]
    refused = api.get(f"/api/projects/{ner_project['id']}/export?exportType=COCO")
    assert refused.status_code == 400 and "use one of" in refused.json()["validation_errors"]["exportType"][0]


def test_only_annotated_tasks_unless_all_are_asked_for(api, ner_project):
    api.post(f"/api/projects/{ner_project['id']}/import", json=ner_tasks())
    assert len(api.get(f"/api/projects/{ner_project['id']}/export?exportType=JSON").json()) == 1
    response = api.get(f"/api/projects/{ner_project['id']}/export?exportType=JSON&download_all_tasks=true")
    assert len(response.json()) == 2 and response.headers["x-labelwell-records"] == "2"
    assert "attachment" in response.headers["content-disposition"]
    lines = api.get(f"/api/projects/{ner_project['id']}/export?exportType=JSONL&download_all_tasks=true").text.splitlines()
    assert [json.loads(line)["data"]["text"] for line in lines] == [NER_TEXT, "Nobody here."]


def test_conll_export_is_read_by_spacy(api, ner_project, tmp_path):
    api.post(f"/api/projects/{ner_project['id']}/import", json=ner_tasks())
    conll = api.get(f"/api/projects/{ner_project['id']}/export?exportType=CONLL2003").text
    source = tmp_path / "export.conll"
    source.write_text(conll)
    done = subprocess.run([sys.executable, "-m", "spacy", "convert", str(source), str(tmp_path), "--converter", "ner",
                           "--n-sents", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    import spacy
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(tmp_path / "export.spacy").get_docs(spacy.blank("en").vocab))
    doc = next(d for d in docs if "Ada" in d.text)  # spaCy reads the -DOCSTART- line as a document of its own
    assert [(e.text, e.label_) for e in doc.ents] == [("Ada Lovelace", "PERSON"), ("Kestrel Labs", "ORG"),
                                                          ("Reykjavík", "LOCATION")]  # the final period is a token


def test_json_min_and_csv(api, make_project, sample_config, make_user):
    project = make_project(label_config=sample_config("sentiment.xml"))
    result = [{"id": "s", "from_name": "sentiment", "to_name": "review", "type": "choices", "value": {"choices": ["Positive"]}},
              {"id": "r", "from_name": "stars", "to_name": "review", "type": "rating", "value": {"rating": 4}}]
    api.post(f"/api/projects/{project['id']}/import", json=[{"data": {"review": 'Great, "really"'},
                                                             "annotations": [{"result": result, "lead_time": 3.5}]}])
    rows = api.get(f"/api/projects/{project['id']}/export?exportType=JSON_MIN").json()
    assert rows[0]["review"] == 'Great, "really"' and rows[0]["sentiment"] == "Positive"
    assert rows[0]["stars"] == [{"rating": 4}] and rows[0]["lead_time"] == 3.5
    table = list(csv.DictReader(io.StringIO(api.get(f"/api/projects/{project['id']}/export?exportType=CSV").text)))
    assert table[0]["review"] == 'Great, "really"' and table[0]["sentiment"] == "Positive"
    assert json.loads(table[0]["stars"]) == [{"rating": 4}]
    tsv = api.get(f"/api/projects/{project['id']}/export?exportType=TSV").text
    assert list(csv.DictReader(io.StringIO(tsv), delimiter="\t"))[0]["sentiment"] == "Positive"


def box(x: float, y: float, w: float, h: float, label: str, rid: str) -> dict:
    return {"id": rid, "from_name": "box", "to_name": "image", "type": "rectanglelabels", "original_width": 64,
            "original_height": 48, "value": {"x": x, "y": y, "width": w, "height": h, "rotation": 0,
                                             "rectanglelabels": [label]}}


def boxes_project(api, make_project, sample_config) -> tuple[dict, list[int]]:
    project = make_project(label_config=sample_config("bbox.xml"))
    api.post(f"/api/projects/{project['id']}/import", files=[("file", ("street.png", png(64, 48)))])
    task = tasks_of(api, project["id"])[0]
    created = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [
        box(25, 50, 50, 25, "Car", "b1"), box(0, 0, 10, 10, "Sign", "b2")]})
    assert created.status_code == 201, created.text
    return project, [task["id"]]


def test_coco_export_is_read_by_pycocotools(api, make_project, sample_config, tmp_path):
    project, _ = boxes_project(api, make_project, sample_config)
    path = tmp_path / "coco.json"
    path.write_bytes(api.get(f"/api/projects/{project['id']}/export?exportType=COCO").content)
    from pycocotools.coco import COCO

    coco = COCO(str(path))
    assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == ["Car", "Pedestrian", "Sign"]
    image = coco.loadImgs(coco.getImgIds())[0]
    assert (image["width"], image["height"]) == (64, 48) and image["file_name"].endswith("street.png")
    car = coco.getCatIds(catNms=["Car"])[0]
    assert [a["bbox"] for a in coco.loadAnns(coco.getAnnIds(catIds=[car]))] == [[16.0, 24.0, 32.0, 12.0]]


def test_yolo_and_voc_exports(api, make_project, sample_config):
    project, _ = boxes_project(api, make_project, sample_config)
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"/api/projects/{project['id']}/export?exportType=YOLO").content))
    classes = archive.read("classes.txt").decode().split()
    label_file = next(n for n in archive.namelist() if n.startswith("labels/"))
    lines = archive.read(label_file).decode().splitlines()
    assert lines[0] == f"{classes.index('Car')} 0.500000 0.625000 0.500000 0.250000"
    voc = zipfile.ZipFile(io.BytesIO(api.get(f"/api/projects/{project['id']}/export?exportType=VOC").content))
    xml = voc.read(next(n for n in voc.namelist() if n.startswith("Annotations/"))).decode()
    assert "<name>Car</name>" in xml and "<xmin>16</xmin><ymin>24</ymin><xmax>48</xmax><ymax>36</ymax>" in xml
    assert Path(label_file).stem.rsplit("-", 1)[0] in xml  # the label file is <image stem>-<task id>


def test_filters_label_studio_lacks(api, ner_project, make_user):
    other = make_user()
    me = api.get("/api/current-user/whoami").json()["id"]
    tasks = [{"data": {"text": "one"}, "annotations": [{"completed_by": me, "result": [], "ground_truth": True,
                                                         "updated_at": "2020-01-01T00:00:00Z"}]},
             {"data": {"text": "two"}, "annotations": [{"completed_by": other["id"], "result": [],
                                                         "updated_at": "2026-06-01T00:00:00Z"}]}]
    api.post(f"/api/projects/{ner_project['id']}/import", json=tasks)
    base = f"/api/projects/{ner_project['id']}/export?exportType=JSON"

    def texts(query: str) -> list[str]:
        return [t["data"]["text"] for t in api.get(base + query).json()]

    assert texts("&only_ground_truth=true") == ["one"]
    assert texts(f"&annotators={other['id']}") == ["two"]
    assert texts("&since=2025-01-01") == ["two"]
    ids = [t["id"] for t in tasks_of(api, ner_project["id"])]
    assert texts(f"&ids={ids[1]}") == ["two"]
    assert api.get(base + "&since=yesterday").status_code == 400


def test_annotators_cannot_export(server, api, ner_project, make_user):
    user = make_user()
    api.post(f"/api/projects/{ner_project['id']}/members", json={"user": user["id"], "role": "annotator"})
    token = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]
    assert server.client(token=token).get(f"/api/projects/{ner_project['id']}/export").status_code == 403


def test_background_export_leaves_a_file(server, api, ner_project):
    """A snapshot (Label Studio's /exports) is written by the worker, then downloads in any format."""
    if not server.workers:
        server.start_worker()
    api.post(f"/api/projects/{ner_project['id']}/import", json=ner_tasks())
    made = api.post(f"/api/projects/{ner_project['id']}/exports", json={"title": "job"})
    assert made.status_code == 201 and made.json()["status"] in ("in_progress", "completed")
    from tests.test_export_snapshots import wait_status

    done = wait_status(api, ner_project["id"], made.json()["id"])
    assert done["counters"]["task_number"] == 2
    download = api.get(f"/api/projects/{ner_project['id']}/exports/{done['id']}/download")
    assert [t["data"]["text"] for t in download.json()] == [NER_TEXT, "Nobody here."]
    refused = api.get(f"/api/projects/{ner_project['id']}/exports/{done['id']}/download?exportType=COCO")
    assert refused.status_code == 400


def test_background_export_from_the_page(page, server, api, ner_project):
    if not server.workers:
        server.start_worker()
    api.post(f"/api/projects/{ner_project['id']}/import", json=ner_tasks())
    page.goto("/login")
    page.fill("#email", server.admin_email)
    page.fill("#password", server.admin_password)
    page.press("#password", "Enter")
    page.wait_for_url("**/projects")
    page.goto(f"/projects/{ner_project['id']}")
    page.select_option("#export-format", "CONLL2003")
    page.fill("#export-title", "From the browser")
    page.click("text=Make a snapshot")
    from playwright.sync_api import expect

    link = page.locator("#export-snapshots a[download]", has_text="CONLL2003")
    expect(link).to_be_visible(timeout=60_000)
    with page.expect_download() as info:
        link.click()
    assert "B-PERSON" in Path(info.value.path()).read_text()


ASR = """<View>
  <Audio name="audio" value="$audio"/>
  <TextArea name="transcription" toName="audio" rows="2"/>
</View>"""


def wav(seconds: float, rate: int = 8000) -> bytes:
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate)
        w.writeframes(b"\x00\x10" * int(seconds * rate))
    return out.getvalue()


def test_asr_manifest_as_label_studio_writes_it(api, make_project, legacy_sdk, tmp_path):
    project = make_project(label_config=ASR)
    uploaded = api.post(f"/api/projects/{project['id']}/import", files={"file": ("clip.wav", wav(2.0), "audio/wav")})
    assert uploaded.status_code == 201, uploaded.text
    linked = [{"data": {"audio": "https://example.com/talk.mp3"}, "annotations": [{"result": [
        {"id": "t", "from_name": "transcription", "to_name": "audio", "type": "textarea", "original_length": 7.5,
         "value": {"text": ["good evening"]}}]}]},
              {"data": {"audio": "https://example.com/skipped.mp3"}, "annotations": [{"was_cancelled": True, "result": []}]}]
    assert api.post(f"/api/projects/{project['id']}/import", json=linked).status_code == 201
    clip = next(t for t in tasks_of(api, project["id"]) if t["data"]["audio"].startswith("/data/upload/"))
    said = api.post(f"/api/tasks/{clip['id']}/annotations", json={"result": [
        {"from_name": "transcription", "to_name": "audio", "type": "textarea", "value": {"text": ["hello", "again"]}}]})
    assert said.status_code == 201, said.text
    offered = {f["name"] for f in api.get(f"/api/projects/{project['id']}/export/formats").json() if not f["disabled"]}
    assert "ASR_MANIFEST" in offered and "CONLL2003" not in offered
    answer = api.get(f"/api/projects/{project['id']}/export?exportType=ASR_MANIFEST")
    assert answer.status_code == 200, answer.text
    lines = sorted((json.loads(line) for line in answer.text.splitlines()), key=lambda m: m["text"])
    me = str(api.get("/api/current-user/whoami").json()["id"])
    assert lines[0]["audio_filepath"] == "https://example.com/talk.mp3" and lines[0]["duration"] == 7.5
    assert lines[1]["audio_filepath"] == clip["data"]["audio"] and abs(lines[1]["duration"] - 2.0) < 0.05
    assert [m["text"] for m in lines] == ["good evening", "hello"] and lines[1]["annotator"] == me
    assert set(lines[0]) == {"audio_filepath", "duration", "text", "annotator"}  # the skipped task gives no line
    # the legacy SDK's export call (which writes the file where it is told) gets the same lines
    saved = legacy_sdk.get_project(project["id"]).export_tasks(export_type="ASR_MANIFEST",
                                                                export_location=str(tmp_path / "manifest.json"))
    assert Path(saved).read_text() == answer.text
