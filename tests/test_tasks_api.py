"""Label Studio's task, annotation and prediction endpoints: shapes, counters, who sees what."""

from __future__ import annotations

from tests.test_export import NER_TEXT, span


def token_of(server, user: dict) -> str:
    return server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]


def member(server, api, project: dict, role: str, make_user):
    user = make_user(role if role != "reviewer" else "reviewer")
    api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"], "role": role})
    return user, server.client(token=token_of(server, user))


def test_task_list_shape_and_paging(api, ner_project):
    api.post(f"/api/projects/{ner_project['id']}/import", json=[{"text": f"t{i}"} for i in range(5)])
    page = api.get(f"/api/tasks?project={ner_project['id']}&page=2&page_size=2").json()
    assert set(page) == {"tasks", "total", "total_annotations", "total_predictions"}
    assert page["total"] == 5 and [t["data"]["text"] for t in page["tasks"]] == ["t2", "t3"]
    after = page["tasks"][-1]["inner_id"]
    keyset = api.get(f"/api/tasks?project={ner_project['id']}&after={after}&page_size=2").json()["tasks"]
    assert [t["data"]["text"] for t in keyset] == ["t4"]
    assert api.get("/api/tasks").status_code == 400


def test_create_update_delete_task(api, ner_project):
    created = api.post("/api/tasks", json={"project": ner_project["id"], "data": {"text": "hello"}})
    assert created.status_code == 201 and created.json()["inner_id"] == 1
    assert api.post("/api/tasks", json={"project": ner_project["id"], "data": {"body": "x"}}).status_code == 400
    task_id = created.json()["id"]
    assert api.patch(f"/api/tasks/{task_id}", json={"data": {"text": "changed"}}).json()["data"] == {"text": "changed"}
    assert api.delete(f"/api/tasks/{task_id}/").status_code == 204
    assert api.get(f"/api/tasks/{task_id}").status_code == 404
    assert api.get(f"/api/projects/{ner_project['id']}").json()["task_number"] == 0


def test_annotating_keeps_counters_and_annotators_work_blind(server, api, ner_project, make_user):
    task = api.post("/api/tasks", json={"project": ner_project["id"], "data": {"text": NER_TEXT}}).json()
    alice, alice_api = member(server, api, ner_project, "annotator", make_user)
    bob, bob_api = member(server, api, ner_project, "annotator", make_user)
    _, reviewer_api = member(server, api, ner_project, "reviewer", make_user)
    mine = alice_api.post(f"/api/tasks/{task['id']}/annotations",
                          json={"result": [span(NER_TEXT, "Ada Lovelace", "PERSON", "a1")], "lead_time": 12.5})
    assert mine.status_code == 201 and mine.json()["completed_by"] == alice["id"]
    bob_api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [], "was_cancelled": True})
    project = api.get(f"/api/projects/{ner_project['id']}").json()
    assert (project["total_annotations_number"], project["skipped_annotations_number"], project["finished_task_number"]) == (1, 1, 1)
    assert [a["completed_by"] for a in bob_api.get(f"/api/tasks/{task['id']}").json()["annotations"]] == [bob["id"]]
    assert bob_api.get(f"/api/annotations/{mine.json()['id']}").status_code == 404
    assert len(reviewer_api.get(f"/api/tasks/{task['id']}/annotations").json()) == 2
    assert reviewer_api.patch(f"/api/annotations/{mine.json()['id']}", json={"result": []}).status_code == 403
    changed = alice_api.patch(f"/api/annotations/{mine.json()['id']}", json={"was_cancelled": True})
    assert changed.json()["was_cancelled"] is True
    assert api.get(f"/api/projects/{ner_project['id']}").json()["finished_task_number"] == 0
    assert alice_api.delete(f"/api/annotations/{mine.json()['id']}").status_code == 204
    assert api.get(f"/api/projects/{ner_project['id']}").json()["skipped_annotations_number"] == 1


def test_bad_annotation_results_are_refused_with_the_reason(api, ner_project):
    task = api.post("/api/tasks", json={"project": ner_project["id"], "data": {"text": "short"}}).json()
    bad = [{"id": "x", "from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": 0, "end": 50, "labels": ["PERSON"]}}]
    response = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": bad})
    assert response.status_code == 400
    assert "outside the text" in response.json()["validation_errors"]["result"][0]


def test_other_projects_tasks_are_not_found(server, api, ner_project, make_project, make_user):
    secret = make_project()
    hidden = api.post("/api/tasks", json={"project": secret["id"], "data": {}}).json()
    _, outsider = member(server, api, ner_project, "annotator", make_user)
    assert outsider.get(f"/api/tasks/{hidden['id']}").status_code == 404
    assert outsider.get(f"/api/tasks?project={secret['id']}").status_code == 404
    assert outsider.post(f"/api/tasks/{hidden['id']}/annotations", json={"result": []}).status_code == 404
    assert outsider.get(f"/api/predictions?task={hidden['id']}").status_code == 404
