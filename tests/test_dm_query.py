"""The data manager's query language on GET /api/tasks, driven through Label Studio's own SDK in both
generations (legacy `Client`, 2.x `LabelStudio`), as a user's script would."""

from __future__ import annotations

import json

import pytest
from label_studio_sdk.data_manager import Column, Filters, Operator, Type

from tests.test_tasks_api import member

CONFIG = ('<View><Text name="text" value="$text"/><Choices name="c" toName="text">'
          '<Choice value="a"/><Choice value="b"/></Choices></View>')
CHOICE = [{"from_name": "c", "to_name": "text", "type": "choices", "value": {"choices": ["a"]}}]
N = 205  # three pages of the SDK's 100


@pytest.fixture
def dm_project(api, make_project):
    """205 tasks: text "t<i>", n = i, flag = even; tasks 1-3 annotated, 4 skipped; predictions on 1-2."""
    project = make_project(label_config=CONFIG)
    rows = [{"text": f"t{i}" + (" Apple pie" if i == 7 else ""), "n": i, "flag": i % 2 == 0} for i in range(N)]
    assert api.post(f"/api/projects/{project['id']}/import", json=rows).status_code in (200, 201)
    ids = [t["id"] for t in api.get(f"/api/tasks?project={project['id']}&page_size=1000&fields=task_only").json()["tasks"]]
    for task_id in ids[1:4]:
        assert api.post(f"/api/tasks/{task_id}/annotations", json={"result": CHOICE}).status_code == 201
    api.post(f"/api/tasks/{ids[4]}/annotations", json={"result": [], "was_cancelled": True})
    for task_id, score, version in ((ids[1], 0.9, "model-A"), (ids[2], 0.2, "model-B")):
        assert api.post("/api/predictions", json={"task": task_id, "result": CHOICE, "score": score,
                                                  "model_version": version}).status_code == 201
    return {**project, "ids": ids}


def item(column, operator, kind, value):
    return Filters.item(column, operator, kind, value)


