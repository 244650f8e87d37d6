"""The data manager's actions and model versions, driven through Label Studio's own SDKs (the legacy
`Client` and 2.x `LabelStudio`) as a user's script would, on both engines."""

from __future__ import annotations

import pytest

CONFIG = ('<View><Text name="text" value="$text"/><Choices name="mood" toName="text">'
          '<Choice value="pos"/><Choice value="neg"/></Choices></View>')


def result(choice: str) -> list[dict]:
    return [{"from_name": "mood", "to_name": "text", "type": "choices", "value": {"choices": [choice]}}]


def setup(api, make_project, texts: list[str]) -> tuple[dict, list[int]]:
    project = make_project(label_config=CONFIG)
    assert api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t in texts]).status_code == 201
    tasks = api.get(f"/api/tasks?project={project['id']}&page_size=100").json()["tasks"]
    return project, [t["id"] for t in sorted(tasks, key=lambda t: t["inner_id"])]


def annotate(client, task_id: int, choice: str = "pos") -> dict:
    response = client.post(f"/api/tasks/{task_id}/annotations", json={"result": result(choice)})
    assert response.status_code == 201, response.text
    return response.json()


def predict(api, task_id: int, version: str, choice: str = "neg") -> None:
    response = api.post("/api/predictions", json={"task": task_id, "result": result(choice), "model_version": version})
    assert response.status_code == 201, response.text


def counters(api, project_id: int) -> tuple[int, int, int, int]:
    p = api.get(f"/api/projects/{project_id}").json()
    return p["task_number"], p["finished_task_number"], p["total_annotations_number"], p["total_predictions_number"]


def task_ids(api, project_id: int) -> list[int]:
    return sorted(t["id"] for t in api.get(f"/api/tasks?project={project_id}&page_size=100").json()["tasks"])


def member(server, api, make_user, project_id: int):
    user = make_user()
    api.post(f"/api/projects/{project_id}/members", json={"user": user["id"]})
    token = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]
    return user, server.client(token=token)


def test_actions_list_as_label_studio(api, sdk, make_project):
    project, ids = setup(api, make_project, ["a"])
    predict(api, ids[0], "v7")
    listed = sdk.actions.list(project=project["id"])
    assert [a.id for a in listed] == ["remove_duplicates", "retrieve_tasks_predictions", "predictions_to_annotations",
                                      "delete_tasks", "delete_tasks_annotations", "delete_tasks_predictions"]
    raw = api.get(f"/api/dm/actions/?project={project['id']}").json()
    assert all({"id", "title", "order", "permission", "experimental", "dialog", "hidden"} <= set(a) for a in raw)
    form = next(a for a in raw if a["id"] == "predictions_to_annotations")["dialog"]["form"]
    assert form[0]["fields"][0]["name"] == "model_version" and form[0]["fields"][0]["options"] == ["v7"]
    assert api.post(f"/api/dm/actions?id=nope&project={project['id']}").status_code == 400
    missing = api.post(f"/api/dm/actions?project={project['id']}", json={})
    assert missing.status_code == 400 and "id" in missing.json()["validation_errors"]


def test_deletes_through_both_sdks_keep_counters(server, api, legacy_sdk, sdk, make_project, make_user):
    project, ids = setup(api, make_project, [f"t{i}" for i in range(6)])
    pid = project["id"]
    _, other = member(server, api, make_user, pid)
    annotate(api, ids[0])
    annotate(api, ids[1])
    annotate(other, ids[1], "neg")
    for task_id in ids[:3]:
        predict(api, task_id, "v1")
    assert counters(api, pid) == (6, 2, 3, 3)
    # 2.x: predictions of one task
    sdk.actions.create(id="delete_tasks_predictions", project=pid, selected_items={"all": False, "included": [ids[0]]})
    assert counters(api, pid) == (6, 2, 3, 2)
    legacy = legacy_sdk.get_project(pid)
    assert legacy.delete_tasks([ids[5]]).status_code == 200
    assert task_ids(api, pid) == ids[:5] and counters(api, pid) == (5, 2, 3, 2)
    # one annotator's annotations, as Label Studio's dialog form sends it
    answer = api.post(f"/api/dm/actions?id=delete_tasks_annotations&project={pid}",
                      json={"selectedItems": {"all": True, "excluded": []}, "annotator": str(_id(api))}).json()
    assert answer == {"processed_items": 2, "detail": "Deleted 2 annotations"}
    assert counters(api, pid) == (5, 1, 1, 2)
    sdk.actions.create(id="delete_tasks_annotations", project=pid, selected_items={"all": True, "excluded": [ids[4]]})
    assert counters(api, pid) == (5, 0, 0, 2)
    assert legacy.delete_annotators_assignment([ids[0]])["processed_items"] == 0
    response = legacy.delete_all_tasks(excluded_ids=[ids[2]])
    assert response.json()["processed_items"] == 4 and task_ids(api, pid) == [ids[2]]
    assert counters(api, pid) == (1, 0, 0, 1)
    sdk.tasks.delete_all_tasks(id=pid)
    assert task_ids(api, pid) == [] and counters(api, pid) == (0, 0, 0, 0)
    assert api.delete(f"/api/projects/{pid}/tasks").status_code == 204
    # annotators may not run actions
    assert other.post(f"/api/dm/actions?id=delete_tasks&project={pid}", json={}).status_code == 403
    assert other.delete(f"/api/projects/{pid}/tasks/").status_code == 403


