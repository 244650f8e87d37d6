"""The reviewer's whole path in a real browser: the queue, the differences, a rejection that
reaches the annotator, and an adjudication edited in the workspace and saved as ground truth."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.test_browser import log_in
from tests.test_review import CONFIG, TEXT, mood, span
from tests.test_workspace_browser import ready


def test_reviewer_rejects_and_adjudicates(page, chromium, server, api, make_user, make_project):
    project = make_project(label_config=CONFIG, maximum_annotations=2)
    api.post(f"/api/projects/{project['id']}/import", json=[{"text": TEXT}, {"text": TEXT}])
    tasks = sorted(api.get(f"/api/tasks?project={project['id']}").json()["tasks"], key=lambda t: t["inner_id"])
    people = []
    for role in ("annotator", "annotator", "reviewer"):
        user = make_user(role)
        api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"], "role": role})
        key = server.query('SELECT key FROM lw_api_token WHERE "user" = $1', user["id"])[0]["key"]
        people.append((user, key))
    (a, key_a), (b, key_b), (reviewer, _) = people
    with server.client(token=key_a) as ca, server.client(token=key_b) as cb:
        for task in tasks:
            ca.post(f"/api/tasks/{task['id']}/annotations", json={"result": [span(0, 12, "PER"), mood("pos")]})
        cb.post(f"/api/tasks/{tasks[0]['id']}/annotations", json={"result": [span(0, 3, "ORG"), mood("neg")]})
        cb.post(f"/api/tasks/{tasks[1]['id']}/annotations", json={"result": [span(0, 12, "PER"), mood("pos")]})

    log_in(page, reviewer["email"], reviewer["password"])
    page.goto(f"/projects/{project['id']}")
    page.get_by_test_id("review-link").click()
    rows = page.locator("tr[data-task]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-task", str(tasks[0]["id"]))  # the disagreement first
    expect(rows.first.get_by_test_id("task-agreement")).to_have_text("0.00")
    rows.first.get_by_role("link").click()

    column_b = page.locator("section.review-column", has_text=b["email"])
    expect(column_b.get_by_test_id("differences")).to_contain_text("“Ada”")
    # the span only b has is outlined in red where it is drawn
    outline = column_b.locator("mark.lw-span").first.evaluate("e => getComputedStyle(e).outlineColor")
    assert outline == "rgb(215, 48, 39)"
    column_b.locator("textarea").fill("ACME is not in this sentence as a person: mark the whole name")
    column_b.get_by_role("button", name="Reject").click()
    expect(page.locator(".flash", has_text="back in the annotator")).to_be_visible()
    expect(page.get_by_test_id("history")).to_contain_text("rejected")

    # adjudicate from a's annotation, change the mood in the workspace, save as ground truth
    page.locator("section.review-column", has_text=a["email"]).get_by_role("link", name="Adjudicate from this one").click()
    ready(page)
    expect(page.locator("mark.lw-span")).to_have_count(1)
    page.get_by_label("neu").check()
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("history")).to_contain_text("adjudicated")
    truth = [x for x in api.get(f"/api/tasks/{tasks[0]['id']}/annotations").json() if x["review_state"] == "adjudicated"]
    assert len(truth) == 1 and {r["type"]: r["value"] for r in truth[0]["result"]}["choices"] == {"choices": ["neu"]}

    # the annotator finds the rejected work first, with the reviewer's words
    other = chromium.new_context(base_url=server.base_url)
    tab = other.new_page()
    log_in(tab, b["email"], b["password"])
    tab.goto(f"/projects/{project['id']}/label")
    expect(tab.get_by_test_id("rejection")).to_contain_text("mark the whole name")
    other.close()
