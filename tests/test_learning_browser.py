"""The built-in model in Chromium, as an admin meets it: switched on from the Model page, trained
with the button, its version listed, its prediction the annotator's starting point, and its
learning curve on the Model quality page."""

from __future__ import annotations

from playwright.sync_api import expect

from bench.corpus import topics
from tests.helpers import accessibility_problems
from tests.test_browser import log_in
from tests.test_learning import CLASSIFY, CLEAR, choose, predictions_of, tasks_of


def test_an_admin_turns_it_on_trains_it_and_annotators_start_from_its_guess(page, server, api, make_project, worker):
    project = make_project(label_config=CLASSIFY)
    corpus = topics(30, seed=4, clarity=CLEAR)
    api.post(f"/api/projects/{project['id']}/import", json=[{"text": t} for t, _ in corpus])
    gold = dict(corpus)
    tasks = tasks_of(api, project)
    for task in tasks[:16]:
        api.post(f"/api/tasks/{task['id']}/annotations", json={"result": choose(gold[task["data"]["text"]])})

    log_in(page, server.admin_email, server.admin_password)
    page.goto(f"/projects/{project['id']}/model")
    section = page.get_by_test_id("builtin")
    expect(section.get_by_test_id("builtin-learns")).to_contain_text("topic on text: one of Sport, Science")
    expect(section.get_by_test_id("builtin-cannot")).to_contain_text("notes")
    assert accessibility_problems(page, "[data-testid=builtin]") == []
    section.get_by_label("Built-in model: train on this project's annotations").check()
    page.fill("#builtin-every", "5")
    section.get_by_test_id("builtin-save").click()
    expect(page.locator(".flash")).to_contain_text("Built-in model on: it trains after every 5")
    page.get_by_test_id("builtin-train").click()
    expect(page.get_by_test_id("builtin-job-done")).to_contain_text("builtin-1 trained on 16 tasks", timeout=90_000)
    page.reload()
    row = page.get_by_test_id("builtin-versions").locator("tr[data-version='builtin-1']")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("16 tasks")

    # an unannotated task opens with the model's choice ticked
    predicted = predictions_of(api, project, "builtin-1")
    task_id = min(predicted)
    choice = predicted[task_id]["result"][0]["value"]["choices"][0]
    page.goto(f"/projects/{project['id']}/label/{task_id}")
    expect(page.get_by_text("starting from the model's prediction")).to_be_visible()
    expect(page.locator(f"input[name='topic'][value='{choice}']")).to_be_checked()

    page.goto(f"/projects/{project['id']}/model/quality")
    curve = page.get_by_test_id("learning-curve")
    expect(curve).to_be_visible()
    assert curve.locator("circle").count() >= 1  # the version's cross-validated F1, at least
    expect(page.get_by_test_id("curve-points").locator("tr[data-version='builtin-1']")).to_contain_text("16")
