"""Several annotators per task: agreement kept as annotations arrive (checked against independent
computations), the reviewer's queue, accept / reject back to the annotator, adjudication into a
ground truth, ground-truth checks, and who may see what."""

from __future__ import annotations

import itertools
import statistics
from contextlib import closing

import pytest

from tests.helpers import browser, html, submit, text_of

CONFIG = """<View><Text name="text" value="$text"/>
  <Labels name="ner" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Choices name="mood" toName="text"><Choice value="pos"/><Choice value="neg"/><Choice value="neu"/></Choices>
</View>"""
TEXT = "Ada Lovelace met Charles Babbage at ACME"


def span(start: int, end: int, label: str) -> dict:
    return {"id": f"{label}{start}-{end}", "from_name": "ner", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": TEXT[start:end], "labels": [label]}}


def mood(value: str) -> dict:
    return {"from_name": "mood", "to_name": "text", "type": "choices", "value": {"choices": [value]}}


@pytest.fixture
def crew(server, api, make_user, make_project):
    """make(n_annotators, n_tasks, **fields) -> (project, tasks, [(user, token client)], reviewer client)."""
    clients = []

    def make(n: int, tasks: int, **fields):
        project = make_project(label_config=CONFIG, **{"maximum_annotations": n, **fields})
        if tasks:
            assert api.post(f"/api/projects/{project['id']}/import", json=[{"text": TEXT}] * tasks).status_code == 201
        people = []
        for role in ["annotator"] * n + ["reviewer"]:
            user = make_user(role)
            api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"], "role": role})
            key = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]
            client = server.client(token=key)
            clients.append(client)
            people.append((user, client))
        listed = sorted(api.get(f"/api/tasks?project={project['id']}").json()["tasks"], key=lambda t: t["inner_id"])
        return project, listed, people[:-1], people[-1]

    yield make
    for client in clients:
        client.close()


def annotate(client, task: dict, result: list[dict]) -> dict:
    response = client.post(f"/api/tasks/{task['id']}/annotations", json={"result": result})
    assert response.status_code == 201, response.text
    return response.json()


def exact_f1(a: list[tuple], b: list[tuple]) -> float:
    """Span F1 by hand: exact (start, end, label) matches between two annotators."""
    if not a and not b:
        return 1.0
    return 2 * len(set(a) & set(b)) / (len(a) + len(b))


def test_agreement_follows_annotations_and_matches_independent_computations(server, api, crew):
    from sklearn.metrics import cohen_kappa_score

    project, tasks, people, (reviewer, review) = crew(2, 4)
    (a, ca), (b, cb) = people
    moods = [("pos", "pos"), ("neg", "pos"), ("neu", "neu"), ("pos", "neg")]
    spans = [([(0, 12, "PER"), (17, 32, "PER")], [(0, 12, "PER"), (17, 32, "ORG")]),
             ([(0, 12, "PER")], [(0, 3, "PER")]),
             ([(36, 40, "ORG")], [(36, 40, "ORG"), (0, 3, "PER")]),
             ([], [(0, 12, "PER")])]
    expected_tasks = []
    for task, (ma, mb), (sa, sb) in zip(tasks, moods, spans):
        annotate(ca, task, [span(*s) for s in sa] + [mood(ma)])
        annotate(cb, task, [span(*s) for s in sb] + [mood(mb)])
        # two controls, equal weights: the pair's score is the mean of span F1 and choice agreement
        expected_tasks.append((exact_f1(sa, sb) + (ma == mb)) / 2)

    listed = {t["id"]: t["agreement"] for t in api.get(f"/api/tasks?project={project['id']}").json()["tasks"]}
    assert [listed[t["id"]] for t in tasks] == pytest.approx(expected_tasks)
    found = review.get(f"/api/projects/{project['id']}/agreement").json()
    assert found["score"] == pytest.approx(statistics.fmean(expected_tasks)) and found["tasks"] == 4
    mood_stats = found["controls"]["mood"]
    assert mood_stats["score"] == pytest.approx(statistics.fmean(x == y for x, y in moods))
    assert mood_stats["cohen_kappa"] == pytest.approx(cohen_kappa_score([m[0] for m in moods], [m[1] for m in moods]))
    assert found["controls"]["ner"]["metric"].startswith("span F1")
    assert found["controls"]["ner"]["score"] == pytest.approx(statistics.fmean(exact_f1(x, y) for x, y in spans))
    # leniently, spans that overlap with the same label match: task 2's "Ada" against "Ada Lovelace" counts
    assert found["controls"]["ner"]["overlap_f1"] == pytest.approx(statistics.fmean([0.5, 1.0, 2 / 3, 0.0]))
    assert found["annotators"][str(a["id"])][str(b["id"])] == pytest.approx(statistics.fmean(expected_tasks))
    assert set(found["labels"]) >= {"PER", "ORG", "pos"}

    # an update moves the stored score at once; an annotator alone on a task has none
    fixed = [span(0, 12, "PER"), span(17, 32, "ORG"), mood("pos")]
    mine = ca.get(f"/api/tasks/{tasks[0]['id']}/annotations").json()[0]
    assert ca.patch(f"/api/annotations/{mine['id']}", json={"result": fixed}).status_code == 200
    assert api.get(f"/api/tasks/{tasks[0]['id']}").json()["agreement"] == pytest.approx(1.0)
    theirs = cb.get(f"/api/tasks/{tasks[1]['id']}/annotations").json()[0]
    assert cb.delete(f"/api/annotations/{theirs['id']}").status_code == 204
    assert api.get(f"/api/tasks/{tasks[1]['id']}").json()["agreement"] is None

    # annotators see neither the numbers nor the review pages
    assert ca.get(f"/api/projects/{project['id']}/agreement").status_code == 403
    assert ca.get(f"/projects/{project['id']}/review").status_code == 403
    assert ca.get(f"/projects/{project['id']}/agreement").status_code == 403


