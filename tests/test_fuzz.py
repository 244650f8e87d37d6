"""Fuzz the REST API from its own OpenAPI schema (schemathesis): no request may get a 500.

Every operation under /api/ gets requests generated from /schema/openapi.json, valid and invalid
(wrong types, missing fields, odd strings, huge numbers, unsupported methods), sent as the admin
with an API token. The fuzz runs against a server of its own, seeded with a small world: it
creates and deletes objects, which a shared server's other tests would trip over.

How much: LABELWELL_FUZZ_EXAMPLES examples per operation; under CI=true 5, derandomized so a
failure reproduces; otherwise 25 with a fresh seed (Hypothesis prints it on a failure). A long run
by hand: `LABELWELL_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/test_fuzz.py`.

The handlers take a plain JSON object and read their query string themselves, so the served
schema has neither body fields nor query parameters, and random ids rarely name a real object:
- `sharpen` adds the body fields and query parameters each handler reads, typed as docs/api.md
  describes them (a valid request gets past the type checks; invalid ones try each field);
- `aim` (a schemathesis hook) swaps some generated values for plausible ones, drawn by
  Hypothesis so that it shrinks them too: the seeded objects' ids, real label configs, result
  items naming the configs' controls, and dates at the ends of the calendar.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from dataclasses import dataclass, field

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup

from tests.conftest import IN_CI, SAMPLES
from tests.helpers import start_server

EXAMPLES = int(os.environ.get("LABELWELL_FUZZ_EXAMPLES") or (5 if IN_CI else 25))

# Outside /api/ nothing is fuzzed: /static and /schema serve files; /login, /logout, /signup and
# /invite are the sign-in forms (and /login's throttle); the rest are HTML pages and their forms,
# which the page tests cover; /health is a plain probe. Under /api/ everything is fuzzed, the
# export stream too (the seeded world is a few tasks, so it stays fast), except:
EXCLUDED = {
    ("POST", "/api/current-user/reset-token"),  # it rotates the key the fuzz signs in with
}


@dataclass
class World:
    """The seeded objects' ids by kind. Deletes take `spare` ones, so the objects the other
    operations reach stay there for the whole run."""

    ids: dict[str, list[int]] = field(default_factory=dict)
    spare: dict[str, list[int]] = field(default_factory=dict)
    admin_id: int = 0


# which seeded ids a path parameter, body field or query parameter of this name takes
ID_KINDS = {"project_id": "project", "project": "project", "task_id": "task", "task": "task", "ids": "task",
            "user_id": "user", "user": "user", "annotators": "user", "completed_by": "user", "actor": "user",
            "annotation_id": "annotation", "prediction_id": "prediction", "parent_prediction": "prediction",
            "backend_id": "backend", "job_id": "job"}


# -- what the schema cannot say ------------------------------------------------------------------

ANY: dict = {}
STR, BOOL, NUM, OBJ = ({"type": t} for t in ("string", "boolean", "number", "object"))
ID = {"type": "integer", "minimum": 1}
MOMENT = {"type": "string", "format": "date-time"}
ITEMS = {"type": "array", "items": {"type": "object"}}  # result items; `aim` makes real ones
FIELDS = {
    "email": {"type": "string", "format": "email"}, "password": STR, "first_name": STR, "last_name": STR,
    "role": {"enum": ["admin", "reviewer", "annotator"]}, "is_active": BOOL,
    "title": {"type": "string", "minLength": 3, "maxLength": 50}, "description": STR, "label_config": STR,
    "expert_instruction": STR, "show_instruction": BOOL, "show_skip_button": BOOL, "enable_empty_annotation": BOOL,
    "show_annotation_history": BOOL, "show_collab_predictions": BOOL, "annotators_see_others": BOOL,
    "maximum_annotations": {"type": "integer", "minimum": 1, "maximum": 1000},
    "overlap_cohort_percentage": {"type": "integer", "minimum": 1, "maximum": 100},
    "ground_truth_checks": {"type": "integer", "minimum": 0, "maximum": 100},
    "sampling": {"enum": ["Sequential sampling", "Uniform sampling", "Uncertainty sampling"]},
    "skip_queue": {"enum": ["REQUEUE_FOR_OTHERS", "REQUEUE_FOR_ME", "IGNORE_SKIPPED"]},
    "model_version": STR, "control_weights": OBJ, "color": STR,
    "project": ID, "task": ID, "user": ID, "parent_prediction": ID, "completed_by": ID,
    "data": {"type": "object", "properties": {"review": STR, "text": STR, "image": STR}},
    "meta": OBJ, "result": ITEMS, "was_cancelled": BOOL, "ground_truth": BOOL,
    "lead_time": {"type": "number", "minimum": 0}, "created_at": MOMENT, "updated_at": MOMENT,
    "accepted": BOOL, "comment": STR, "score": NUM,
    # an ML backend is called when saved: only addresses where nothing listens, so nothing leaves
    # the machine (invalid ones, from the negative cases, are refused before any call)
    "url": {"enum": ["http://127.0.0.1:9", "http://localhost:9/model/"]}, "is_interactive": BOOL, "auto_update": BOOL,
    "auth_method": {"enum": ["NONE", "BASIC_AUTH"]}, "basic_auth_user": STR, "basic_auth_pass": STR,
    "extra_params": OBJ, "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
}


def obj(*names: str) -> dict:
    return {"type": "object", "properties": {n: FIELDS.get(n, ANY) for n in names}}


USER = ["email", "password", "first_name", "last_name", "role", "is_active"]
PROJECT = ["title", "description", "label_config", "expert_instruction", "show_instruction", "show_skip_button",
           "enable_empty_annotation", "show_annotation_history", "show_collab_predictions", "annotators_see_others",
           "maximum_annotations", "overlap_cohort_percentage", "sampling", "skip_queue", "model_version",
           "control_weights", "color", "ground_truth_checks"]
ML = ["url", "title", "description", "is_interactive", "auto_update", "is_active", "auth_method", "basic_auth_user",
      "basic_auth_pass", "extra_params", "timeout"]
ANNOTATION = ["result", "was_cancelled", "ground_truth", "lead_time"]
PREDICTION = ["result", "score", "model_version"]
TASK = obj("data", "meta")  # as imported: with its annotations and predictions
TASK["properties"].update(id=ID, annotations={"type": "array", "items": obj(*ANNOTATION, "completed_by", "created_at",
                                                                                "updated_at")},
                          predictions={"type": "array", "items": obj(*PREDICTION)})
BODIES = {
    ("POST", "/api/users"): obj(*USER),
    ("PATCH", "/api/users/{user_id}"): obj(*USER),
    ("POST", "/api/projects"): obj(*PROJECT),
    ("PATCH", "/api/projects/{project_id}"): obj(*PROJECT),
    ("POST", "/api/projects/{project_id}/members"): {"type": "object", "properties": {
        "user": ID, "role": {"enum": ["annotator", "reviewer"]}}},
    ("POST", "/api/projects/validate"): obj("label_config"),
    ("POST", "/api/projects/{project_id}/validate"): obj("label_config"),
    ("POST", "/api/tasks"): obj("project", "data", "meta"),
    ("PATCH", "/api/tasks/{task_id}"): obj("data", "meta"),
    ("POST", "/api/tasks/{task_id}/annotations"): obj(*ANNOTATION, "parent_prediction"),
    ("PATCH", "/api/annotations/{annotation_id}"): obj(*ANNOTATION),
    ("POST", "/api/annotations/{annotation_id}/review"): obj("accepted", "comment"),
    ("POST", "/api/predictions"): obj("task", *PREDICTION),
    ("PATCH", "/api/predictions/{prediction_id}"): obj(*PREDICTION),
    ("POST", "/api/ml"): obj("project", *ML),
    ("PATCH", "/api/ml/{backend_id}"): obj(*ML),
    # these the handler reads from the raw request, so the schema has no body at all
    ("POST", "/api/projects/{project_id}/import"): {"anyOf": [{"type": "array", "items": TASK}, TASK]},
    ("POST", "/api/projects/{project_id}/import/predictions"): {"type": "array", "items": obj("task", *PREDICTION)},
    ("POST", "/api/dm/actions"): {"type": "object", "properties": {"selectedItems": {
        "type": "object", "properties": {"all": BOOL, "included": {"type": "array", "items": ID},
                                         "excluded": {"type": "array", "items": ID}}}}},
}
PAGES = {"page": ID, "page_size": ID}
FLAG = {"enum": ["true", "false", "1", "0"]}
EXPORT = {"exportType": {"enum": ["JSON", "JSON_MIN", "CSV", "TSV", "JSONL", "CONLL2003", "COCO", "YOLO", "VOC"]},
          "download_all_tasks": FLAG, "ids": ID, "annotators": ID, "since": MOMENT, "only_ground_truth": FLAG,
          "only_reviewed": FLAG, "only_accepted": FLAG}
QUERY = {
    ("GET", "/api/users"): {"search": STR},
    ("GET", "/api/audit"): {"actor": ID, "action": STR, "project": ID, "since": {"type": "string", "format": "date"},
                            "until": {"type": "string", "format": "date"}, "q": STR, **PAGES},
    ("GET", "/api/projects"): PAGES,
    ("GET", "/api/projects/{project_id}/jobs"): {"kind": {"enum": ["import", "export", "recount", "ml_predict"]}},
    ("GET", "/api/tasks"): {"project": ID, **PAGES, "after": ID, "fields": {"enum": ["all", "task_only"]}},
    ("GET", "/api/predictions"): {"task": ID, "project": ID},
    ("POST", "/api/projects/{project_id}/import"): {"return_task_ids": FLAG, "preannotated_from_fields": STR,
                                                    "attribute_unknown_authors": FLAG, "background": FLAG},
    ("GET", "/api/projects/{project_id}/export"): EXPORT,
    ("POST", "/api/projects/{project_id}/exports"): EXPORT,
    ("GET", "/api/ml"): {"project": ID},
    ("GET", "/api/ml/{backend_id}"): {"check": FLAG},
    ("GET", "/api/dm/actions"): {"project": ID},
    ("POST", "/api/dm/actions"): {"project": ID, "id": {"enum": ["retrieve_tasks_predictions"]}},
}


def with_examples(schema: dict, examples: dict) -> dict:
    """A copy of `schema` whose properties named in `examples` carry that example: the coverage
    phase builds its valid requests from examples (and without them asks for project 0)."""
    schema = copy.deepcopy(schema)
    for found in ([schema] + schema.get("anyOf", [])):
        found = found.get("items", found)
        for name, value in found.get("properties", {}).items():
            if name in examples:
                value["example"] = examples[name]
            elif "properties" in value or "items" in value:
                found["properties"][name] = with_examples(value, examples)
    return schema


def fuzzed(method: str, path: str) -> bool:
    return path.startswith("/api/") and method in ("get", "post", "patch", "delete") and (method.upper(), path) not in EXCLUDED


def sharpen(raw: dict, world: World) -> dict:
    """The served schema, its /api/ operations only, with the bodies and query parameters above,
    and the seeded world's ids as the examples of ids."""
    out = {**raw, "paths": {}}
    for path, operations in raw["paths"].items():
        kept = {}
        for method, operation in copy.deepcopy(operations).items():
            key = (method.upper(), path)
            if not fuzzed(method, path):
                continue
            pool = world.spare if method == "delete" else world.ids
            examples = {**SAMPLE_VALUES, **{name: pool[kind][0] for name, kind in ID_KINDS.items() if pool.get(kind)}}
            for name, schema in QUERY.get(key, {}).items():
                operation.setdefault("parameters", []).append({"name": name, "in": "query", "schema": schema})
            for param in operation.get("parameters", []):
                if param["name"] in examples and param["in"] in ("path", "query"):
                    param["schema"] = {**param["schema"], "example": examples[param["name"]]}
            if key in BODIES:
                operation["requestBody"] = {"required": "requestBody" in operation, "content": {
                    "application/json": {"schema": with_examples(BODIES[key], examples)}}}
            kept[method] = operation
        if kept:
            out["paths"][path] = kept
    return out


