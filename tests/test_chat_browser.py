"""<Chat> in a real browser (Debian's Chromium): select an assistant reply by keyboard and by
click, rate it and pick a per-message choice, write messages as the user and as the assistant,
minMessages blocking submit with a clear message, and what is stored (Label Studio's
`chatmessage` items, per-message answers carrying the message's id)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers import accessibility_problems
from tests.test_workspace_browser import FIND, annotations, annotator_in, ready, start_labelling  # noqa: F401 (a fixture)

CONFIG = """<View>
  <Text name="context" value="$context"/>
  <Chat name="chat" value="$chat" toName="chat" messageroles="user,assistant" editable="true" minMessages="4"/>
  <View visibleWhen="region-selected" whenRole="assistant">
    <Header value="Rate this reply"/>
    <Rating name="reply_rating" toName="chat" perRegion="true"/>
    <Choices name="reply_issues" toName="chat" perRegion="true" choice="multiple">
      <Choice value="Inaccurate"/>
      <Choice value="Unsafe"/>
    </Choices>
  </View>
  <Rating name="overall" toName="chat"/>
</View>"""
TASK = {"context": "Support chat", "chat": [
    {"role": "user", "content": "My parcel is <late>.", "createdAt": 1710000000000},
    {"role": "assistant", "content": "Sorry! It arrives tomorrow.", "createdAt": 1710000004000}]}


def settled(page) -> None:
    expect(page.locator("#lw-saved")).to_have_text("Draft saved")


def add(page, role: str, text: str) -> None:
    page.get_by_test_id("compose-role-chat").select_option(role)
    page.get_by_test_id("compose-text-chat").fill(text)
    page.get_by_test_id("add-message-chat").click()
    settled(page)


def test_rate_a_reply_write_both_roles_and_submit(page, server, api, annotator_in):  # noqa: F811
    project, user = annotator_in(CONFIG, [TASK])
    start_labelling(page, project, user)
    reply = page.get_by_test_id("message-1")
    expect(page.get_by_test_id("message-0")).to_contain_text("My parcel is <late>.")  # text, not markup
    expect(reply.locator(".lw-chat-controls")).to_be_hidden()  # until the message is selected
    assert page.get_by_test_id("message-0").locator(".lw-chat-controls").count() == 0  # whenRole="assistant"
    assert accessibility_problems(page, ".lw-chat") == []

    # select the reply by keyboard, rate it four stars and flag it, with the mouse
    page.get_by_test_id("select-1").focus()
    page.keyboard.press("Enter")
    expect(reply).to_have_class(re.compile(r"\blw-selected\b"))
    expect(page.get_by_test_id("select-1")).to_have_attribute("aria-pressed", "true")
    expect(reply.locator(".lw-chat-controls")).to_be_visible()
    expect(page.get_by_text("Rate this reply", exact=True)).to_have_count(2)  # in the reply, and in the View's own place
    expect(page.get_by_text("Rate this reply", exact=True).locator("visible=true")).to_have_count(1)  # only the reply's is shown
    reply.locator("label.lw-star[title='4 of 5']").click()
    settled(page)
    reply.get_by_test_id("choice-Inaccurate").check()
    settled(page)
    expect(reply.get_by_test_id("choice-Inaccurate")).to_be_checked()  # kept through the re-render
    expect(reply.locator("input[name='reply_rating@msg-1'][value='4']")).to_be_checked()

    # two messages are too few: submit is refused, saying how many are missing
    page.get_by_test_id("submit").click()
    expect(page.locator("#lw-messages")).to_contain_text("at least 4 messages before submitting: it has 2, add 2 more")

    add(page, "user", "Can it come today instead?")
    expect(page.get_by_test_id("compose-text-chat")).to_be_focused()  # ready for the next message
    add(page, "assistant", "No, tomorrow is the earliest.")
    expect(page.locator(".lw-chat-message")).to_have_count(4)
    expect(page.get_by_test_id("message-2")).to_have_attribute("data-role", "user")
    expect(page.get_by_test_id("message-3")).to_contain_text("No, tomorrow is the earliest.")
    assert accessibility_problems(page, ".lw-chat") == []

    # the annotator's own assistant message can be rated too, and edited
    page.get_by_test_id("select-3").click()
    page.get_by_test_id("message-3").locator("label.lw-star[title='2 of 5']").click()
    settled(page)
    page.get_by_test_id("message-3").locator("textarea.lw-chat-edit").fill("No: tomorrow is the earliest.")
    page.get_by_test_id("message-3").locator("textarea.lw-chat-edit").blur()
    settled(page)
    expect(page.get_by_test_id("message-3").locator(".lw-chat-content")).to_have_text("No: tomorrow is the earliest.")

    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    [annotation] = annotations(api, project["id"])
    result = annotation["result"]
    added = [r for r in result if r["type"] == "chatmessage"]
    assert [(r["from_name"], r["to_name"], r["value"]["chatmessage"]["role"], r["value"]["chatmessage"]["content"])
            for r in added] == [("chat", "chat", "user", "Can it come today instead?"),
                                ("chat", "chat", "assistant", "No: tomorrow is the earliest.")]
    created = [r["value"]["chatmessage"]["createdAt"] for r in added]
    assert all(isinstance(c, int) and c > 1_700_000_000_000 for c in created) and created == sorted(created)
    answers = {(r["id"], r["from_name"]): r["value"] for r in result if r["type"] != "chatmessage"}
    assert answers == {("msg-1", "reply_rating"): {"rating": 4}, ("msg-1", "reply_issues"): {"choices": ["Inaccurate"]},
                       (added[1]["id"], "reply_rating"): {"rating": 2}}


def test_an_added_message_can_be_deleted_and_max_messages_closes_the_box(page, server, api, annotator_in):  # noqa: F811
    config = '<View><Chat name="chat" value="$chat" maxMessages="$max"/></View>'
    project, user = annotator_in(config, [{"chat": TASK["chat"], "max": 3}])
    start_labelling(page, project, user)
    add(page, "user", "One more question.")
    expect(page.get_by_test_id("chat-full-chat")).to_contain_text("no more can be added")
    expect(page.get_by_test_id("compose-chat")).to_have_count(0)
    page.get_by_test_id("delete-2").click()
    settled(page)
    expect(page.locator(".lw-chat-message")).to_have_count(2)
    expect(page.get_by_test_id("compose-chat")).to_be_visible()


SPANS = """<View>
  <Chat name="chat" value="$chat" toName="chat"/>
  <Labels name="spans" toName="chat">
    <Label value="Promise"/>
    <Label value="Apology"/>
    <Label value="Complaint"/>
  </Labels>
