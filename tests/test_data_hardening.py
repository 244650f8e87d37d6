"""What a review of the data code found, kept fixed: concurrent writers on PostgreSQL, who may set
ground truth, blind annotators in the task list, spreadsheet formulas, odd files."""

from __future__ import annotations

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor

from tests.helpers import browser, text_of
from tests.test_export import NER_TEXT, span
from tests.test_import import upload
from tests.test_tasks_api import member, token_of


def test_parallel_annotations_and_tasks_keep_counters_exact(server, api, ner_project, make_user):
    task = api.post("/api/tasks", json={"project": ner_project["id"], "data": {"text": NER_TEXT}}).json()
    tokens = [token_of(server, make_user()) for _ in range(12)]
    for user_token in tokens:
        me = server.client(token=user_token).get("/api/current-user/whoami").json()["id"]
        api.post(f"/api/projects/{ner_project['id']}/members", json={"user": me, "role": "annotator"})

    def annotate(user_token: str) -> int:
        with server.client(token=user_token) as client:
            return client.post(f"/api/tasks/{task['id']}/annotations", json={"result": []}).status_code

    def create(i: int) -> int:
        with server.client(token=server.admin_token) as client:
            return client.post("/api/tasks", json={"project": ner_project["id"], "data": {"text": f"t{i}"}}).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        assert list(pool.map(annotate, tokens)) == [201] * 12
        assert list(pool.map(create, range(12))) == [201] * 12
    project = api.get(f"/api/projects/{ner_project['id']}").json()
    assert project["total_annotations_number"] == 12 and project["task_number"] == 13
    assert api.get(f"/api/tasks/{task['id']}").json()["total_annotations"] == 12
    inner = [t["inner_id"] for t in api.get(f"/api/tasks?project={ner_project['id']}&page_size=100").json()["tasks"]]
    assert sorted(inner) == list(range(1, 14))


def test_only_project_reviewers_set_ground_truth(server, api, ner_project, make_user):
    task = api.post("/api/tasks", json={"project": ner_project["id"], "data": {"text": NER_TEXT}}).json()
    _, annotator = member(server, api, ner_project, "annotator", make_user)
    mine = annotator.post(f"/api/tasks/{task['id']}/annotations", json={"result": []}).json()
    refused = annotator.patch(f"/api/annotations/{mine['id']}", json={"ground_truth": True})
    assert refused.status_code == 400 and "ground_truth" in refused.json()["validation_errors"]
    assert api.patch(f"/api/annotations/{mine['id']}", json={"ground_truth": True}).json()["ground_truth"] is True


def test_annotators_do_not_see_who_else_annotated(server, api, ner_project, make_user):
    task = api.post("/api/tasks", json={"project": ner_project["id"], "data": {"text": NER_TEXT}}).json()
    first, first_api = member(server, api, ner_project, "annotator", make_user)
    second, _ = member(server, api, ner_project, "annotator", make_user)
    first_api.post(f"/api/tasks/{task['id']}/annotations", json={"result": []})
    client = browser(server, second["email"], second["password"])
    page = client.get(f"/projects/{ner_project['id']}/tasks")
    assert first["email"] not in page.text
    filtered = client.get(f"/projects/{ner_project['id']}/tasks?annotator={first['id']}")
    assert text_of(filtered, ".table-summary")[0].startswith("No tasks")


def test_csv_cells_cannot_become_formulas_and_data_keeps_its_column(api, make_project, sample_config):
    project = make_project(label_config=sample_config("sentiment.xml"))
    tasks = [{"data": {"review": "=HYPERLINK(\"https://evil\")", "sentiment": "from the data"},
              "annotations": [{"result": [{"id": "c", "from_name": "sentiment", "to_name": "review", "type": "choices",
                                           "value": {"choices": ["Positive"]}}]}]},
             {"data": {"review": "fine", "other": "+1 later key"}}]
    api.post(f"/api/projects/{project['id']}/import", json=tasks)
    text = api.get(f"/api/projects/{project['id']}/export?exportType=CSV&download_all_tasks=true").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["review"] == "'=HYPERLINK(\"https://evil\")"
    assert rows[0]["sentiment"] == "Positive" and rows[0]["_data_sentiment"] == "from the data"
    assert rows[1]["other"] == "'+1 later key"