def test_legacy_sdk_pages_end_and_filters_select(server, api, legacy_sdk, make_project, dm_project):
    empty = legacy_sdk.get_project(make_project(label_config=CONFIG)["id"])
    assert api.get(f"/api/tasks?project={empty.id}&page=1").status_code == 200  # page 1 of nothing: as LS
    assert api.get(f"/api/tasks?project={empty.id}&page=2").json()["detail"] == "Invalid page."
    assert empty.get_tasks() == [] and empty.get_tasks_ids() == []  # (the SDK loops until that 404)

    project, ids = legacy_sdk.get_project(dm_project["id"]), dm_project["ids"]
    assert project.get_tasks_ids() == ids and len(project.get_tasks()) == N
    assert project.get_labeled_tasks_ids() == ids[1:4]
    assert project.get_unlabeled_tasks_ids() == [ids[0], *ids[4:]]
    assert [t["id"] for t in project.get_labeled_tasks()] == ids[1:4]
    assert len(project.get_unlabeled_tasks()) == N - 3
    past = project.get_paginated_tasks(page=4, page_size=100)
    assert past == {"tasks": [], "end_pagination": True}
    page = project.get_paginated_tasks(page=3, page_size=100)
    assert page["total"] == N and len(page["tasks"]) == 5
    labeled = project.get_paginated_tasks(filters=Filters.create(Filters.AND, [
        item(Column.completed_at, Operator.EMPTY, Type.Datetime, False)]))
    assert labeled["total"] == 3 and labeled["total_annotations"] == 3 and labeled["total_predictions"] == 2
    task = labeled["tasks"][0]
    assert task["annotators"] == [server_admin_id(api)] and task["completed_at"] and task["drafts"] == []
    assert task["predictions_score"] == 0.9 and task["predictions_model_versions"] == "model-A"
    assert task["annotations_ids"] == str(task["annotations"][0]["id"]) and task["storage_filename"] is None

    def select(*items, conjunction=Filters.AND, **kwargs):
        return project.get_tasks_ids(filters=Filters.create(conjunction, list(items)), **kwargs)

    assert select(item(Column.id, Operator.GREATER, Type.Number, Filters.value(ids[-3]))) == ids[-2:]
    assert select(item(Column.inner_id, Operator.IN, Type.Number, Filters.value(2, 4))) == ids[1:4]
    assert select(item(Column.inner_id, Operator.NOT_IN, Type.Number, Filters.value(3, N))) == ids[:2]
    assert select(item(Column.data("n"), Operator.LESS_OR_EQUAL, Type.Number, 1.5)) == ids[:2]
    assert select(item(Column.data("n"), Operator.IN, Type.Number, Filters.value(10, 12))) == ids[10:13]
    assert select(item(Column.data("text"), Operator.CONTAINS, Type.String, "APPLE")) == [ids[7]]
    assert select(item(Column.data("text"), Operator.EQUAL, Type.String, "t9")) == [ids[9]]
    assert len(select(item(Column.data("text"), Operator.NOT_CONTAINS, Type.String, "t1"))) == N - 1 - 10 - 100
    assert select(item(Column.data("flag"), Operator.EQUAL, Type.Boolean, True),
                  item(Column.inner_id, Operator.LESS, Type.Number, 6)) == [ids[0], ids[2], ids[4]]
    assert select(item(Column.data("missing"), Operator.EMPTY, Type.String, False)) == []
    assert select(item(Column.total_annotations, Operator.GREATER, Type.Number, 0),
                  item(Column.cancelled_annotations, Operator.EQUAL, Type.Number, 1), conjunction=Filters.OR) == ids[1:5]
    assert select(item(Column.total_predictions, Operator.GREATER_OR_EQUAL, Type.Number, 1)) == ids[1:3]
    assert select(item(Column.predictions_score, Operator.GREATER, Type.Number, 0.5)) == [ids[1]]
    assert select(item(Column.predictions_model_versions, Operator.CONTAINS, Type.List, "model-b")) == [ids[2]]
    assert select(item(Column.annotators, Operator.CONTAINS, Type.List, server_admin_id(api))) == ids[1:5]
    assert select(item(Column.reviewed, Operator.EQUAL, Type.Boolean, True)) == []
    assert len(select(item(Column.created_at, Operator.GREATER, Type.Datetime, "2000-01-01T00:00:00.000000Z"))) == N
    assert select(item(Column.updated_at, Operator.LESS, Type.Datetime, "2000-01-01T00:00:00Z")) == []
    assert select(item(Column.agreement, Operator.EMPTY, Type.Number, False)) == []
    assert project.get_tasks_ids(ordering=["-" + Column.data("n")])[:3] == ids[::-1][:3]
    assert sorted(project.get_tasks_ids(ordering=["-" + Column.total_annotations])[:3]) == ids[1:4]
    assert project.get_tasks_ids(ordering=[Column.predictions_score])[:2] == [ids[2], ids[1]]  # nulls last
    assert project.get_tasks_ids(selected_ids=[ids[5], ids[3]]) == [ids[3], ids[5]]
    only_ids = api.get(f"/api/tasks?project={project.id}&include=id&page_size=2").json()["tasks"]
    assert only_ids == [{"id": ids[0]}, {"id": ids[1]}]
    annotated = api.get(f"/api/tasks?project={project.id}&only_annotated=true&fields=task_only").json()
    assert [t["id"] for t in annotated["tasks"]] == ids[1:5] and "annotations" not in annotated["tasks"][0]
    excluded = json.dumps({"selectedItems": {"all": True, "excluded": ids[1:]}})
    assert [t["id"] for t in api.get("/api/tasks", params={"project": project.id, "query": excluded}).json()["tasks"]] == ids[:1]


def server_admin_id(api) -> int:
    return api.get("/api/current-user/whoami").json()["id"]


