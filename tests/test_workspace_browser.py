"""The labelling workspace in a real browser (Debian's Chromium): spans by mouse and hotkey,
boxes drawn on an image, keyboard-only classification, drafts that survive a reload or an
outage, undo, and two annotators who never get the same task."""

from __future__ import annotations

import base64
import io
import re

import pytest
from playwright.sync_api import expect

from tests.test_browser import log_in

TEXT = "Zoë 👩‍🔬 met ACME\r\nin Paris"
NER = """<View>
  <Labels name="label" toName="text"><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
  <Choices name="mood" toName="text" required="true" requiredMessage="Pick a mood first"><Choice value="pos"/><Choice value="neg"/></Choices>
</View>"""


@pytest.fixture
def annotator_in(api, make_user, make_project):
    """make(config, tasks, **fields) -> (project, annotator): a project with tasks and one member."""

    def make(config: str, tasks: list[dict], **fields):
        project = make_project(label_config=config, **fields)
        assert api.post(f"/api/projects/{project['id']}/import", json=tasks).status_code == 201
        user = make_user()
        api.post(f"/api/projects/{project['id']}/members", json={"user": user["id"]})
        return project, user

    return make


def ready(page) -> None:
    """The workspace's script has loaded: from here on keys and clicks do something."""
    expect(page.locator(".lw-workspace[data-ready=true]")).to_have_count(1)


# a Range over the first occurrence of `needle` in the task's text (inside page.evaluate)
FIND = """needle => {
    const body = document.querySelector('.lw-text-body');
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf(needle);
        if (at >= 0) {
            const range = document.createRange();
            range.setStart(node, at); range.setEnd(node, at + needle.length);
            return %s;
        }
    }
    throw new Error('not found: ' + needle);
}"""


def select_text(page, needle: str) -> None:
    """Select the first occurrence of `needle` in the task text, as a mouse drag would."""
    page.evaluate(FIND % "(getSelection().removeAllRanges(), getSelection().addRange(range), null)", needle)


def drag_over(page, needle: str) -> None:
    """Press the mouse just inside the first letter of `needle` and release just inside its last."""
    box = page.evaluate(FIND % "(r => ({left: r.left, right: r.right, y: r.top + r.height / 2}))(range.getBoundingClientRect())", needle)
    page.mouse.move(box["left"] + 1, box["y"])
    page.mouse.down()
    page.mouse.move((box["left"] + box["right"]) / 2, box["y"], steps=3)
    page.mouse.move(box["right"] - 1, box["y"], steps=3)
    page.mouse.up()


def annotations(api, project_id: int) -> list[dict]:
    tasks = api.get(f"/api/tasks?project={project_id}&fields=all").json()["tasks"]
    return [a for t in tasks for a in api.get(f"/api/tasks/{t['id']}/annotations").json()]


def test_spans_by_hotkey_and_mouse_with_emoji_and_accents(page, server, api, annotator_in):
    project, user = annotator_in(NER, [{"text": TEXT}])
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}")
    page.get_by_test_id("start-labelling").click()
    expect(page).to_have_url(re.compile(rf"/projects/{project['id']}/label/\d+$"))
    expect(page.get_by_test_id("object-text")).to_be_visible()
    ready(page)
    # select a word after the emoji (several UTF-16 units), then its label's key
    select_text(page, "ACME")
    page.keyboard.press("2")
    expect(page.locator("mark.lw-span")).to_have_text(["ACME"])
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    # press a label first, then drag the mouse over a word with an accent
    page.get_by_test_id("label-PER").click()
    expect(page.get_by_test_id("label-PER")).to_have_attribute("aria-pressed", "true")
    drag_over(page, "Zoë")
    expect(page.locator("mark.lw-span")).to_have_count(2)
    # submit is blocked by the required choice, with the config's message
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("workspace-error")).to_contain_text("Pick a mood first")
    page.keyboard.press("3")  # the first choice's automatic key (labels took 1 and 2)
    expect(page.get_by_test_id("choice-pos")).to_be_checked()
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.reload()
    ready(page)
    expect(page.locator("h1")).to_contain_text("your draft, restored")
    expect(page.locator("mark.lw-span")).to_have_count(2)
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("workspace-error")).to_have_count(0)
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    spans = sorted((r["value"] for r in stored["result"] if r["type"] == "labels"), key=lambda v: v["start"])
    assert [(v["start"], v["end"], v["labels"]) for v in spans] == [
        (0, 3, ["PER"]), (TEXT.index("ACME"), TEXT.index("ACME") + 4, ["ORG"])]
    assert all(TEXT[v["start"]:v["end"]] == v["text"] for v in spans)
    assert stored["lead_time"] > 0


