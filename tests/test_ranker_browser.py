"""<List> + <Ranker> in a real browser (Debian's Chromium): five answers ranked by keyboard alone,
answers sorted into buckets by keys and by drag and drop, and the stored result as Label Studio
writes it (a dict under `ranker`, string ids, "_" for what was left unplaced)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers import accessibility_problems
from tests.test_workspace_browser import annotations, annotator_in, ready, start_labelling  # noqa: F401 (a fixture)

ITEMS = [{"id": f"a{i}", "title": f"Answer {i}", "body": f"The text of answer {i}."} for i in range(1, 6)]
ORDER = """<View>
  <Text name="prompt" value="$prompt"/>
  <List name="answers" value="$items" title="Answers"/>
  <Ranker name="rank" toName="answers"/>
</View>"""
BUCKETS = """<View>
  <Text name="prompt" value="$prompt"/>
  <List name="answers" value="$items"/>
  <Ranker name="sorted" toName="answers">
    <Bucket name="relevant" title="Relevant"/>
    <Bucket name="biased" title="Biased"/>
  </Ranker>
</View>"""


def order_on_screen(page, bucket: str) -> list[str]:
    return page.get_by_test_id(f"bucket-{bucket}").locator(".lw-rank-item").evaluate_all("cs => cs.map(c => c.dataset.item)")


def settled(page) -> None:
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")


def test_five_answers_ranked_by_keyboard_alone(page, server, api, annotator_in):  # noqa: F811
    project, user = annotator_in(ORDER, [{"prompt": "Which answer is best?", "items": ITEMS}])
    start_labelling(page, project, user)
    assert order_on_screen(page, "rank") == ["a1", "a2", "a3", "a4", "a5"]
    assert accessibility_problems(page, ".lw-ranker") == []

    # wanted: a3 a1 a5 a2 a4. a3 to the top (Home), a5 up twice past a4 and a2, a4 stays last
    page.get_by_test_id("card-a3").focus()
    page.keyboard.press("Home")
    expect(page.get_by_test_id("card-a3")).to_be_focused()  # focus stays on the moved card through the re-render
    settled(page)
    page.get_by_test_id("card-a5").focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    settled(page)
    assert order_on_screen(page, "rank") == ["a3", "a1", "a5", "a2", "a4"]
    expect(page.get_by_test_id("card-a5")).to_be_focused()
    expect(page.get_by_test_id("card-a5")).to_have_attribute("aria-label", "Answer 5, 3 of 5 in rank")
    # an arrow at the edge does nothing, and the page does not scroll or seek
    page.get_by_test_id("card-a3").focus()
    page.keyboard.press("ArrowUp")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()

    [annotation] = annotations(api, project["id"])
    [item] = annotation["result"]
    assert item["type"] == "ranker" and item["from_name"] == "rank" and item["to_name"] == "answers"
    assert item["value"] == {"ranker": {"rank": ["a3", "a1", "a5", "a2", "a4"]}}


def test_answers_sorted_into_buckets_by_keys_and_by_dragging(page, server, api, annotator_in):  # noqa: F811
    project, user = annotator_in(BUCKETS, [{"prompt": "Sort these", "items": ITEMS}])
    start_labelling(page, project, user)
    assert order_on_screen(page, "_") == ["a1", "a2", "a3", "a4", "a5"]  # unplaced: no default bucket
    page.get_by_test_id("card-a2").focus()
    page.keyboard.press("ArrowRight")  # to Relevant
    settled(page)
    page.get_by_test_id("card-a4").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # on to Biased
    settled(page)
    relevant = page.get_by_test_id("bucket-relevant")
    page.get_by_test_id("card-a5").drag_to(relevant, target_position={"x": 10, "y": relevant.bounding_box()["height"] - 3})
    settled(page)
    assert order_on_screen(page, "relevant") == ["a2", "a5"]
    assert order_on_screen(page, "biased") == ["a4"]
    # dropped on a card's upper half: placed before it
    page.get_by_test_id("card-a1").drag_to(page.get_by_test_id("card-a2"), target_position={"x": 10, "y": 2})
    settled(page)
    assert order_on_screen(page, "relevant") == ["a1", "a2", "a5"]

    page.reload()  # the draft holds the board
    ready(page)
    assert order_on_screen(page, "relevant") == ["a1", "a2", "a5"] and order_on_screen(page, "_") == ["a3"]
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    [annotation] = annotations(api, project["id"])
    assert annotation["result"][0]["value"] == {"ranker": {"_": ["a3"], "relevant": ["a1", "a2", "a5"], "biased": ["a4"]}}
