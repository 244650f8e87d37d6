"""<Chat>: a task's conversation (a list of {role, content, createdAt}) shown as messages. The
annotator adds messages, which are results (`chatmessage`, as Label Studio writes them), and
rates any message with perRegion controls: an imported message is a region too, with the id
"msg-<index>" (its place in the task's list), so answers about it carry that id."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from components.base import FALSE, REGION_ID, TRUE, About, Component, Control, ObjectTag, Problem, new_id
from components.classification import words
from components.text import segments
from components.variables import resolve

if TYPE_CHECKING:
    from components.config import LabelConfig
    from components.errors import ConfigError
    from components.render import RenderContext

ROLES = ("user", "assistant", "system", "tool", "developer")  # Label Studio's message roles
COUNT = re.compile(r"^\s*(\d+|\$[\w.\[\]-]+)\s*$")
SAMPLE = [{"role": "user", "content": "What is the capital of France?", "createdAt": 1710000000000},
          {"role": "assistant", "content": "Paris.", "createdAt": 1710000005000}]


def imported_id(index: int) -> str:
    return f"msg-{index}"


def _content(raw: Any) -> str:
    """A message's text: a string, or the text parts of a list of {type, text} parts."""
    if isinstance(raw, list):
        return "\n".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in raw)
    return "" if raw is None else str(raw)