def test_region_delete_undo_and_redo(page, server, annotator_in):
    project, user = annotator_in(NER, [{"text": "Alan Turing and Ada"}])
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    select_text(page, "Turing")
    page.keyboard.press("1")
    expect(page.locator("mark.lw-span")).to_have_text(["Turing"])
    page.locator("mark.lw-span").click()
    expect(page.locator(".lw-region.lw-selected")).to_have_count(1)
    page.keyboard.press("Backspace")
    expect(page.locator("mark.lw-span")).to_have_count(0)
    page.get_by_test_id("undo").click()
    expect(page.locator("mark.lw-span")).to_have_text(["Turing"])
    page.get_by_test_id("redo").click()
    expect(page.locator("mark.lw-span")).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(page.locator("mark.lw-span")).to_have_text(["Turing"])
    # a span by keyboard alone: focus the text, Shift+arrows select, the label's key labels
    page.get_by_test_id("object-text").locator(".lw-text-body").focus()
    for _ in range(4):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("2")
    expect(page.locator("mark.lw-span")).to_have_text(["Alan", "Turing"])
    # a relation: select one span, Alt+R, pick the other
    page.locator("mark.lw-span", has_text="Turing").click()
    page.keyboard.press("Alt+r")
    page.locator("mark.lw-span", has_text="Alan").click()
    expect(page.locator("#lw-body input[name=relation]")).to_have_count(1)
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.reload()
    ready(page)
    expect(page.locator("#lw-body input[name=relation]")).to_have_count(1)


def test_classification_by_keyboard_only(page, server, api, annotator_in):
    config = """<View><Text name="text" value="$text"/>
      <Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/><Choice value="Neutral"/></Choices>
      <Rating name="stars" toName="text" maxRating="5"/></View>"""
    project, user = annotator_in(config, [{"text": "Great product"}, {"text": "Awful"}])
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    page.keyboard.press("2")
    expect(page.get_by_test_id("choice-Negative")).to_be_checked()
    page.keyboard.press("1")
    expect(page.get_by_test_id("choice-Positive")).to_be_checked()
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.keyboard.press("Control+Enter")
    expect(page.locator("h1")).to_contain_text("Task 2")
    ready(page)
    page.keyboard.press("?")
    expect(page.locator("#lw-help")).to_be_visible()
    expect(page.locator("#lw-help")).to_contain_text("ctrl+enter")
    page.keyboard.press("Escape")
    expect(page.locator("#lw-help")).to_be_hidden()
    page.keyboard.press("Control+Space")  # skip
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    stored = sorted(annotations(api, project["id"]), key=lambda a: a["task"])
    assert [a["was_cancelled"] for a in stored] == [False, True]
    assert [r["value"] for r in stored[0]["result"]] == [{"choices": ["Positive"]}]


def png(width: int, height: int) -> str:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 210, 230)).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def start_labelling(page, project: dict, user: dict) -> None:
    """Log in as `user` and open the project's queue, ready for keys and clicks."""
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)


def drag_across(page, image, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Press at `start` and release at `end`, each a fraction (x, y) of the image's box on screen."""
    box = image.bounding_box()
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=6)
    page.mouse.up()


def test_draw_a_box_and_store_percentages(page, server, api, annotator_in):
    config = """<View><Image name="img" value="$image"/>
      <RectangleLabels name="box" toName="img"><Label value="Car"/><Label value="Tree"/></RectangleLabels></View>"""
    project, user = annotator_in(config, [{"image": png(400, 200)}])
    start_labelling(page, project, user)
    image = page.locator(".lw-image img")
    expect(image).to_be_visible()
    page.keyboard.press("1")  # the label, which also picks the rectangle tool
    drag_across(page, image, (0.10, 0.20), (0.50, 0.70))
    expect(page.locator(".lw-region")).to_have_count(1)
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    (item,) = stored["result"]
    assert item["type"] == "rectanglelabels" and item["value"]["rectanglelabels"] == ["Car"]
    assert (item["original_width"], item["original_height"]) == (400, 200)
    for key, want in (("x", 10), ("y", 20), ("width", 40), ("height", 50)):
        assert abs(item["value"][key] - want) < 1.0, (key, item["value"])


CHOICES = """<View><Text name="text" value="$text"/>
  <Choices name="c" toName="text"><Choice value="a"/><Choice value="b"/></Choices></View>"""


def open_choices_task(page, annotator_in) -> tuple[str, dict]:
    """Log in as a new annotator of a one-task choices project and open its workspace: (URL, user)."""
    project, user = annotator_in(CHOICES, [{"text": "one"}])
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    return page.url, user


def test_offline_change_is_kept_and_sent_later(page, server, annotator_in):
    open_choices_task(page, annotator_in)
    expect(page.get_by_test_id("choice-a")).to_be_visible()
    page.context.set_offline(True)
    page.get_by_test_id("choice-b").check()
    expect(page.locator("#lw-network")).to_be_visible()
    page.context.set_offline(False)
    expect(page.locator("#lw-network")).to_be_hidden()
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.reload()
    ready(page)
    expect(page.get_by_test_id("choice-b")).to_be_checked()