# -- plausible values ----------------------------------------------------------------------------

CONFIGS = {name: (SAMPLES / "configs" / name).read_text() for name in ("sentiment.xml", "relations.xml", "bbox.xml")}
FLOAT = st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
JSON = st.recursive(st.none() | st.booleans() | st.integers() | FLOAT | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=6)
NUMBER = st.integers() | FLOAT | JSON
RESULT_ITEM = st.fixed_dictionaries(  # the controls of the seeded configs, and what their results carry
    {"from_name": st.sampled_from(["sentiment", "stars", "note", "label", "box"]) | JSON,
     "to_name": st.sampled_from(["review", "text", "image"]) | JSON,
     "type": st.sampled_from(["choices", "rating", "textarea", "labels", "rectanglelabels", "relation"]) | JSON,
     "value": st.fixed_dictionaries({}, optional={
         "choices": st.lists(st.sampled_from(["Positive", "Negative", "Neutral"])) | JSON,
         "rating": NUMBER, "text": st.lists(st.text()) | JSON, "start": NUMBER, "end": NUMBER,
         "labels": st.lists(st.sampled_from(["PERSON", "ORG", "LOCATION"])) | JSON,
         "rectanglelabels": st.lists(st.sampled_from(["Car", "Sign"])) | JSON,
         "x": NUMBER, "y": NUMBER, "width": NUMBER, "height": NUMBER, "rotation": NUMBER})},
    optional={"id": st.text(max_size=12) | JSON, "from_id": st.text(max_size=12), "to_id": st.text(max_size=12),
              "original_width": NUMBER, "original_height": NUMBER, "score": NUMBER})
