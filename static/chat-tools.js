// <Chat> in the workspace: add a message (a `chatmessage` region), edit an added one, and select
// a message to evaluate it, and label a whole message (spans inside one: static/workspace.js). The
// server renders the conversation; the compose box's text is the page's own (no form field), so it
// is kept across the re-renders that follow every change.
(function () {
  "use strict";
  if (!document.querySelector(".lw-workspace")) return;
  const drafts = {};  // chat name -> {role, text} typed but not added yet
  let refocus = null;  // the chat whose compose box gets focus back after the re-render

  function lw() { return window.Labelwell; }

  function showPressed() {
    const selected = lw() && lw().selected();
    for (const button of document.querySelectorAll(".lw-chat-select")) {
      button.setAttribute("aria-pressed", button.closest(".lw-chat-message").dataset.region === selected ? "true" : "false");
    }
  }

  function addMessage(box) {
    const text = box.querySelector(".lw-chat-text");
    const content = text.value.trim();
    if (!content) { text.focus(); return; }
    const chat = box.dataset.chat;
    const role = box.querySelector(".lw-chat-role-select").value;
    drafts[chat] = { role, text: "" };
    text.value = "";
    refocus = chat;
    lw().addRegion({ from_name: chat, to_name: chat, type: "chatmessage",
                     value: { chatmessage: { role, content, createdAt: Date.now() } } }, { select: false });
  }

  // an edited message keeps the spans whose words are still where they were (code points)
  function dropStaleSpans(id, content) {
    const points = Array.from(content);
    for (const input of document.querySelectorAll(".lw-workspace input[name=region]")) {
      const value = JSON.parse(input.value).value || {};
      if (value.message !== id) continue;
      const kept = value.text === undefined ? value.end <= points.length : points.slice(value.start, value.end).join("") === value.text;
      if (!kept) input.remove();
    }
  }

  // the whole message as a span (0 to its length), with the label pressed in a <Labels> on the chat
  function labelMessage(message) {
    const chat = message.closest(".lw-object").dataset.name;
    const label = lw().activeLabel(chat);
    const content = message.querySelector(".lw-chat-content[data-length]");
    const note = message.querySelector(".lw-chat-label");
    if (!label || !label.values.length) { note.textContent = "Press a label first, then Label whole message"; return; }
    lw().addRegion({ from_name: label.control, to_name: chat, type: label.type,
                     value: { message: message.dataset.region, start: 0, end: parseInt(content.dataset.length, 10),
                              [label.type]: label.values } }, { select: false });
  }

  document.addEventListener("click", (event) => {
    const add = event.target.closest(".lw-chat-add");
    if (add) { addMessage(add.closest(".lw-chat-compose")); return; }
    const whole = event.target.closest(".lw-chat-label");
    if (whole && lw()) { labelMessage(whole.closest(".lw-chat-message")); return; }
    const pick = event.target.closest(".lw-chat-select");
    if (pick && lw()) {
      const id = pick.closest(".lw-chat-message").dataset.region;
      lw().select(lw().selected() === id ? null : id);
      showPressed();
    }
  });

  document.addEventListener("input", (event) => {
    const box = event.target.closest && event.target.closest(".lw-chat-compose");
    if (box) drafts[box.dataset.chat] = { role: box.querySelector(".lw-chat-role-select").value,
                                          text: box.querySelector(".lw-chat-text").value };
  });

  // an added message edited: its region's content changes (one undo step, one draft save)
  document.addEventListener("change", (event) => {
    const box = event.target.closest && event.target.closest(".lw-chat-compose");
    if (box) { drafts[box.dataset.chat] = { role: box.querySelector(".lw-chat-role-select").value,
                                            text: box.querySelector(".lw-chat-text").value }; return; }
    const edit = event.target.closest && event.target.closest(".lw-chat-edit");
    if (!edit || !lw()) return;
    const message = edit.closest(".lw-chat-message");
    const item = JSON.parse(message.querySelector("input[name=region]").value);
    const content = edit.value.trim();
    if (!content || content === item.value.chatmessage.content) { edit.value = item.value.chatmessage.content; return; }
    dropStaleSpans(message.dataset.region, content);
    lw().updateRegion(message.dataset.region, { chatmessage: Object.assign({}, item.value.chatmessage, { content }) });
  });

  document.addEventListener("lw:rendered", () => {
    for (const box of document.querySelectorAll(".lw-chat-compose")) {
      const draft = drafts[box.dataset.chat];
      if (draft) {
        box.querySelector(".lw-chat-role-select").value = draft.role;
        box.querySelector(".lw-chat-text").value = draft.text;
      }
      if (refocus === box.dataset.chat) box.querySelector(".lw-chat-text").focus();
    }
    refocus = null;
    showPressed();
  });
})();