def test_two_annotators_never_get_the_same_task(chromium, server, annotator_in, make_user, api):
    config = """<View><Text name="text" value="$text"/><Choices name="c" toName="text"><Choice value="a"/></Choices></View>"""
    project, first = annotator_in(config, [{"text": "one"}, {"text": "two"}])
    second = make_user()
    api.post(f"/api/projects/{project['id']}/members", json={"user": second["id"]})
    seen = []
    contexts = [chromium.new_context(base_url=server.base_url) for _ in range(2)]
    try:
        tabs = [c.new_page() for c in contexts]
        for tab, who in zip(tabs, (first, second)):
            log_in(tab, who["email"], who["password"])
        for tab in tabs:
            tab.goto(f"/projects/{project['id']}/label")
            expect(tab).to_have_url(re.compile(r"/label/\d+$"))
            seen.append(tab.url)
        assert seen[0] != seen[1]
        # the second annotator opening the first one's link is told it is taken
        tabs[1].goto(seen[0])
        expect(tabs[1].get_by_test_id("task-taken")).to_be_visible()
    finally:
        for c in contexts:
            c.close()


def test_typing_is_kept_even_when_the_page_is_left_at_once(page, server, annotator_in):
    config = """<View><Text name="text" value="$text"/><TextArea name="note" toName="text" rows="2"/></View>"""
    project, user = annotator_in(config, [{"text": "one"}])
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    link = page.url
    box = page.locator(".lw-textarea textarea").first
    box.fill("first words")
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")  # saved after a pause in typing
    box.press("End")
    page.keyboard.type(" and more")
    page.goto("/projects")  # left before the pause: the unsaved words go with the page's goodbye
    page.wait_for_timeout(500)
    page.goto(link)
    ready(page)
    expect(page.locator(".lw-textarea textarea").first).to_have_value("first words and more")


def test_a_signed_out_save_keeps_the_work_until_logged_in_again(page, server, annotator_in):
    link, user = open_choices_task(page, annotator_in)
    page.context.clear_cookies()  # the session ends (expired, or signed out elsewhere)
    page.keyboard.press("2")
    expect(page.locator("#lw-messages .flash-error")).to_contain_text("kept here")
    expect(page.get_by_test_id("choice-b")).to_be_checked()  # the login page did not replace the work
    other = page.context.new_page()
    log_in(other, user["email"], user["password"])
    expect(page.locator("#lw-saved")).to_have_text("Draft saved", timeout=15_000)  # the retry went through
    other.close()
    page.goto(link)
    ready(page)
    expect(page.get_by_test_id("choice-b")).to_be_checked()


def test_polygon_and_key_point_in_the_workspace_with_instructions(page, server, api, annotator_in):
    config = """<View><Image name="img" value="$image"/>
      <PolygonLabels name="area" toName="img"><Label value="Lake"/></PolygonLabels>
      <KeyPointLabels name="spot" toName="img"><Label value="Tree"/></KeyPointLabels></View>"""
    project, user = annotator_in(config, [{"image": png(400, 200)}],
                                 expert_instruction="<p>Outline every <b>lake</b>.</p>", show_instruction=False)
    log_in(page, user["email"], user["password"])
    page.goto(f"/projects/{project['id']}/label")
    ready(page)
    expect(page.locator("#lw-instructions")).to_be_hidden()
    page.get_by_role("button", name="Instructions").click()  # one click away
    expect(page.locator("#lw-instructions")).to_contain_text("Outline every lake")
    box = page.locator(".lw-image img").bounding_box()

    def at(x: float, y: float) -> tuple[float, float]:
        return box["x"] + box["width"] * x / 100, box["y"] + box["height"] * y / 100

    page.get_by_test_id("label-Lake").click()
    for point in [(10, 10), (40, 10), (25, 40)]:
        page.mouse.click(*at(*point))
    page.keyboard.press("Enter")
    expect(page.locator(".lw-region")).to_have_count(1)
    page.get_by_test_id("label-Tree").click()
    page.mouse.click(*at(75, 50))
    expect(page.locator(".lw-region")).to_have_count(2)
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    (stored,) = annotations(api, project["id"])
    by_type = {r["type"]: r for r in stored["result"]}
    points = by_type["polygonlabels"]["value"]["points"]
    assert [[round(x), round(y)] for x, y in points] == [[10, 10], [40, 10], [25, 40]]
    assert by_type["polygonlabels"]["value"]["polygonlabels"] == ["Lake"]
    spot = by_type["keypointlabels"]["value"]
    assert (round(spot["x"]), round(spot["y"]), spot["keypointlabels"]) == (75, 50, ["Tree"])