def test_conll_starts_every_entity_with_b(api, ner_project):
    text = "Welcome to the new Acme Corp office"
    start = text.index(" Acme")  # a selection that began on the space before the name
    result = [{"id": "s", "from_name": "label", "to_name": "text", "type": "labels",
               "value": {"start": start, "end": start + 10, "text": text[start:start + 10], "labels": ["ORG"]}}]
    api.post(f"/api/projects/{ner_project['id']}/import", json=[{"data": {"text": text}, "annotations": [{"result": result}]}])
    lines = api.get(f"/api/projects/{ner_project['id']}/export?exportType=CONLL2003").text.splitlines()
    assert "Acme -X- _ B-ORG" in lines and "Corp -X- _ I-ORG" in lines and "new -X- _ O" in lines


def test_odd_files_are_errors_not_crashes(api, ner_project):
    cases = [
        ("bom.jsonl", b"\xef\xbb\xbf" + b'{"text": "with a byte-order mark"}\n', None),
        ("big.json", b'[{"text": "x", "n": 100000000000000000000000}]', "number too large"),
        ("latin.csv", "text\ncaf\xe9\n".encode("latin-1"), "not UTF-8"),
        ("deep.json", b'{"text": "x", "d": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
        ("wide.csv", b"text\n" + b"x" * 200_000 + b"\n", None),
    ]
    for name, content, words in cases:
        response = upload(api, ner_project["id"], name, content)
        if words is None:
            assert response.status_code == 201, (name, response.text[:300])
        else:
            assert response.status_code == 400 and words in response.text, (name, response.text[:300])


def test_unknown_nested_author_is_an_error(api, ner_project):
    task = {"data": {"text": NER_TEXT}, "annotations": [{"completed_by": {"id": 99999}, "result": []}]}
    response = api.post(f"/api/projects/{ner_project['id']}/import", json=task)
    assert response.status_code == 400 and "99999" in response.text


def test_unknown_labels_are_kept_and_flagged(api, ner_project):
    result = [span(NER_TEXT, "Ada Lovelace", "ALIEN", "a")]
    response = api.post(f"/api/projects/{ner_project['id']}/import",
                        json=[{"data": {"text": NER_TEXT}, "predictions": [{"result": result}]}])
    assert response.status_code == 201
    assert any("'ALIEN' are not in the config (kept)" in w for w in response.json()["warnings"])


def test_search_finds_underscores_and_percent_signs(server, api, ner_project):
    api.post(f"/api/projects/{ner_project['id']}/import", json=[{"text": "file_name 100%"}, {"text": "filename 100"}])
    client = browser(server)
    found = client.get(f"/projects/{ner_project['id']}/tasks?q=file_name")
    assert text_of(found, ".table-summary")[0].startswith("Tasks 1–1 of 1")
    assert text_of(client.get(f"/projects/{ner_project['id']}/tasks?q=100%25"), ".table-summary")[0].startswith(
        "Tasks 1–1 of 1")


def test_a_refused_second_file_keeps_no_first_file(server, api, ner_project):
    response = api.post(f"/api/projects/{ner_project['id']}/import",
                        files=[("file", ("ok.jsonl", b'{"text": "x"}\n')), ("file", ("bad.exe", b"MZ"))])
    assert response.status_code == 400
    assert not server.query("SELECT id FROM lw_file_upload WHERE project = $1", ner_project["id"])
    assert json.loads(api.get(f"/api/projects/{ner_project['id']}").text)["task_number"] == 0


def test_annotating_during_an_export_does_not_break_it(server, api, ner_project):
    """The export reads one snapshot: a task annotated half-way is neither counted nor written."""
    tasks = [{"data": {"text": f"task {i}"}, "annotations": [{"result": []}]} for i in range(2500)] + [{"data": {"text": "late"}}]
    api.post(f"/api/projects/{ner_project['id']}/import", json=tasks)
    last = api.get(f"/api/tasks?project={ner_project['id']}&page=26&page_size=100").json()["tasks"][-1]
    with api.stream("GET", f"/api/projects/{ner_project['id']}/export?exportType=JSONL") as stream:
        chunks = stream.iter_bytes()
        received = next(chunks)
        assert api.post(f"/api/tasks/{last['id']}/annotations", json={"result": []}).status_code == 201
        received += b"".join(chunks)
    assert len(received.decode().splitlines()) == 2500
