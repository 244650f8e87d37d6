"""<Chat> over HTTP and in the config engine: configs checked with line and attribute, the five
chat templates of Label Studio's gallery accepted, added messages (Label Studio's `chatmessage`
shape) and per-message answers stored and exported as sent, bad results refused naming the field,
message text escaped (or, with html="true", sanitised), and minMessages / maxMessages enforced."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from components import ConfigError, parse_config
from tests.components.helpers import form_of, round_trip
from tests.helpers import browser

TEMPLATES = Path(__file__).resolve().parent / "data" / "configs" / "chat"
RLHF = (TEMPLATES / "chat_rlhf.xml").read_text()
CHAT = [{"role": "user", "content": "Is <script>alert(1)</script> safe to run?", "createdAt": 1710000000000},
        {"role": "assistant", "content": "No: it runs <b>code</b>.", "createdAt": 1710000004000,
         "metadata": {"model": "m-1"}}]
DATA = {"context": "A user asks about a script.", "chat": CHAT}
ADDED = {"id": "Ab12Cd34Ef", "from_name": "chat", "to_name": "chat", "type": "chatmessage", "origin": "manual",
         "value": {"chatmessage": {"role": "assistant", "content": "Never paste code you do not understand.",
                                   "createdAt": 1757612212681}}}
RESULT = [
    ADDED,
    {"id": "msg-1", "from_name": "reply_rating", "to_name": "chat", "type": "rating", "origin": "manual",
     "value": {"rating": 4}},
    {"id": "msg-1", "from_name": "reply_issues", "to_name": "chat", "type": "choices", "origin": "manual",
     "value": {"choices": ["Unhelpful"]}},
    {"id": "Ab12Cd34Ef", "from_name": "reply_better", "to_name": "chat", "type": "textarea", "origin": "manual",
     "value": {"text": ["Explain what the script does."]}},
    {"id": "ov3rall000", "from_name": "overall", "to_name": "chat", "type": "rating", "origin": "manual",
     "value": {"rating": 3}},
]
SPANS = """<View>
  <Chat name="chat" value="$chat" toName="chat"/>
  <Labels name="spans" toName="chat"><Label value="Claim"/><Label value="Risk"/></Labels>
</View>"""
LIMITS = """<View>
  <Chat name="chat" value="$chat" toName="chat" messageroles="user,assistant" minMessages="3" maxMessages="$max"/>