def _when(created: Any) -> str | None:
    if isinstance(created, bool) or not isinstance(created, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(created / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):
        return None


class Chat(Control, ObjectTag):
    tag = "Chat"
    kind = "object"
    required = ("name", "value")
    about = About(
        summary="A conversation: `value` is a list of messages `{role, content, createdAt}` (`createdAt` in ms; "
                "other keys such as `metadata` are shown beside). Content is plain text unless `html=\"true\"`, "
                "then it is sanitised as `<HyperText>` is. The annotator adds messages with the compose box "
                "(a role, a text, Add): each is a result `{\"type\": \"chatmessage\", \"value\": {\"chatmessage\": "
                "{role, content, createdAt}}}` from and to the Chat's name, shown after the imported ones in "
                "`createdAt` order, and deletable. Click a message (or its role button, Enter) to select it: "
                "`perRegion` controls, for example inside `<View visibleWhen=\"region-selected\" "
                "whenRole=\"assistant\">`, answer about it. Unlike Label Studio, imported messages can be rated "
                "too: their region id is `msg-<index>` (the place in the task's list, from 0), which per-message "
                "answers carry as their `id`, with no geometry in `value`. `llm` is accepted, but Labelwell calls "
                "no model: the annotator writes the assistant's replies too.\n\n"
                "`<Labels toName=\"chat\">` makes spans inside a message (Label Studio has no open-source shape "
                "for them; this one is Labelwell's): `value: {\"message\", \"start\", \"end\", \"text\", "
                "\"labels\"}`, where `message` is the message's region id (`msg-<index>` or an added message's "
                "id) and `start`/`end` are code-point offsets in its content, as for `<Text>`; the server writes "
                "`text` from them. Select words in a message with a label pressed (or press the label after "
                "selecting); its **Label whole message** button, with a label pressed, labels all of it "
                "(`start` 0, `end` its length). Spans need plain-text messages (not `html=\"true\"`); deleting "
                "an added message deletes its spans, editing it drops those whose words moved.",
        attributes={"toName": "optional, only its own name (Label Studio's self-reference)",
                    "messageroles": "the roles the annotator may write as, comma-separated",
                    "editable": "`true`, `false` or a list of roles: added messages of those roles can be "
                                "edited (imported ones never)",
                    "minMessages": "messages the conversation needs before submitting (a number or `$key`)",
                    "maxMessages": "the most messages it may have; the compose box goes away there (a number "
                                   "or `$key`)",
                    "llm": "`provider/model`: accepted, but no replies are generated (no outbound calls); the annotator may "
                           "write as the assistant instead",
                    "html": "`true`: message content is HTML, sanitised (a Labelwell attribute)"},
        defaults={"messageroles": "user,assistant (with `llm`, assistant is always added)", "editable": "false", "html": "false"},
        example='<Chat name="chat" value="$chat" toName="chat" messageroles="user,assistant" minMessages="2"/>',
        result={"chatmessage": {"role": "user", "content": "And of Spain?", "createdAt": 1757612212681}})
    template = "chat.html"
    result_type = "chatmessage"
    labels_objects = ()  # it labels no other object: its results name itself
    checks = {"html": "bool"}
    child_tags = ()

    def sample_value(self) -> Any:
        return SAMPLE

    # -- config --------------------------------------------------------------------------------

    def validate(self, config: LabelConfig) -> Iterator[ConfigError]:
        yield from Component.validate(self, config)  # not Control's: the only target is itself
        for target in words(self.get("toName")):
            if target != self.name:
                yield self.error(f'<Chat> cannot label <Chat> "{target}": its toName may only name itself '
                                 f'("{self.name}").', "toName")
        for role in words(self.get("messageroles")):
            if role not in ROLES:
                yield self.error(f"'{role}' is not a message role: use {', '.join(ROLES)}.", "messageroles")
        editable = (self.get("editable") or "").strip().lower()
        if editable and editable not in TRUE + FALSE:
            for role in words(editable):
                if role not in ROLES:
                    yield self.error(f"'{role}' is not a message role: editable is true, false or roles "
                                     f"({', '.join(ROLES)}).", "editable")
        for attr in ("minMessages", "maxMessages"):
            value = self.get(attr)
            if value is not None and not COUNT.match(value):
                yield self.error(f"'{value}' is not a valid {attr}: use a whole number or a $key.", attr)
        low, high = (self.get(a, "").strip() for a in ("minMessages", "maxMessages"))
        if low.isdigit() and high.isdigit() and int(low) > int(high):
            yield self.error(f"minMessages ({low}) is more than maxMessages ({high}).", "minMessages")
        llm = self.get("llm")
        if llm is not None and not re.fullmatch(r"[\w.-]+/\S+", llm.strip()):
            yield self.error(f"'{llm}' is not a valid llm: use provider/model, for example openai/gpt-4.1-nano.", "llm")

    @property
    def to_names(self) -> list[str]:
        return [str(self.name)]  # its results are from and to itself, with or without toName

    @property
    def roles(self) -> list[str]:
        roles = words(self.get("messageroles")) or ["user", "assistant"]
        # with `llm`, Label Studio's model writes the assistant's turns; here no model is called, so the annotator does
        return roles + ["assistant"] if self.get("llm") and "assistant" not in roles else roles

    def known_roles(self) -> set[str]:
        return {*ROLES, *self.roles}

    def can_edit(self, role: str) -> bool:
        editable = (self.get("editable") or "false").strip().lower()
        if editable in TRUE + FALSE:
            return editable in TRUE
        return role in words(editable)

    def limit(self, attr: str, data: dict[str, Any]) -> int | None:
        """minMessages / maxMessages for this task (a `$key` read from its data; unusable values: none)."""
        raw = (self.get(attr) or "").strip()
        value = resolve(raw, data) if raw.startswith("$") else raw
        if isinstance(value, bool):
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        return number if number >= 0 else None

    # -- messages ------------------------------------------------------------------------------

    def imported(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """The task's messages, each as the region it is (id msg-<index>), never a result."""
        value = resolve(self.get("value"), data)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = []
        out = []
        for index, raw in enumerate(value if isinstance(value, list) else []):
            if not isinstance(raw, dict):
                continue
            message = {**raw, "role": str(raw.get("role") or "user"), "content": _content(raw.get("content"))}
            out.append({"id": imported_id(index), "from_name": self.name, "to_name": self.name,
                        "type": self.result_type, "value": {"chatmessage": message}, "imported": True})
        return out

    def implied_regions(self, ctx: RenderContext) -> dict[str, dict[str, Any]]:
        """Regions the form does not carry: the imported messages, which perRegion answers may name."""
        return {r["id"]: r for r in self.imported(ctx.data)}

    def added(self, ctx: RenderContext) -> list[dict[str, Any]]:
        found = [r for r in ctx.by_from.get(str(self.name), []) if r.get("type") == self.result_type
                 and isinstance(r["value"].get("chatmessage"), dict)]
        return sorted(found, key=lambda r: _order(r["value"]["chatmessage"].get("createdAt")))

    def message_ids(self, ctx: RenderContext) -> list[str]:
        return [*self.implied_regions(ctx), *(str(r["id"]) for r in self.added(ctx))]

    def which(self, ctx: RenderContext) -> str:
        count = len(self.imported(ctx.data))
        return f"msg-0 to msg-{count - 1} for the task's messages" if count else "the task has no messages"

    def check_message_id(self, region_id: Any, ctx: RenderContext) -> None:
        """A per-message answer names a message: msg-<index> of the task's, or an added message's id."""
        if str(region_id) not in self.message_ids(ctx):
            task = self.which(ctx)
            raise Problem(f"id {region_id!r} names no message of <Chat name=\"{self.name}\"> ({task}; or the id "
                          "of a chatmessage item of this result)")

    def view(self, ctx: RenderContext) -> dict[str, Any]:
        messages, spans = [], self.spans(ctx)
        for region in [*self.imported(ctx.data), *self.added(ctx)]:
            message, mine = region["value"]["chatmessage"], spans.get(str(region["id"]), [])
            content = _content(message.get("content"))
            cuts = [(r["value"].get("start"), r["value"].get("end"), str(r["id"])) for r in mine
                    if isinstance(r["value"].get("start"), int) and isinstance(r["value"].get("end"), int)]
            extra = {k: v for k, v in message.items() if k not in ("role", "content", "createdAt", "id")}
            messages.append({"region": region, "role": str(message.get("role", "")), "added": not region.get("imported"),
                             "content": content, "when": _when(message.get("createdAt")),
                             "pieces": segments(content, cuts), "spans": mine,
                             "extra": extra, "answered": any(r.get("type") != self.result_type
                                                             for r in ctx.regions.get(str(region["id"]), []))})
        count, high = len(messages), self.limit("maxMessages", ctx.data)
        return {"messages": messages, "count": count, "by_id": {str(r["id"]): r for m in spans.values() for r in m},
                "labelled": any(self.name in c.to_names for c in ctx.config.controls if c.tag == "Labels"),
                "min": self.limit("minMessages", ctx.data), "max": high,
                "full": high is not None and count >= high, "html": self.flag("html")}

    # -- results -------------------------------------------------------------------------------

    def message_texts(self, ctx: RenderContext) -> dict[str, str]:
        """Each message's content by region id: the task's, the results' and those the form has read so far."""
        texts = {r["id"]: r["value"]["chatmessage"]["content"] for r in [*self.imported(ctx.data), *self.added(ctx)]}
        return {**texts, **ctx.memo.get(("chat-added", self.name), {})}

    def span(self, value: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        """A <Labels> span inside one message: the message named, offsets inside its content."""
        if self.flag("html"):
            raise Problem(f'spans need plain-text messages: <Chat name="{self.name}"> has html="true"')
        message = value.get("message")
        texts = self.message_texts(ctx)
        if not isinstance(message, str) or message not in texts:
            task = self.which(ctx)
            raise Problem(f"value.message {message!r} names no message of <Chat name=\"{self.name}\"> ({task}; or "
                          "an added message's id)")
        start, end = (value.get(k) for k in ("start", "end"))
        for key, number in (("start", start), ("end", end)):
            if isinstance(number, bool) or not isinstance(number, int):
                raise Problem(f"value.{key} must be a whole number, not {number!r}")
        text = texts[message]
        if not 0 <= start < end <= len(text):
            raise Problem(f"span {start}-{end} is outside message {message} (0-{len(text)}) or empty")
        return {"message": message, "start": start, "end": end, "text": text[start:end]}

    def span_warnings(self, value: dict[str, Any], ctx: RenderContext) -> list[str]:
        expected = self.span(value, ctx)["text"]
        if "text" in value and value["text"] != expected:
            return [f"value.text {value['text']!r} differs from message {value['message']}'s text {expected!r}"]
        return []

    def spans(self, ctx: RenderContext) -> dict[str, list[dict[str, Any]]]:
        """The <Labels> spans shown, by message id."""
        out: dict[str, list[dict[str, Any]]] = {}
        for r in ctx.by_to.get(str(self.name), []):
            if r.get("type") == "labels" and isinstance(r["value"].get("message"), str):
                out.setdefault(r["value"]["message"], []).append(r)
        return out

    def check_message(self, message: Any) -> None:
        if not isinstance(message, dict):
            raise Problem("value.chatmessage must be an object with role and content")
        role = message.get("role")
        if not isinstance(role, str) or role not in self.known_roles():
            raise Problem(f"value.chatmessage.role must be one of {', '.join(sorted(self.known_roles()))}, not {role!r}")
        if not isinstance(message.get("content"), str):
            raise Problem("value.chatmessage.content must be a string")
        created = message.get("createdAt")
        if created is not None and (isinstance(created, bool) or not isinstance(created, (int, float))):
            raise Problem("value.chatmessage.createdAt must be a number (milliseconds)")

    def region_from_form(self, item: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        value = item.get("value") if isinstance(item.get("value"), dict) else {}
        message = value.get("chatmessage")
        self.check_message(message)
        message = {**message, "content": message["content"].replace("\r\n", "\n").strip()}
        if not message["content"]:
            raise Problem(f"{self.name}: a message needs some text")
        kept = str(item.get("id") or "")
        kept = kept if REGION_ID.match(kept) and not kept.startswith("msg-") else new_id()
        ctx.memo.setdefault(("chat-added", self.name), {})[kept] = message["content"]  # spans on it come after
        return {"id": kept,
                "from_name": self.name, "to_name": self.name, "type": self.result_type,
                "origin": item.get("origin") if item.get("origin") in ("manual", "prediction", "prediction-changed")
                else "manual", "value": {"chatmessage": message}}

    def collect(self, form: dict, ctx: RenderContext, regions: dict[str, dict]) -> list[dict]:
        count = sum(1 for r in regions.values() if r.get("from_name") == self.name and r.get("type") == self.result_type)
        high, low = self.limit("maxMessages", ctx.data), self.limit("minMessages", ctx.data)
        if high is not None and count > high:
            raise Problem(f"{self.name} takes at most {high} messages, this conversation would have {count}")
        if ctx.check_required and low is not None and count < low:
            raise Problem(f"The conversation needs at least {low} messages before submitting: it has {count}, "
                          f"add {low - count} more.")
        return []  # the added messages are regions: the form's region fields carry them

    def check(self, item: dict[str, Any], ctx: RenderContext) -> list[str]:
        self.check_message(item["value"].get("chatmessage"))
        return []


def _order(created: Any) -> float:
    return float(created) if isinstance(created, (int, float)) and not isinstance(created, bool) else float("inf")