OFFSETS = st.sampled_from([None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=23, minutes=59)),
                           dt.timezone(-dt.timedelta(hours=23, minutes=59))])
EDGES = [dt.datetime.min, dt.datetime.max]
DAY = st.dates().map(str) | st.sampled_from(EDGES).map(lambda m: m.date().isoformat())
WHEN = DAY | st.builds(dt.datetime.isoformat, st.datetimes(timezones=OFFSETS) | st.builds(
    dt.datetime.replace, st.sampled_from(EDGES), tzinfo=OFFSETS))
SENTIMENT_ITEM = {"from_name": "sentiment", "to_name": "review", "type": "choices", "value": {"choices": ["Positive"]}}
# valid values for the coverage phase's valid requests (the first keeper project is sentiment's)
SAMPLE_VALUES = {"label_config": CONFIGS["sentiment.xml"], "result": [SENTIMENT_ITEM], "title": "Fuzzed project"}
HINTS = {"label_config": st.sampled_from(list(CONFIGS.values())), "result": st.lists(RESULT_ITEM, max_size=3),
         "since": WHEN, "until": WHEN, "created_at": WHEN, "updated_at": WHEN}


def aim(case, world: World):
    """A strategy of `case` with some values swapped for plausible ones (path, query, top-level
    body fields, and the annotations of imported tasks)."""
    pool = world.spare if case.method == "DELETE" else world.ids
    body = case.body if isinstance(case.body, dict) else {}
    tasks = [t for t in (case.body if isinstance(case.body, list) else [body]) if isinstance(t, dict)]
    places = [(case.path_parameters or {}, int), (case.query or {}, str), (body, None)]
    places += [(a, None) for t in tasks if isinstance(t.get("annotations"), list) for a in t["annotations"]
               if isinstance(a, dict)]

    @st.composite
    def aimed(draw):
        for values, convert in places:
            for name in list(values):
                hint = HINTS.get(name)
                if name in ID_KINDS and pool.get(ID_KINDS[name]):
                    hint = st.sampled_from(pool[ID_KINDS[name]]).map(convert or int)
                if hint is not None and draw(st.booleans()):
                    values[name] = draw(hint)
        return case

    return aimed()