def test_fleiss_and_alpha_with_three_annotators_and_a_missing_one(server, api, crew):
    import krippendorff

    project, tasks, people, (_, review) = crew(3, 5)
    table = [["pos", "pos", "pos"], ["pos", "neg", "pos"], ["neg", "neg", None], ["neu", "pos", "neg"], ["neg", "neg", "neg"]]
    for task, row in zip(tasks, table):
        for (_, client), value in zip(people, row):
            if value is not None:
                annotate(client, task, [mood(value)])
    found = review.get(f"/api/projects/{project['id']}/agreement").json()["controls"]["mood"]
    codes = {"pos": 0, "neg": 1, "neu": 2}
    data = [[codes[row[i]] if row[i] else float("nan") for row in table] for i in range(3)]  # coders as rows
    assert found["krippendorff_alpha"] == pytest.approx(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    # Fleiss by hand for varying raters: P_i = sum n_ij(n_ij - 1) / (n_i(n_i - 1)); p_j from every rating
    rows = [[r.count(c) for c in codes] for r in table]
    n = [sum(r) for r in rows]
    p_bar = statistics.fmean(sum(x * (x - 1) for x in r) / (k * (k - 1)) for r, k in zip(rows, n))
    p_e = sum((sum(r[j] for r in rows) / sum(n)) ** 2 for j in range(3))
    assert found["fleiss_kappa"] == pytest.approx((p_bar - p_e) / (1 - p_e))
    assert "cohen_kappa" not in found  # three annotators: Cohen's kappa is for a pair
    pairs = {(x, y) for x, y in itertools.combinations(range(3), 2)}
    assert len(pairs) == 3


def test_reject_returns_to_the_annotator_accept_and_adjudicate(server, api, crew):
    project, tasks, people, (reviewer, review) = crew(2, 3)
    (a, ca), (b, cb) = people
    for task, (ma, mb) in zip(tasks, [("pos", "neg"), ("pos", "pos"), ("neu", "neu")]):
        annotate(ca, task, [span(0, 12, "PER"), mood(ma)])
        annotate(cb, task, [span(0, 3, "PER"), mood(mb)])
    with closing(browser(server, reviewer["email"], reviewer["password"])) as web:
        queue = web.get(f"/projects/{project['id']}/review")
        order = [int(row.get("data-task")) for row in html(queue).cssselect("tr[data-task]")]
        assert order[0] == tasks[0]["id"]  # the worst disagreement first
        page = web.get(f"/projects/{project['id']}/review/{tasks[0]['id']}")
        assert page.status_code == 200
        ann_a = next(x for x in ca.get(f"/api/tasks/{tasks[0]['id']}/annotations").json())
        ann_b = next(x for x in cb.get(f"/api/tasks/{tasks[0]['id']}/annotations").json())
        differences = text_of(page, f"#ann-{ann_a['id']} [data-testid=differences] li")
        assert any("Ada Lovelace" in d for d in differences) and any("pos" in d for d in differences)
        assert f'[data-region="{ann_a["result"][0]["id"]}"]' in page.text  # outlined on the page
        def seen(annotation: dict) -> str:  # the version of the annotation the reviewer is looking at
            return html(page).cssselect(f"form[action$='/annotations/{annotation['id']}'] input[name=seen]")[0].get("value")

        decide = f"/projects/{project['id']}/review/annotations/"
        refused = submit(web, page.url.path, decide + str(ann_b["id"]), {"decision": "reject", "comment": "", "seen": seen(ann_b)},
                         follow_redirects=True)
        assert "Say what is wrong" in refused.text
        submit(web, page.url.path, decide + str(ann_b["id"]),
               {"decision": "reject", "comment": "Only the first name: take the whole name", "seen": seen(ann_b)})
        # a change by the annotator after the page was opened is never accepted unseen
        ca.patch(f"/api/annotations/{ann_a['id']}", json={"result": [span(0, 12, "PER"), mood("pos")]})
        stale = submit(web, page.url.path, decide + str(ann_a["id"]), {"decision": "accept", "seen": seen(ann_a)},
                       follow_redirects=True)
        assert "changed this annotation since you opened the page" in stale.text
        page = web.get(page.url.path)
        submit(web, page.url.path, decide + str(ann_a["id"]), {"decision": "accept", "seen": seen(ann_a)})

    # the rejected annotation comes back to its annotator first, with the comment
    with closing(browser(server, b["email"], b["password"])) as web:
        opened = web.get(f"/projects/{project['id']}/label", follow_redirects=True)
        assert opened.url.path == f"/projects/{project['id']}/label/{tasks[0]['id']}"
        assert "Only the first name" in " ".join(text_of(opened, "[data-testid=rejection]"))
    fixed = cb.patch(f"/api/annotations/{ann_b['id']}", json={"result": [span(0, 12, "PER"), mood("pos")]}).json()
    assert fixed["review_state"] == ""  # changed work goes back to review
    assert api.get(f"/api/tasks/{tasks[0]['id']}").json()["agreement"] == pytest.approx(1.0)

    # adjudication: start from the regions both have, save as ground truth; kept out of agreement
    with closing(browser(server, reviewer["email"], reviewer["password"])) as web:
        start = web.get(f"/projects/{project['id']}/review/{tasks[1]['id']}/adjudicate?from=agreed")
        assert start.status_code == 200 and "Save as ground truth" in start.text
        fields = {"mood": ["pos"], "key": ["k1"], "from": ["agreed"], "lead_time": ["1"], "revision": ["1"],
                  "prediction": [""]}
        saved = submit(web, start.url.path + "?" + start.url.query.decode(),
                       f"/projects/{project['id']}/review/{tasks[1]['id']}/adjudicate/submit", fields)
        assert saved.status_code in (302, 303)
        history = web.get(f"/projects/{project['id']}/review/{tasks[1]['id']}")
        events = " ".join(text_of(history, "[data-testid=history] li"))
        assert "adjudicated" in events and reviewer["email"] in events
        assert "rejected" in " ".join(text_of(web.get(f"/projects/{project['id']}/review/{tasks[0]['id']}"),
                                             "[data-testid=history] li"))
    stored = api.get(f"/api/tasks/{tasks[1]['id']}/annotations").json()
    truth = [x for x in stored if x["review_state"] == "adjudicated"]
    assert len(truth) == 1 and truth[0]["ground_truth"] is True and [r["value"] for r in truth[0]["result"]] == [
        {"choices": ["pos"]}]
    # the truth is no annotator: the two annotators still disagree on the span (0.5, as before)
    assert api.get(f"/api/tasks/{tasks[1]['id']}").json()["agreement"] == pytest.approx(0.5)

    exported = api.get(f"/api/projects/{project['id']}/export?exportType=JSON&only_accepted=true").json()
    kept = {x["id"]: {a["review_state"] for a in x["annotations"]} for x in exported}
    assert kept == {tasks[0]["id"]: {"accepted"}, tasks[1]["id"]: {"adjudicated"}}


def test_ground_truth_checks_in_the_queue_and_accuracy(server, api, crew):
    project, tasks, people, (reviewer, review) = crew(1, 2, ground_truth_checks=100)
    (a, ca), = people
    truth = annotate(api, tasks[0], [span(0, 12, "PER"), mood("pos")])
    assert api.patch(f"/api/annotations/{truth['id']}", json={"ground_truth": True}).status_code == 200
    nxt = ca.get(f"/api/projects/{project['id']}/next")
    assert nxt.status_code == 200 and nxt.json()["id"] == tasks[0]["id"]  # the check comes first at 100%
    annotate(ca, tasks[0], [span(0, 12, "PER"), mood("neg")])
    with closing(browser(server, reviewer["email"], reviewer["password"])) as web:
        page = web.get(f"/projects/{project['id']}/agreement")
        assert page.status_code == 200
        row = html(page).cssselect(f"tr[data-user='{a['id']}'] td[data-testid=with-truth]")[0]
        assert row.text_content().strip() == "0.50"  # spans agree, the choice does not
        for testid in ("agreement-heatmap", "agreement-histogram", "agreement-labels", "agreement-trend"):
            assert html(page).cssselect(f"svg[data-testid={testid}]"), testid


@pytest.fixture
def worker(server):
    if not any(proc.poll() is None for proc in server.workers):
        server.start_worker()


def test_imported_annotations_and_weights_are_scored_by_a_job(server, api, crew, worker):
    from tests.helpers import wait_job

    project, tasks, people, (reviewer, review) = crew(2, 0)
    (a, _), (b, _) = people
    exported = [{"data": {"text": TEXT}, "annotations": [
        {"completed_by": a["email"], "result": [span(0, 12, "PER"), mood("pos")]},
        {"completed_by": b["email"], "result": [span(0, 12, "PER"), mood("neg")]}]}]
    assert api.post(f"/api/projects/{project['id']}/import", json=exported).status_code == 201
    job = next(j for j in api.get(f"/api/projects/{project['id']}/jobs?kind=agreement").json())
    assert wait_job(api, job["id"])["state"] == "done"
    (task,) = api.get(f"/api/tasks?project={project['id']}").json()["tasks"]
    assert task["agreement"] == pytest.approx(0.5)  # spans agree, moods do not

    with closing(browser(server)) as web:  # the admin weighs the spans three times the mood
        saved = submit(web, f"/projects/{project['id']}/agreement", f"/projects/{project['id']}/agreement/settings",
                       {"weight:ner": "3", "weight:mood": "1", "ground_truth_checks": "10"})
        assert saved.status_code in (302, 303)
    assert api.get(f"/api/projects/{project['id']}").json()["control_weights"] == {"ner": 3.0, "mood": 1.0}
    job = api.get(f"/api/projects/{project['id']}/jobs?kind=agreement").json()[0]
    assert wait_job(api, job["id"])["state"] == "done"
    assert api.get(f"/api/tasks/{task['id']}").json()["agreement"] == pytest.approx(0.75)
    assert api.get(f"/api/projects/{project['id']}").json()["ground_truth_checks"] == 10


def test_a_superscript_digit_is_no_number_of_checks(server, make_project):
    """"³" passes str.isdigit() and fails int(): the form says so instead of a 500."""
    project = make_project(label_config=CONFIG)
    with closing(browser(server)) as web:
        page = f"/projects/{project['id']}/agreement"
        saved = submit(web, page, f"{page}/settings", {"ground_truth_checks": "³"})
        assert saved.status_code in (302, 303)
        assert "Must be a whole number from 0 to 100" in web.get(page).text


def test_a_large_project_serves_the_last_report_while_a_job_updates_it(tmp_path, database_url_factory):
    """Above LABELWELL_AGREEMENT_SYNC_ANNOTATIONS (0 here), readers get the stored report at once, marked
    stale, and the worker recomputes it."""
    import time

    from tests.helpers import launch

    srv = launch(tmp_path / "srv", database_url_factory("sqlite"),
                 {"LABELWELL_USER_TOKEN": "tok-agree", "LABELWELL_AGREEMENT_SYNC_ANNOTATIONS": "0"})
    try:
        srv.start_worker()
        with srv.client(token="tok-agree") as api:
            project = api.post("/api/projects", json={"title": "Big", "label_config": CONFIG, "maximum_annotations": 2}).json()
            users = [api.post("/api/users", json={"email": f"u{i}@big.example", "password": "password-123",
                                                 "role": "annotator"}).json() for i in range(2)]
            exported = [{"data": {"text": TEXT}, "annotations": [
                {"completed_by": users[0]["email"], "result": [mood("pos")]},
                {"completed_by": users[1]["email"], "result": [mood(m)]}]} for m in ("pos", "neg")]
            api.post(f"/api/projects/{project['id']}/import", json=exported)
            deadline = time.monotonic() + 60
            while (found := api.get(f"/api/projects/{project['id']}/agreement").json())["tasks"] < 2 or found["stale"]:
                assert time.monotonic() < deadline, found
                time.sleep(0.2)
            assert found["score"] == pytest.approx(0.5)
            task = sorted(api.get(f"/api/tasks?project={project['id']}").json()["tasks"], key=lambda t: t["inner_id"])[1]
            mine = api.get(f"/api/tasks/{task['id']}/annotations").json()
            other = next(a for a in mine if a["completed_by"] == users[1]["id"])
            api.patch(f"/api/annotations/{other['id']}", json={"result": [mood("pos")]})
            first = api.get(f"/api/projects/{project['id']}/agreement").json()
            assert first["stale"] is True and first["score"] == pytest.approx(0.5)  # the last report, at once
            while (found := api.get(f"/api/projects/{project['id']}/agreement").json())["stale"]:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            assert found["score"] == pytest.approx(1.0)
    finally:
        srv.stop()


def test_queue_lists_scored_tasks_worst_first_then_unscored(server, api, crew):
    project, tasks, people, (reviewer, review) = crew(2, 3, maximum_annotations=1)  # one annotation is "all in"
    (a, ca), (b, cb) = people
    annotate(ca, tasks[0], [mood("pos")])
    annotate(cb, tasks[0], [mood("pos")])  # agree: 1.0
    annotate(ca, tasks[1], [mood("pos")])  # alone: no score
    annotate(ca, tasks[2], [mood("pos")])
    annotate(cb, tasks[2], [mood("neg")])  # disagree: 0.0
    with closing(browser(server, reviewer["email"], reviewer["password"])) as web:
        queue = web.get(f"/projects/{project['id']}/review?status=all")
        order = [int(row.get("data-task")) for row in html(queue).cssselect("tr[data-task]")]
        scores = text_of(queue, "td[data-testid=task-agreement]")
    assert order == [tasks[2]["id"], tasks[0]["id"], tasks[1]["id"]] and scores == ["0.00", "1.00", "–"]


def test_the_task_page_shows_review_history_to_reviewers_only(server, api, crew):
    project, tasks, people, (reviewer, review) = crew(2, 1)
    (a, ca), (b, cb) = people
    mine = annotate(ca, tasks[0], [mood("pos")])
    annotate(cb, tasks[0], [mood("neg")])
    assert review.post(f"/api/annotations/{mine['id']}/review",
                       json={"accepted": False, "comment": "Read the last sentence again"}).status_code == 200
    with closing(browser(server, reviewer["email"], reviewer["password"])) as web:
        page = web.get(f"/projects/{project['id']}/tasks/{tasks[0]['id']}")
        assert "Read the last sentence again" in " ".join(text_of(page, "[data-testid=history] li"))
    with closing(browser(server, b["email"], b["password"])) as web:  # blind: no one else's review either
        page = web.get(f"/projects/{project['id']}/tasks/{tasks[0]['id']}")
        assert page.status_code == 200 and not html(page).cssselect("#history")