def test_sdk_2x_iterates_every_page_with_a_query(sdk, dm_project):
    ids = dm_project["ids"]
    everything = [t.id for t in sdk.tasks.list(project=dm_project["id"], page_size=100)]
    assert everything == ids
    query = json.dumps({"filters": Filters.create(Filters.AND, [
        item(Column.data("n"), Operator.GREATER_OR_EQUAL, Type.Number, 100)]), "ordering": ["-tasks:id"]})
    pager = sdk.tasks.list(project=dm_project["id"], query=query, page_size=50, fields="all")
    assert [t.id for t in pager] == ids[100:][::-1]
    assert pager.response.total == N - 100


@pytest.mark.parametrize("query, field", [
    ({"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:id", "operator": "near", "type": "Number",
                                                  "value": 1}]}}, "query.filters.items[0].operator"),
    ({"filters": {"conjunction": "xor", "items": []}}, "query.filters.conjunction"),
    ({"filters": {"items": [{"filter": "filter:tasks:id", "operator": "equal", "type": "Number", "value": 1},
                            {"filter": "filter:tasks:nope", "operator": "equal", "type": "Number", "value": 1}]}},
     "query.filters.items[1].filter"),
    ({"filters": {"items": [{"filter": "filter:tasks:id", "operator": "equal", "type": "Blob", "value": 1}]}},
     "query.filters.items[0].type"),
    ({"filters": {"items": [{"filter": "filter:tasks:id", "operator": "in", "type": "Number", "value": 3}]}},
     "query.filters.items[0].value"),
    ({"filters": {"items": [{"filter": "filter:tasks:created_at", "operator": "less", "type": "Datetime",
                             "value": "yesterday"}]}}, "query.filters.items[0].value"),
    ({"filters": {"items": [{"filter": "filter:tasks:data.a\"b", "operator": "equal", "type": "String",
                             "value": "x"}]}}, "query.filters.items[0].filter"),
    ({"selectedItems": {"all": False, "included": ["1"]}}, "query.selectedItems.included[0]"),
    ({"ordering": ["tasks:whatever"]}, "query.ordering"),
])
def test_bad_queries_are_refused_naming_the_field(api, make_project, query, field):
    project = make_project(label_config=CONFIG)
    response = api.get("/api/tasks", params={"project": project["id"], "query": json.dumps(query)})
    assert response.status_code == 400 and field in response.text, response.text


def test_regex_where_the_engine_has_it_and_annotators_stay_blind(server, api, make_user, sdk, dm_project):
    regex = Filters.create(Filters.AND, [item(Column.data("text"), Operator.REGEX, Type.String, "^t1[0-2]$")])
    response = api.get("/api/tasks", params={"project": dm_project["id"], "include": "id",
                                                "query": json.dumps({"filters": regex})})
    if server.engine == "postgres":
        assert [t["id"] for t in response.json()["tasks"]] == dm_project["ids"][10:13]
        bad = {"filters": Filters.create(Filters.AND, [item(Column.data("text"), Operator.REGEX, Type.String, "(?<=x)")])}
        assert api.get("/api/tasks", params={"project": dm_project["id"], "query": json.dumps(bad)}).status_code in (200, 400)
    else:
        assert response.status_code == 400 and "query.filters.items[0].operator" in response.text
    _, annotator = member(server, api, dm_project, "annotator", make_user)
    admin = server_admin_id(api)
    others = {"filters": Filters.create(Filters.AND, [item(Column.annotators, Operator.CONTAINS, Type.List, admin)])}
    seen = annotator.get("/api/tasks", params={"project": dm_project["id"], "query": json.dumps(others)}).json()
    assert seen["tasks"] == [] and seen["total"] == 0
    labeled = annotator.get(f"/api/tasks?project={dm_project['id']}&page_size=3").json()["tasks"]
    assert all(t["annotators"] == [] and t["annotations"] == [] for t in labeled)


def test_dm_query_benchmark_smoke_run(tmp_path, postgres_admin_url):
    from tests.helpers import run_bench

    out = run_bench(tmp_path, "bench/dm_query.py", "--tasks", "1000", "--requests", "1", "--engine", "both")
    for engine in ("sqlite", "postgres"):
        assert f"[{engine}] cancelled = 1" in out.stdout and "without the new index" in out.stdout