def _id(api) -> int:
    return api.get("/api/current-user/whoami").json()["id"]


def test_predictions_to_annotations(api, legacy_sdk, sdk, make_project):
    project, ids = setup(api, make_project, ["a", "b", "c", "d"])
    pid = project["id"]
    for task_id in ids[:3]:
        predict(api, task_id, "v1", "neg")
    predict(api, ids[0], "v2", "pos")  # newer, of another version
    annotate(api, ids[2])  # the admin's own: the task is skipped
    legacy = legacy_sdk.get_project(pid)
    answer = legacy.create_annotations_from_predictions(model_versions=["v1"])
    assert answer["detail"] == "Created 2 annotations"
    v1 = next(p for p in api.get(f"/api/predictions?task={ids[0]}").json() if p["model_version"] == "v1")
    first = api.get(f"/api/tasks/{ids[0]}/annotations").json()
    assert len(first) == 1 and first[0]["result"][0]["value"] == {"choices": ["neg"]}  # v1's, not the newer v2's
    assert first[0]["completed_by"] == _id(api) and first[0].get("parent_prediction", v1["id"]) == v1["id"]
    tasks = {t["id"]: t for t in api.get(f"/api/tasks?project={pid}&page_size=100").json()["tasks"]}
    assert [tasks[i]["is_labeled"] for i in ids] == [True, True, True, False]
    assert counters(api, pid)[1:3] == (3, 3)
    # again: nothing new, whatever version
    assert legacy.create_annotations_from_predictions()["detail"] == "Created 0 annotations"
    bad = api.post(f"/api/dm/actions?id=predictions_to_annotations&project={pid}", json={"model_version": 5})
    assert bad.status_code == 400 and "model_version" in bad.json()["validation_errors"]
    # 2.x, newest prediction per task: task 4 has none, so nothing is made
    sdk.actions.create(id="predictions_to_annotations", project=pid, selected_items={"all": False, "included": [ids[3]]})
    assert counters(api, pid)[2] == 3


def test_remove_duplicates_moves_annotations(server, api, sdk, make_project, make_user):
    project, ids = setup(api, make_project, ["same", "same", "same", "twin", "twin", "alone"])
    pid = project["id"]
    _, other = member(server, api, make_user, pid)
    annotate(api, ids[1])
    annotate(other, ids[2])
    annotate(api, ids[3])
    annotate(api, ids[4])  # the admin annotated both twins: moving would give them two on one task
    answer = api.post(f"/api/dm/actions?id=remove_duplicates&project={pid}", json={}).json()
    assert answer["processed_items"] == 2 and "moved 1 annotations" in answer["detail"] and "kept 1" in answer["detail"]
    assert task_ids(api, pid) == [ids[1], ids[3], ids[4], ids[5]]
    assert len(api.get(f"/api/tasks/{ids[1]}/annotations").json()) == 2
    assert counters(api, pid) == (4, 3, 4, 0)
    sdk.actions.create(id="remove_duplicates", project=pid)  # nothing left to merge
    assert task_ids(api, pid) == [ids[1], ids[3], ids[4], ids[5]]


def test_model_versions(server, api, legacy_sdk, make_project, make_user):
    project, ids = setup(api, make_project, ["a", "b", "c", "d"])
    pid = project["id"]
    for task_id in ids[:2]:
        predict(api, task_id, "v1")
    predict(api, ids[0], "v2")
    legacy = legacy_sdk.get_project(pid)
    assert legacy.get_model_versions() == {"v1": 2, "v2": 1}
    assert legacy.get_predictions_coverage() == {"v1": 0.5, "v2": 0.25}
    extended = api.get(f"/api/projects/{pid}/model-versions/?extended=true").json()
    assert [v["model_version"] for v in extended["static"]] == ["v2", "v1"] and extended["live"] is None
    assert extended["static"][0]["count"] == 1 and extended["static"][0]["latest"]
    api.patch(f"/api/projects/{pid}", json={"model_version": "v3"})
    assert api.get(f"/api/projects/{pid}/model-versions").json() == {"v1": 2, "v2": 1, "v3": 0}
    _, reader = member(server, api, make_user, pid)
    with reader:
        assert reader.get(f"/api/projects/{pid}/model-versions").status_code == 200
    _, stranger = member(server, api, make_user, make_project()["id"])
    with stranger:
        assert stranger.get(f"/api/projects/{pid}/model-versions").status_code == 404


@pytest.mark.parametrize("body", [{"selectedItems": {"all": False, "included": "x"}}, {"selectedItems": 3}])
def test_bad_selections_name_the_field(api, make_project, body):
    project = make_project()
    response = api.post(f"/api/dm/actions?id=delete_tasks&project={project['id']}", json=body)
    assert response.status_code == 400 and any(k.startswith("selectedItems") for k in response.json()["validation_errors"])


def test_filters_narrow_the_selection(api, sdk, make_project):
    project, ids = setup(api, make_project, ["a", "b", "c", "d"])
    filters = {"conjunction": "and", "items": [{"filter": "filter:tasks:id", "operator": "greater", "type": "Number",
                                                "value": ids[1]}]}
    sdk.actions.create(id="delete_tasks", project=project["id"], filters=filters,
                       selected_items={"all": True, "excluded": [ids[3]]})
    assert task_ids(api, project["id"]) == [ids[0], ids[1], ids[3]]
    assert counters(api, project["id"])[0] == 3