</View>"""
REPLY = "Sorry 📦! It arrives tomorrow."  # an emoji: offsets count code points, as Python does

# a Range over `needle` inside the element (inside locator.evaluate): the text test's, scoped
FIND_IN = FIND.replace("needle => {\n    const body = document.querySelector('.lw-text-body');", "(body, needle) => {")
assert FIND_IN != FIND


def drag_in(locator, needle: str) -> None:
    """Press the mouse just inside the first letter of `needle` in the element and release just inside its last."""
    box = locator.evaluate(FIND_IN % "(r => ({left: r.left, right: r.right, y: r.top + r.height / 2}))"
                                     "(range.getBoundingClientRect())", needle)
    mouse = locator.page.mouse
    mouse.move(box["left"] + 1, box["y"])
    mouse.down()
    mouse.move((box["left"] + box["right"]) / 2, box["y"], steps=3)
    mouse.move(box["right"] - 1, box["y"], steps=3)
    mouse.up()


def test_label_a_phrase_in_a_reply_and_a_whole_message(page, server, api, annotator_in):  # noqa: F811
    chat = [TASK["chat"][0], {"role": "assistant", "content": REPLY, "createdAt": 1710000004000}]
    project, user = annotator_in(SPANS, [{"chat": chat}])
    start_labelling(page, project, user)
    reply = page.get_by_test_id("content-1")

    # a label pressed, then a drag over a phrase of the assistant's reply
    page.get_by_test_id("label-Promise").click()
    drag_in(reply, "arrives tomorrow")
    settled(page)
    expect(reply.locator("mark")).to_have_text("arrives tomorrow")

    # by keyboard, a selection first and then the label: into the reply's text, Ctrl+Shift+Right over
    # its first word, and Apology's number key
    reply.focus()
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("2")
    settled(page)
    expect(reply.locator("mark")).to_have_text(["Sorry", "arrives tomorrow"])

    # the whole user message, with a label pressed
    page.get_by_test_id("label-Complaint").click()
    page.get_by_test_id("label-message-0").click()
    settled(page)
    expect(page.get_by_test_id("content-0").locator("mark")).to_have_text("My parcel is <late>.")
    expect(page.get_by_test_id("message-1").locator(".lw-chat-spans li")).to_have_count(2)

    assert accessibility_problems(page, ".lw-chat") == []

    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    [annotation] = annotations(api, project["id"])
    start = REPLY.index("arrives tomorrow")
    assert sorted((r["value"]["message"], r["value"]["start"], r["value"]["end"], r["value"]["text"], r["value"]["labels"])
                  for r in annotation["result"]) == [
        ("msg-0", 0, 20, "My parcel is <late>.", ["Complaint"]), ("msg-1", 0, 5, "Sorry", ["Apology"]),
        ("msg-1", start, start + 16, "arrives tomorrow", ["Promise"])]
    assert start == 12 and all(r["type"] == "labels" and r["to_name"] == "chat" for r in annotation["result"])


def test_editing_or_deleting_an_added_message_drops_its_spans(page, server, api, annotator_in):  # noqa: F811
    project, user = annotator_in(SPANS.replace('toName="chat"/>', 'toName="chat" editable="true"/>'), [{"chat": TASK["chat"]}])
    start_labelling(page, project, user)
    add(page, "user", "Then I want a refund.")
    page.get_by_test_id("label-Complaint").click()
    drag_in(page.get_by_test_id("content-2"), "a refund")
    settled(page)
    drag_in(page.get_by_test_id("content-2"), "Then")
    settled(page)
    expect(page.get_by_test_id("content-2").locator("mark")).to_have_text(["Then", "a refund"])
    # the words of one span move: that span goes, the other stays
    page.get_by_test_id("message-2").locator("textarea.lw-chat-edit").fill("Then I want my money back.")
    page.get_by_test_id("message-2").locator("textarea.lw-chat-edit").blur()
    settled(page)
    expect(page.get_by_test_id("content-2").locator("mark")).to_have_text(["Then"])
    page.get_by_test_id("delete-2").click()
    settled(page)
    expect(page.locator(".lw-chat-message")).to_have_count(2)
    expect(page.locator(".lw-chat mark")).to_have_count(0)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("queue-done")).to_be_visible()
    assert annotations(api, project["id"])[0]["result"] == []