def spare_the_keepers(case, world: World) -> None:
    """Deletes take spares, never what the other operations reach; and the admin the fuzz
    signs in as is never changed (demoted, deactivated, deleted, it would end the run)."""
    params = case.path_parameters or {}
    for name, value in params.items():
        kind = ID_KINDS.get(name)
        if case.method == "DELETE" and value in world.ids.get(kind, []) and world.spare.get(kind):
            params[name] = world.spare[kind][0]
    if case.method != "GET" and params.get("user_id") == world.admin_id:
        params["user_id"] = world.spare["user"][0]


# -- the run -------------------------------------------------------------------------------------

def seed(api: httpx.Client) -> World:
    """One project per config (members, tasks, annotations, a review, predictions, an ML backend,
    jobs), then a spare project whose objects, and one spare user, are what deletes take."""

    def ok(response: httpx.Response) -> dict:
        assert response.status_code < 300, f"{response.request.method} {response.request.url}: {response.text}"
        return response.json()

    ids: dict[str, list[int]] = {kind: [] for kind in ("project", "task", "annotation", "prediction", "backend",
                                                       "job")}
    ids["user"] = [ok(api.post("/api/users", json={"email": f"{role}-{n}@example.com", "password": "fuzz-password",
                                                   "role": role}))["id"]
                   for n, role in enumerate(["annotator", "reviewer", "annotator"])]
    rows = {"sentiment.xml": ({"review": "Fine."}, SENTIMENT_ITEM),
            "relations.xml": ({"text": "Ada works for ACME."},
                              {"id": "r1", "from_name": "label", "to_name": "text", "type": "labels",
                               "value": {"start": 0, "end": 3, "text": "Ada", "labels": ["PERSON"]}}),
            "bbox.xml": ({"image": "/data/local-files/?d=street.jpg"},
                         {"id": "b1", "from_name": "box", "to_name": "image", "type": "rectanglelabels",
                          "original_width": 640, "original_height": 480,
                          "value": {"x": 10, "y": 10, "width": 20, "height": 30, "rectanglelabels": ["Car"]}})}
    for name, (data, item) in [*rows.items(), ("sentiment.xml", rows["sentiment.xml"])]:  # the last: the spare
        project = ok(api.post("/api/projects", json={"title": f"Fuzz {name}", "label_config": CONFIGS[name]}))["id"]
        ids["project"].append(project)
        for user in ids["user"][:2]:
            ok(api.post(f"/api/projects/{project}/members", json={"user": user}))
        tasks = ok(api.post(f"/api/projects/{project}/import?return_task_ids=true", json=[data] * 3))["task_ids"]
        ids["task"] += tasks
        for task in tasks[:2]:
            ids["annotation"].append(ok(api.post(f"/api/tasks/{task}/annotations", json={"result": [item]}))["id"])
            ids["prediction"].append(ok(api.post("/api/predictions", json={"task": task, "result": [item]}))["id"])
        ok(api.post(f"/api/annotations/{ids['annotation'][-1]}/review", json={"accepted": True}))
        # the discard port, where nothing listens: its checks fail fast, and nothing leaves the machine
        ids["backend"].append(ok(api.post("/api/ml", json={"project": project, "url": "http://127.0.0.1:9"}))["id"])
        ids["job"].append(ok(api.post(f"/api/projects/{project}/recount"))["id"])
        ok(api.post(f"/api/projects/{project}/exports", json={"title": "fuzz"}))  # an export snapshot
    spare = {"project": ids["project"][-1:], "task": ids["task"][-3:], "annotation": ids["annotation"][-2:],
             "prediction": ids["prediction"][-2:], "backend": ids["backend"][-1:], "user": ids["user"][-1:],
             "job": []}
    keep = {kind: [i for i in found if i not in spare[kind]] for kind, found in ids.items()}
    return World(ids=keep, spare=spare, admin_id=ok(api.get("/api/current-user/whoami"))["id"])


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, database_url_factory):
    """A server of the fuzz's own, never the shared one (see the module docstring)."""
    srv = start_server(tmp_path_factory.mktemp("fuzz"), database_url_factory("sqlite"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def fuzz_world(fuzz_server):
    with fuzz_server.client(token=fuzz_server.admin_token) as api:
        return seed(api)


@pytest.fixture(scope="module")
def fuzz_schema(request, fuzz_server, fuzz_world):
    raw = httpx.get(fuzz_server.base_url + "/schema/openapi.json", timeout=30).json()
    sharpened = sharpen(raw, fuzz_world)
    # schemathesis adds one to the run's total per operation when the fuzz starts, though pytest
    # reports the fuzz as one test, so the progress went back (93% to 85%): that addition is taken back
    request.session.testscollected -= sum(len(operations) for operations in sharpened["paths"].values())
    loaded = schemathesis.openapi.from_dict(sharpened)

    @loaded.hook
    def flatmap_case(context, case):
        return aim(case, fuzz_world)

    return loaded


@pytest.fixture(scope="module")
def fuzz_session(fuzz_server):
    with requests.Session() as session:
        session.headers["Authorization"] = f"Token {fuzz_server.admin_token}"
        yield session


@pytest.fixture(autouse=True)
def _nodeid_for_schemathesis(request):
    # schemathesis 4.32 renames the running test through `_nodeid`, which pytest 9.2 no longer has
    request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=IN_CI, suppress_health_check=list(HealthCheck),
          print_blob=True)
def test_api_never_answers_500(case, fuzz_server, fuzz_world, fuzz_session):
    spare_the_keepers(case, fuzz_world)
    try:
        case.call_and_validate(base_url=fuzz_server.base_url, session=fuzz_session, checks=[not_a_server_error],
                               timeout=30)
    except FailureGroup as failure:  # schemathesis drops notes from its failures: the log goes in the message
        raise AssertionError(f"{failure}\n\nThe server logged:\n{last_error(fuzz_server.log())}") from None


def last_error(log: str) -> str:
    """The server's last traceback (app/errors.py logs one for each 500)."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if "unhandled error on" in line]
    return "\n".join(lines[starts[-1]:][:60]) if starts else "(no traceback)"
