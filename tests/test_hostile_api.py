"""Bad input to the API is refused with a reason (400/404), never a 500, on both engines."""

from __future__ import annotations

import pytest

from tests.helpers import browser


@pytest.mark.parametrize("path", ["/api/projects/99999999999999999999", "/api/users/2147483648",
                                  "/api/jobs/99999999999999999999", "/api/tasks/2147483648",
                                  "/projects/99999999999999999999"])
def test_impossible_ids_are_not_found(api, path):
    assert api.get(path).status_code == 404


def test_impossible_pages_are_refused(api):
    assert api.get("/api/projects?page=99999999999999999999").status_code == 400


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "abc", "color": "#12345678901234567890"}, "color"),
    ({"title": "abc", "model_version": "v" * 300}, "model_version"),
    ({"title": "abc", "description": "a\u0000b"}, "description"),
])
def test_project_text_limits(api, body, field):
    response = api.post("/api/projects", json=body)
    assert response.status_code == 400 and field in response.json()["validation_errors"]


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "x" * 300 + "@b.c", "password": "long-enough"}, "email"),
    ({"email": "ok@b.c", "password": "long-enough", "first_name": "n" * 200}, "first_name"),
    ({"email": "ok@b.c", "password": "long-enough", "last_name": "a\u0000"}, "last_name"),
])
def test_user_text_limits(api, body, field):
    response = api.post("/api/users", json=body)
    assert response.status_code == 400 and field in response.json()["validation_errors"]


def test_search_with_a_nul_byte(api):
    assert api.get("/api/users?search=%00").status_code == 200


def test_member_ids_must_be_real_ids(api, make_project):
    project = make_project()
    for user in (True, 99999999999999999999, "1"):
        assert api.post(f"/api/projects/{project['id']}/members", json={"user": user}).status_code == 400