</View>"""


def message(role: str, content, created=1757612212681, id_: str = "Zz12Cd34Ef") -> dict:
    return {"id": id_, "from_name": "chat", "to_name": "chat", "type": "chatmessage",
            "value": {"chatmessage": {"role": role, "content": content, "createdAt": created}}}


def test_every_chat_template_of_the_gallery_is_accepted(api):
    names = sorted(p.name for p in TEMPLATES.glob("*.xml"))
    assert names == ["chat_eval.xml", "chat_llm_eval.xml", "chat_red_team.xml", "chat_rlhf.xml", "chatbot.xml"]
    for path in TEMPLATES.glob("*.xml"):
        checked = api.post("/api/projects/validate", json={"label_config": path.read_text()})
        assert checked.status_code == 200, (path.name, checked.text)


@pytest.mark.parametrize(("xml", "attribute", "words"), [
    ('<Chat name="c" value="$c" messageroles="user,robot"/>', "messageroles", "'robot' is not a message role"),
    ('<Chat name="c" value="$c" editable="user,ghost"/>', "editable", "'ghost' is not a message role"),
    ('<Chat name="c" value="$c" minMessages="lots"/>', "minMessages", "a whole number or a $key"),
    ('<Chat name="c" value="$c" maxMessages="-2"/>', "maxMessages", "a whole number or a $key"),
    ('<Chat name="c" value="$c" minMessages="5" maxMessages="2"/>', "minMessages", "more than maxMessages"),
    ('<Chat name="c" value="$c" llm="gpt"/>', "llm", "provider/model"),
    ('<Chat name="c" value="$c" toName="other"/>', "toName", "may only name itself"),
    ('<Chat name="c" value="$c" html="maybe"/>', "html", "true or false"),
    ('<Chat name="c"/>', "value", "needs a value"),
])
def test_bad_chat_configs_are_refused_naming_line_and_attribute(xml, attribute, words):
    with pytest.raises(ConfigError) as caught:
        parse_config(f"<View>\n<Text name=\"other\" value=\"$t\"/>\n{xml}\n</View>")
    found = [e for e in caught.value.errors if e.attribute == attribute]
    assert found and words in found[0].message and found[0].line == 3, caught.value.errors


def span(message_id: str, start: int, end: int, text: str, labels=("Claim",), id_: str = "Sp12Cd34Ef") -> dict:
    return {"id": id_, "from_name": "spans", "to_name": "chat", "type": "labels", "origin": "manual",
            "value": {"message": message_id, "start": start, "end": end, "text": text, "labels": list(labels)}}


def test_spans_inside_messages_go_through_check_render_and_collect_unchanged():
    # an imported reply's word, a word of the annotator's own message, and a whole imported message
    results = [ADDED, span("msg-1", 7, 11, "runs", id_="Sp1"), span("Ab12Cd34Ef", 6, 11, "paste", ("Risk",), "Sp2"),
               span("msg-0", 0, len(CHAT[0]["content"]), CHAT[0]["content"], ("Risk",), "Sp3")]
    round_trip(SPANS, DATA, results)
    page = lxml.html.fromstring(str(parse_config(SPANS).render(DATA, results, workspace=True)))
    assert [m.text_content() for m in page.cssselect("[data-testid=content-1] mark")] == ["runs"]
    assert page.cssselect("[data-testid=content-0] mark")[0].text_content() == CHAT[0]["content"]
    assert len(page.cssselect("[data-testid=label-message-2]")) == 1  # the whole-message button, on every message


def test_spans_in_different_messages_never_agree():
    from app.agreement.metrics import pair_score
    a, b = [span("msg-0", 0, 2, "Is")], [span("msg-1", 0, 2, "No")]
    assert pair_score("span", a, b, mode="exact") == 0.0 and pair_score("span", a, b, mode="overlap") == 0.0
    assert pair_score("span", a, [span("msg-0", 0, 2, "Is")], mode="exact") == 1.0
    assert pair_score("span", a, [span("msg-0", 1, 2, "s")], mode="overlap") > 0  # lenient: the same message overlaps


def test_spans_are_refused_on_html_messages():
    config = parse_config(SPANS.replace('toName="chat"/>', 'toName="chat" html="true"/>'))
    errors, _ = config.check_results([span("msg-1", 0, 2, "No")], DATA)
    assert errors and 'spans need plain-text messages' in errors[0]


def test_label_studio_results_go_through_check_render_and_collect_unchanged():
    round_trip(RLHF, DATA, RESULT)


def test_answers_apply_only_to_messages_of_the_views_role():
    config = parse_config(RLHF)
    page = lxml.html.fromstring(str(config.render(DATA, [ADDED], workspace=True)))
    rated = {li.get("data-region"): bool(li.cssselect("[data-control=reply_rating]"))
             for li in page.cssselect(".lw-chat-message")}
    assert rated == {"msg-0": False, "msg-1": True, "Ab12Cd34Ef": True}
    # imported messages carry no form field (never results), the added one does; none is editable
    assert [i.get("value") for i in page.cssselect("input[name=region]")] and len(page.cssselect("input[name=region]")) == 1
    assert page.cssselect("textarea.lw-chat-edit") == []


def test_min_and_max_messages_including_a_key_of_the_task():
    config = parse_config(LIMITS)
    data = {"chat": CHAT, "max": 3}
    with pytest.raises(Exception, match="at least 3 messages before submitting: it has 2, add 1 more"):
        config.collect(data, {})
    assert config.collect(data, {}, check_required=False) == []  # a draft may be short
    one = [message("user", "Thanks!")]
    assert [r["type"] for r in config.collect(data, form_of(str(config.render(data, one))))] == ["chatmessage"]
    with pytest.raises(Exception, match="at most 3 messages"):
        config.collect(data, form_of(str(config.render(data, [*one, message("assistant", "Welcome.", id_="Yy12Cd34Ef")]))))
    full = lxml.html.fromstring(str(config.render(data, one, workspace=True)))
    assert full.cssselect("[data-testid=chat-full-chat]") and not full.cssselect(".lw-chat-compose")


def test_messages_stored_and_exported_as_label_studio_writes_them(server, api, make_project, sdk):
    project = make_project(label_config=RLHF)
    assert api.post(f"/api/projects/{project['id']}/import", json=[DATA, DATA]).status_code == 201
    task, other = sorted(api.get(f"/api/tasks?project={project['id']}").json()["tasks"], key=lambda t: t["inner_id"])
    saved = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": RESULT})
    assert saved.status_code == 201, saved.text
    # Label Studio's own example (no id, no origin) through its current SDK
    bare = {"from_name": "chat", "to_name": "chat", "type": "chatmessage",
            "value": {"chatmessage": {"role": "user", "content": "hello", "createdAt": 1757612212681}}}
    assert sdk.annotations.create(id=other["id"], result=[bare]).result[0]["value"] == bare["value"]

    for bad, words in ((message("robot", "hi"), "value.chatmessage.role must be one of"),
                       (message("user", 5), "value.chatmessage.content must be a string"),
                       (message("user", "hi", created="soon"), "value.chatmessage.createdAt must be a number"),
                       ({**message("user", "hi"), "value": {"text": "hi"}}, "value.chatmessage must be an object"),
                       ({**RESULT[1], "value": {"stars": 4}}, "value has no 'rating'"),
                       ({**RESULT[1], "id": "msg-2"}, "msg-0 to msg-1 for the task's messages")):
        refused = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [bad]})
        assert refused.status_code == 400 and words in refused.text, (bad, refused.text)

    exported = api.get(f"/api/projects/{project['id']}/export?exportType=JSON").json()
    first = next(t for t in exported if t["id"] == task["id"])["annotations"][0]["result"]
    assert [{k: v for k, v in r.items() if k in ("id", "from_name", "type", "value")} for r in first] == [
        {k: v for k, v in r.items() if k in ("id", "from_name", "type", "value")} for r in RESULT]

    for kind in ("JSON_MIN", "CSV", "TSV"):  # the other formats take the conversation's results too
        assert api.get(f"/api/projects/{project['id']}/export?exportType={kind}").status_code == 200, kind

    # the task page: message text is text (escaped), the roles and the added message are shown
    shown = browser(server).get(f"/projects/{project['id']}/tasks/{task['id']}")
    assert shown.status_code == 200
    assert "Is &lt;script&gt;alert(1)&lt;/script&gt; safe to run?" in shown.text and "<script>alert" not in shown.text
    assert "it runs &lt;b&gt;code&lt;/b&gt;." in shown.text and "Never paste code you do not understand." in shown.text


def test_html_content_is_sanitised_when_the_config_says_so():
    config = parse_config('<View><Chat name="chat" value="$chat" html="true"/></View>')
    page = str(config.render({"chat": [{"role": "assistant", "content": "<b>bold</b><img src=x onerror=alert(1)>"
                                                                        "<script>alert(2)</script>"}]}))
    assert "<b>bold</b>" in page and "onerror" not in page and "alert(2)" not in page


def test_llm_configs_let_the_annotator_write_the_replies_and_roles_pick_the_questions():
    llm = parse_config((TEMPLATES / "chat_llm_eval.xml").read_text())
    page = lxml.html.fromstring(str(llm.render({"task": "Plan a trip", "chat": []}, workspace=True)))
    assert [o.get("value") for o in page.cssselect(".lw-chat-role-select option")] == ["user", "assistant"]
    assert "calls no model" in page.text_content()
    red = parse_config((TEMPLATES / "chat_red_team.xml").read_text())
    page = lxml.html.fromstring(str(red.render({"goal": "Get a recipe for poison", "chat": CHAT}, workspace=True)))
    asked = {li.get("data-role"): sorted({c.get("data-control") for c in li.cssselect("[data-control]")})
             for li in page.cssselect(".lw-chat-message")}
    assert asked == {"user": ["attack"], "assistant": ["outcome", "risk"]}


def test_spans_stored_over_http_and_bad_ones_refused_naming_the_field(api, make_project):
    project = make_project(label_config=SPANS)
    assert api.post(f"/api/projects/{project['id']}/import", json=[DATA]).status_code == 201
    [task] = api.get(f"/api/tasks?project={project['id']}").json()["tasks"]
    good = [ADDED, span("msg-1", 7, 11, "runs", id_="Sp1"), span("Ab12Cd34Ef", 0, 5, "Never", ("Risk",), "Sp2")]
    saved = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": good})
    assert saved.status_code == 201, saved.text
    exported = api.get(f"/api/projects/{project['id']}/export?exportType=JSON").json()
    stored = [r["value"] for r in exported[0]["annotations"][0]["result"] if r["type"] == "labels"]
    assert stored == [g["value"] for g in good[1:]]

    for bad, words in ((span("msg-7", 0, 2, "No"), "value.message 'msg-7' names no message"),
                       (span("Zz99", 0, 2, "No"), "value.message 'Zz99' names no message"),
                       ({**span("msg-1", 0, 2, "No"), "value": {"start": 0, "end": 2, "labels": ["Claim"]}},
                        "value.message None names no message"),
                       (span("msg-1", 0, 99, "No"), "span 0-99 is outside message msg-1 (0-24)"),
                       (span("msg-1", 3, 3, ""), "span 3-3 is outside message msg-1 (0-24) or empty"),
                       (span("msg-1", "0", 2, "No"), "value.start must be a whole number")):
        refused = api.post(f"/api/tasks/{task['id']}/annotations", json={"result": [bad]})
        assert refused.status_code == 400 and words in refused.text, (bad, refused.text)