def test_odd_form_numbers_are_form_errors(server):
    client = browser(server)
    client.get("/projects/new")
    response = client.post("/projects/new", data={"title": "Odd", "label_config": "<View/>", "maximum_annotations": "²",
                                                  "sampling": "Sequential sampling",
                                                  "_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 400


# -- found by tests/test_fuzz.py: each of these was a 500 ----------------------------------------

HUGE = 2**70  # beyond the 64 bits that JSON columns (orjson) take
CHOICE = {"from_name": "sentiment", "to_name": "review", "type": "choices", "value": {"choices": ["Positive"]}}


@pytest.fixture
def sentiment(api, make_project, sample_config):
    """A project with two tasks, an annotation, a prediction and an ML backend (on the discard port,
    where nothing listens)."""
    project = make_project(label_config=sample_config("sentiment.xml"))["id"]
    tasks = api.post(f"/api/projects/{project}/import?return_task_ids=true", json=[{"review": "Fine."}] * 2).json()
    task = tasks["task_ids"][0]
    return {"project": project, "task": task, "other_task": tasks["task_ids"][1],
            "annotation": api.post(f"/api/tasks/{task}/annotations", json={"result": [CHOICE]}).json()["id"],
            "prediction": api.post("/api/predictions", json={"task": task, "result": [CHOICE]}).json()["id"],
            "backend": api.post("/api/ml", json={"project": project, "url": "http://127.0.0.1:9"}).json()["id"]}


def test_json_the_databases_cannot_store_is_refused_by_field(api, sentiment):
    """Numbers beyond 64 bits, and NUL characters (PostgreSQL's jsonb has none), anywhere in JSON."""
    s = sentiment
    deep_item = {**CHOICE, "value": {"choices": ["Positive"], "n": HUGE}}
    nul_item = {**CHOICE, "meta": {"note": "a\u0000b"}}
    for method, path, body, field in [
        ("PATCH", f"/api/tasks/{s['task']}", {"data": {"review": "x", "n": HUGE}}, "data"),
        ("PATCH", f"/api/tasks/{s['task']}", {"meta": {"n": [HUGE]}}, "meta"),
        ("POST", f"/api/tasks/{s['other_task']}/annotations", {"result": [{**CHOICE, "score": HUGE}]}, "result"),
        ("POST", f"/api/tasks/{s['other_task']}/annotations", {"result": [nul_item]}, "result"),
        ("PATCH", f"/api/annotations/{s['annotation']}", {"result": [deep_item]}, "result"),
        ("POST", "/api/predictions", {"task": s["task"], "result": [deep_item]}, "result"),
        ("PATCH", f"/api/predictions/{s['prediction']}", {"result": [nul_item]}, "result"),
        ("POST", f"/api/projects/{s['project']}/import/predictions", [{"task": s["task"], "result": [deep_item]}],
         "predictions"),
        ("PATCH", f"/api/projects/{s['project']}", {"control_weights": {"sentiment": HUGE}}, "control_weights"),
        ("PATCH", f"/api/ml/{s['backend']}", {"extra_params": {"n": HUGE}}, "extra_params"),
        ("POST", "/api/ml", {"project": s["project"], "url": "http://127.0.0.1:9", "extra_params": {"n": HUGE}},
         "extra_params"),
    ]:
        response = api.request(method, path, json=body)
        assert response.status_code == 400, f"{method} {path}: {response.status_code} {response.text[:300]}"
        assert field in response.json()["validation_errors"], f"{method} {path}: {response.text[:300]}"


def test_numbers_too_large_for_a_float(api, sentiment):
    s = sentiment
    response = api.post(f"/api/tasks/{s['other_task']}/annotations", json={"result": [CHOICE], "lead_time": 10**400})
    assert response.status_code == 400 and "lead_time" in response.json()["validation_errors"]
    response = api.post("/api/predictions", json={"task": s["task"], "result": [CHOICE], "score": 10**400})
    assert response.status_code == 400 and "score" in response.text
    # beyond 64 bits but a float still: stored as one
    response = api.patch(f"/api/predictions/{s['prediction']}", json={"score": HUGE})
    assert response.status_code == 200 and response.json()["score"] == float(HUGE)


def test_a_body_nested_too_deeply(api, sentiment):
    deep = b'{"data": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = api.patch(f"/api/tasks/{sentiment['task']}", content=deep, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "body" in response.json()["validation_errors"]


def test_odd_data_manager_action_bodies(api, sentiment):
    url = f"/api/dm/actions?project={sentiment['project']}&id=retrieve_tasks_predictions"
    response = api.post(url, content=b"\x19\xff not JSON", headers={"content-type": "application/json"})
    assert response.status_code == 400 and "selectedItems" in response.json()["validation_errors"]
    response = api.post(url, json={"selectedItems": {"all": True, "excluded": 5}})
    assert response.status_code == 400 and "selectedItems.excluded" in response.json()["validation_errors"]


@pytest.mark.parametrize("path", ["/api/ml?project=%C2%B3", "/api/dm/actions?project=%C2%B3"])
def test_digits_int_cannot_read_are_no_ids(api, path):
    """"³" is a digit to str.isdigit(), and no number to int()."""
    response = api.get(path)
    assert response.status_code == 400 and "project" in response.json()["validation_errors"]


@pytest.mark.parametrize("since", ["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00"])
def test_export_since_a_moment_beyond_the_calendar(api, sentiment, since):
    """Valid ISO dates, but in UTC they fall before year 1 or after 9999."""
    for response in (api.get(f"/api/projects/{sentiment['project']}/export", params={"since": since}),
                     api.post(f"/api/projects/{sentiment['project']}/exports", params={"since": since})):
        assert response.status_code == 400 and "since" in response.json()["validation_errors"]


def test_imported_timestamps_beyond_the_calendar_become_the_import_time(api, sentiment):
    moments = ["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00"]
    items = [{"data": {"review": "x"}, "annotations": [{"result": [CHOICE], "created_at": m, "updated_at": m}]}
             for m in moments]
    response = api.post(f"/api/projects/{sentiment['project']}/import?return_task_ids=true", json=items)
    assert response.status_code == 201, response.text
    for task in response.json()["task_ids"]:
        (annotation,) = api.get(f"/api/tasks/{task}/annotations").json()
        assert annotation["created_at"][:4] not in ("0001", "9999")
