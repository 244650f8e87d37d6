// The labelling workspace. The server renders the form from the config and re-renders it after
// every change (an htmx request that also stores the draft); this script only does what the
// browser must: turn a text selection into code-point offsets, keep label and region selection,
// catch keys, keep undo steps, and hold on to a change while the network is down.
(function () {
  "use strict";
  const root = document.querySelector(".lw-workspace");
  if (!root || window.Labelwell) return;
  const form = document.getElementById("lw-work");
  const body = document.getElementById("lw-body");
  const messages = document.getElementById("lw-messages");
  const base = root.dataset.base;
  const keymap = JSON.parse(root.dataset.keymap || "{}");
  const META = new Set(["_csrf_token", "key", "lead_time", "revision", "prediction", "restore", "from"]);
  const loadedAt = performance.now();
  const leadBase = parseFloat(root.dataset.leadTime) || 0;
  const pendingKey = "labelwell-pending:" + base;
  let revision = parseInt(root.dataset.revision, 10) || 0;
  let selected = null;        // the selected region's id
  let relationFrom = null;    // a region id while picking the other end of a relation
  let pressed = {};           // control name -> label values pressed in its palette
  let undoStack = [], redoStack = [];
  let current = snapshot();   // the state as last rendered: what an undo returns to
  let edits = 0;              // local changes so far; a reply to an older state is not swapped in
  let sentAt = 0, savedAt = 0, offline = false, leaving = false;

  // -- the form's state ---------------------------------------------------------------------

  function snapshot() {
    const pairs = [];
    for (const [name, value] of new FormData(form)) if (!META.has(name)) pairs.push([name, String(value)]);
    return pairs;
  }

  function leadTime() { return (leadBase + (performance.now() - loadedAt) / 1000).toFixed(3); }

  function stamp() {
    revision = Math.max(Date.now(), revision + 1);
    form.elements.revision.value = revision;
    form.elements.lead_time.value = leadTime();
  }

  function save() {
    stamp();
    sentAt = edits;
    setSaved("Saving…");
    htmx.trigger(form, "lw-save");
  }

  // every change goes through here: one undo step, one draft request
  function changed() {
    undoStack.push(current);
    redoStack = [];
    current = snapshot();
    edits += 1;
    clearMessages();
    save();
    buttons();
  }

  // An undo, redo or recovered change: the server renders `state`. Until that reply is on screen
  // the form shows the old state, so it takes no input (a change made on it would be lost).
  let restoring = null;
  function restore(state) {
    current = state;
    restoring = state;
    body.inert = true;
    edits += 1;
    save();
    buttons();
    setTimeout(() => {  // no reply (offline): give the form back as it is, and save that instead
      if (restoring !== state) return;
      restoring = null;
      body.inert = false;
      current = snapshot();
      edits += 1;
      save();
    }, 5000);
  }

  function undo() { if (undoStack.length) { redoStack.push(current); restore(undoStack.pop()); } }
  function redo() { if (redoStack.length) { undoStack.push(current); restore(redoStack.pop()); } }

  function buttons() {
    form.querySelector("[data-action=undo]").disabled = !undoStack.length;
    form.querySelector("[data-action=redo]").disabled = !redoStack.length;
  }

  function setSaved(text) { const el = document.getElementById("lw-saved"); if (el) el.textContent = text; }
  function clearMessages() { messages.innerHTML = ""; }
  function say(text, error) {
    messages.innerHTML = "";
    const p = document.createElement("p");
    p.className = "flash " + (error ? "flash-error" : "flash-info");
    p.textContent = text;
    messages.appendChild(p);
  }

  // -- regions ------------------------------------------------------------------------------

  function regionInputs() { return Array.from(body.querySelectorAll("input[name=region]")); }
  function findRegion(id) {
    for (const input of regionInputs()) {
      const item = JSON.parse(input.value);
      if (String(item.id) === String(id)) return { input, item };
    }
    return null;
  }

  function newId() {
    const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    const bytes = crypto.getRandomValues(new Uint8Array(10));
    return Array.from(bytes, (b) => abc[b % 64]).join("");
  }

  // a new box stays selected (to adjust it at once); a new span does not, so the next label
  // key labels the next selection instead of relabelling this one
  function addRegion(item, options) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "region";
    item.id = item.id || newId();
    item.origin = item.origin || "manual";
    input.value = JSON.stringify(item);
    body.appendChild(input);
    selected = options && options.select === false ? null : item.id;
    changed();
    return item.id;
  }

  function updateRegion(id, patch, extra) {
    const found = findRegion(id);
    if (!found) return;
    const item = Object.assign(found.item, extra || {});
    item.value = Object.assign({}, item.value, patch || {});
    if (item.origin === "prediction") item.origin = "prediction-changed";
    found.input.value = JSON.stringify(item);
    changed();
  }

  function deleteRegion(id) {
    const found = findRegion(id);
    if (!found) return;
    found.input.remove();
    for (const other of regionInputs()) {  // a <Chat> message's spans go with it
      if (String((JSON.parse(other.value).value || {}).message) === String(id)) other.remove();
    }
    for (const input of body.querySelectorAll("input[name=relation]")) {
      const r = JSON.parse(input.value);
      if (String(r.from_id) === String(id) || String(r.to_id) === String(id)) input.remove();
    }
    if (selected === id) selected = null;
    changed();
  }

  function select(id) {
    selected = id || null;
    showSelection();
  }

  function showSelection() {
    for (const el of document.querySelectorAll(".lw-selected")) el.classList.remove("lw-selected");
    if (!selected) return;
    for (const el of body.querySelectorAll("[data-region]")) {
      if (el.dataset.region === selected) el.classList.add("lw-selected");
    }
    for (const el of body.querySelectorAll("mark[data-regions]")) {
      if (el.dataset.regions.split(" ").includes(selected)) el.classList.add("lw-selected");
    }
  }

  function addRelation(fromId, toId) {
    if (fromId === toId) return;
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "relation";
    input.value = JSON.stringify({ from_id: fromId, to_id: toId, type: "relation", direction: "right" });
    body.appendChild(input);
    changed();
  }

  function pick(id) {
    if (relationFrom) {
      const from = relationFrom;
      relationFrom = null;
      root.classList.remove("lw-relating");
      clearMessages();
      addRelation(from, id);
      return;
    }
    select(selected === id ? null : id);
  }

  // -- labels -------------------------------------------------------------------------------

  function palettes() { return Array.from(body.querySelectorAll(".lw-labels[data-control]")); }

  function activeLabel(objectName) {
    for (const fieldset of palettes()) {
      const targets = (fieldset.dataset.to || "").split(",");
      const values = pressed[fieldset.dataset.control];
      if (targets.includes(objectName) && values) {
        return { control: fieldset.dataset.control, type: fieldset.dataset.type, values: values.filter((v) => v !== "") };
      }
    }
    return null;
  }

  function showPressed() {
    for (const fieldset of palettes()) {
      const values = pressed[fieldset.dataset.control] || [];
      for (const button of fieldset.querySelectorAll(".lw-label")) {
        button.setAttribute("aria-pressed", values.includes(button.dataset.value) ? "true" : "false");
      }
    }
  }

  // a label clicked or its key pressed: label the selected text, else relabel the selected
  // region, else make it the label that the next selection or drawing gets
  function useLabel(button) {
    const fieldset = button.closest(".lw-labels");
    const control = fieldset.dataset.control, value = button.dataset.value;
    const span = textSelection();
    if (span && (fieldset.dataset.to || "").split(",").includes(span.object) && fieldset.dataset.type.endsWith("labels")) {
      window.getSelection().removeAllRanges();
      addRegion({ from_name: control, to_name: span.object, type: fieldset.dataset.type,
                  value: { ...span.where, [fieldset.dataset.type]: [value] } }, { select: false });
      return;
    }
    const region = selected && findRegion(selected);
    if (region && region.item.from_name === control && value !== "") {
      const key = fieldset.dataset.type;
      const now = region.item.value[key] || [];
      const next = fieldset.dataset.choice === "multiple"
        ? (now.includes(value) ? now.filter((v) => v !== value) : now.concat([value])) : [value];
      updateRegion(selected, { [key]: next });
      return;
    }
    const now = pressed[control] || [];
    if (now.includes(value)) delete pressed[control];
    else pressed[control] = fieldset.dataset.choice === "multiple" ? now.concat([value]) : [value];
    showPressed();
    document.dispatchEvent(new CustomEvent("lw:label", { detail: { control, type: fieldset.dataset.type } }));
  }

  // -- text selection -> code points of the task's text ---------------------------------------

  // The page shows the task's text cut into pieces, each with data-start (its offset in code
  // points). A DOM offset counts UTF-16 units, so the text up to the boundary is re-counted.
  function boundary(textBody, node, offset) {
    const piece = (node.nodeType === Node.TEXT_NODE ? node.parentElement : node).closest("[data-start]");
    if (!piece || !textBody.contains(piece)) {
      const child = node === textBody ? textBody.childNodes[offset] : null;
      if (child && child.dataset && child.dataset.start) return parseInt(child.dataset.start, 10);
      return parseInt(textBody.dataset.length, 10);
    }
    const range = document.createRange();
    range.setStart(piece, 0);
    range.setEnd(node, offset);
    return parseInt(piece.dataset.start, 10) + Array.from(range.toString()).length;
  }

  function textSelection() {
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return null;
    const range = sel.getRangeAt(0);
    for (const textBody of body.querySelectorAll(".lw-text-body")) {
      if (!range.intersectsNode(textBody)) continue;
      const length = parseInt(textBody.dataset.length, 10);
      const start = textBody.contains(range.startContainer) ? boundary(textBody, range.startContainer, range.startOffset) : 0;
      const end = textBody.contains(range.endContainer) ? boundary(textBody, range.endContainer, range.endOffset) : length;
      if (end > start) return { object: textBody.closest(".lw-object").dataset.name, where: { start, end } };
    }
    return paragraphSelection(range) || chatSelection(range);
  }

  // A selection in a <Chat> message: the message's region id and code-point offsets in its content
  // (a drag past the message's end stops there; one message per span).
  function chatSelection(range) {
    for (const content of body.querySelectorAll(".lw-chat-content[data-length]")) {
      if (!range.intersectsNode(content)) continue;
      const start = content.contains(range.startContainer) ? boundary(content, range.startContainer, range.startOffset) : 0;
      const end = content.contains(range.endContainer) ? boundary(content, range.endContainer, range.endOffset) : parseInt(content.dataset.length, 10);
      if (end > start) {
        return { object: content.closest(".lw-object").dataset.name,
                 where: { message: content.closest(".lw-chat-message").dataset.region, start, end } };
      }
    }
    return null;
  }

  // A selection in <Paragraphs>: the first and last paragraph it touches (indexes, as strings, as
  // Label Studio writes them) and code-point offsets inside those two.
  function paragraphSelection(range) {
    for (const object of body.querySelectorAll(".lw-paragraphs")) {
      const hit = [...object.querySelectorAll(".lw-paragraph-text")].filter((t) => range.intersectsNode(t));
      if (!hit.length) continue;
      let first = hit[0], last = hit[hit.length - 1];
      const startOffset = first.contains(range.startContainer) ? boundary(first, range.startContainer, range.startOffset) : 0;
      let endOffset = last.contains(range.endContainer) ? boundary(last, range.endContainer, range.endOffset) : parseInt(last.dataset.length, 10);
      if (endOffset === 0 && hit.length > 1) {  // dragged to the very start of the next paragraph: ends with the one before
        last = hit[hit.length - 2];
        endOffset = parseInt(last.dataset.length, 10);
      }
      const start = first.closest(".lw-paragraph").dataset.index, end = last.closest(".lw-paragraph").dataset.index;
      if (start !== end || endOffset > startOffset) {
        return { object: object.dataset.name, where: { start, end, startOffset, endOffset } };
      }
    }
    return null;
  }

  document.addEventListener("mouseup", (event) => {
    if (!event.target.closest || !event.target.closest(".lw-text-body, .lw-paragraphs, .lw-chat-content")) return;
    const span = textSelection();
    if (!span) return;
    const label = activeLabel(span.object);
    if (label && label.type.endsWith("labels")) {
      window.getSelection().removeAllRanges();
      addRegion({ from_name: label.control, to_name: span.object, type: label.type,
                  value: { ...span.where, [label.type]: label.values } }, { select: false });
    }
  });

  // Keyboard selection: in a focused text, arrows move a caret and Shift+arrows extend the
  // selection (Ctrl for whole words), so spans can be made without a mouse. Chrome and Firefox
  // can move a selection in text that is not editable (Selection.modify).
  function keyboardSelect(event) {
    const textBody = event.target.closest && event.target.closest(".lw-text-body, .lw-chat-content[tabindex]");
    if (!textBody || !body.contains(textBody) || !/^Arrow(Left|Right|Up|Down)$/.test(event.key) || event.altKey) return false;
    const sel = window.getSelection();
    if (!sel.rangeCount || !textBody.contains(sel.anchorNode)) {
      const walker = document.createTreeWalker(textBody, NodeFilter.SHOW_TEXT);
      const first = walker.nextNode();
      if (!first) return false;
      sel.collapse(first, 0);
    }
    const forward = event.key === "ArrowRight" || event.key === "ArrowDown";
    const unit = event.key.endsWith("Up") || event.key.endsWith("Down") ? "line" : (event.ctrlKey || event.metaKey) ? "word" : "character";
    sel.modify(event.shiftKey ? "extend" : "move", forward ? "forward" : "backward", unit);
    event.preventDefault();
    return true;
  }

  // -- clicks ---------------------------------------------------------------------------------

  document.addEventListener("click", (event) => {
    const target = event.target;
    const action = target.closest("[data-action]");
    if (action && root.contains(action)) {
      event.preventDefault();
      run(action.dataset.action, action);
      return;
    }
    const label = target.closest(".lw-label");
    if (label && body.contains(label) && !label.disabled) { useLabel(label); return; }
    const mark = target.closest("mark[data-regions]");
    if (mark && body.contains(mark) && window.getSelection().isCollapsed) {
      const ids = mark.dataset.regions.split(" ");
      const at = ids.indexOf(selected);  // clicking again cycles through overlapping spans
      pick(ids[at >= 0 && at > 0 ? at - 1 : ids.length - 1]);
      return;
    }
    const item = target.closest(".lw-region");
    if (item && body.contains(item) && !target.closest("input, select, textarea, label, button")) pick(item.dataset.region);
  });

  form.addEventListener("change", (event) => {
    if (event.target.type === "hidden" || event.target.closest("[data-local]")) return;  // data-local: a tool's own field
    changed();
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); run("submit"); });

  // typing in a text field: saved once the typist pauses, so a crash mid-sentence loses little
  let typing = null, typingPending = false;
  form.addEventListener("input", (event) => {
    if (!event.target.matches("textarea, input[type=text]") || event.target.closest("[data-local]")) return;
    clearTimeout(typing);
    typingPending = true;
    typing = setTimeout(() => { typingPending = false; changed(); }, 800);
  });

  // -- actions and keys -----------------------------------------------------------------------

  function send(path) {
    clearTimeout(typing);
    typingPending = false;
    stamp();
    leaving = true;
    for (const b of form.querySelectorAll("[data-action=submit], [data-action=skip]")) b.disabled = true;
    htmx.ajax("POST", base + path, { source: form, target: "#lw-messages", swap: "innerHTML" }).finally(() => {
      leaving = false;
      for (const b of form.querySelectorAll("[data-action=submit], [data-action=skip]")) b.disabled = false;
    });
  }

  function run(action, element) {
    switch (action) {
      case "submit": return send("/submit");
      case "skip": return form.querySelector("[data-action=skip]") && send("/skip");
      case "undo": return undo();
      case "redo": return redo();
      case "delete": return selected && deleteRegion(selected);
      case "delete-region": return deleteRegion(element.closest(".lw-region").dataset.region);
      case "unselect":
        relationFrom = null; root.classList.remove("lw-relating"); clearMessages(); return select(null);
      case "relation":
        if (!selected) return say("Select a region first, then press " + keymap.relation + " and pick the other one.");
        relationFrom = selected; root.classList.add("lw-relating");
        return say("Pick the region this one relates to (Escape cancels).");
      case "previous": if (root.dataset.previous) location.href = root.dataset.previous; return;
      case "next": location.href = root.dataset.queue; return;
      case "use-suggestion": {
        const template = document.getElementById("lw-suggested");
        return template && useSuggestion(template, true);
      }
      case "instructions": {
        const box = document.getElementById("lw-instructions");
        if (box) box.hidden = !box.hidden;
        return;
      }
      case "help": {
        const dialog = document.getElementById("lw-help");
        if (dialog.open) dialog.close(); else dialog.showModal();
        return;
      }
    }
  }

  function combo(event) {
    let key = event.key.toLowerCase();
    if (event.code && event.code.startsWith("Key")) key = event.code.slice(3).toLowerCase();
    else if (event.code && event.code.startsWith("Digit") && !event.shiftKey) key = event.code.slice(5);
    if (key === " ") key = "space";
    const parts = [];
    if (event.ctrlKey || event.metaKey) parts.push("ctrl");
    if (event.altKey) parts.push("alt");
    if (event.shiftKey && (key.length > 1 || /[a-z0-9]/.test(key))) parts.push("shift");
    parts.push(key);
    return parts.join("+");
  }

  function editing(target) {
    return target.matches && target.matches("textarea, select, [contenteditable], input:not([type=radio]):not([type=checkbox]):not([type=hidden]):not([type=range])");
  }

  document.addEventListener("keydown", (event) => {
    if (event.isComposing || ["Control", "Shift", "Alt", "Meta"].includes(event.key)) return;
    if (document.getElementById("lw-help").open) return;  // the dialog's own keys (Escape closes it)
    if (keyboardSelect(event)) return;
    const keys = combo(event);
    const inField = editing(event.target);
    for (const [action, key] of Object.entries(keymap)) {
      if (key !== keys) continue;
      if (inField && !/^(ctrl|alt)\+/.test(keys) && action !== "unselect") continue;  // typing wins
      event.preventDefault();
      run(action);
      return;
    }
    if (inField || event.ctrlKey || event.metaKey || event.altKey) return;
    const hotkey = keys.replace(/^shift\+/, "");
    // label and choice keys: a control of the selected region first, then the task's own
    const scope = selected && body.querySelector(`.lw-region[data-region="${CSS.escape(selected)}"]`);
    const candidates = [...(scope ? scope.querySelectorAll("[data-hotkey]") : []), ...body.querySelectorAll("[data-hotkey]")];
    const hit = candidates.find((el) => (el.dataset.hotkey || "").toLowerCase() === hotkey && !el.disabled);
    if (!hit) return;
    event.preventDefault();
    if (hit.classList.contains("lw-label")) useLabel(hit);
    else hit.click();
  });

  // -- talking to the server ----------------------------------------------------------------

  // the state to restore travels with the request itself, never in the form (see restore())
  // the CSRF token of the current session: after signing in again (in another tab) the token this
  // page was served with no longer matches, and a retried save must carry the new one
  function csrfNow() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : csrf;
  }

  document.body.addEventListener("htmx:configRequest", (event) => {
    if (!fromForm(event)) return;
    event.detail.headers["x-csrftoken"] = csrfNow();
    event.detail.parameters._csrf_token = csrfNow();
    if (restoring) event.detail.parameters.restore = JSON.stringify(restoring);
    else delete event.detail.parameters.restore;
  });

  // a draft's reply is swapped in only when it is the form itself (200 from /draft) for the work
  // on screen; a login page after an expired session, or an error page, never replaces the work
  function isForm(xhr) {
    return xhr && xhr.status === 200 && new URL(xhr.responseURL || location.href, location.href).pathname.endsWith("/draft");
  }

  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (!isDraft(event) || event.detail.target !== body) return;
    if (!isForm(event.detail.xhr)) { event.detail.shouldSwap = false; return; }
    // newer work is on screen (a change, or typing not yet saved): its own save follows
    if (edits !== sentAt || typingPending) event.detail.shouldSwap = false;
  });

  // the form's own request (in swap events htmx's `elt` is the target; the requester is in requestConfig)
  function fromForm(event) {
    return ((event.detail.requestConfig && event.detail.requestConfig.elt) || event.detail.elt) === form;
  }

  function isDraft(event) {
    const path = (event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    return fromForm(event) && path.endsWith("/draft");
  }

  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (!fromForm(event)) return;
    const xhr = event.detail.xhr;
    if (!isDraft(event)) {
      // a refused submit or skip may have cut a draft save short: send the work again
      if (xhr && xhr.status >= 400 && savedAt !== edits) save();
      return;
    }
    if (event.detail.failed && (!xhr || xhr.status === 0)) return;  // sendError handles the network
    if (xhr && xhr.status === 422) {
      if (undoStack.length && edits === sentAt) restore(undoStack.pop());  // refused (a limit of the config): step back
      return;
    }
    if (!isForm(xhr)) {
      // signed out (the reply is the login page) or a server error: keep the work in this page
      keepOffline();
      say(xhr && xhr.status < 300 ? "You are signed out. Log in again in another tab; your change is kept here and saved then."
        : "The server could not save your change just now; it is kept here and will be sent again.", true);
      return;
    }
    offline = false;
    document.getElementById("lw-network").hidden = true;
    localStorage.removeItem(pendingKey);
    savedAt = sentAt;
    setSaved(savedAt === edits ? "Draft saved" : "Saving…");
    if (edits !== sentAt) save();
  });

  function keepOffline() {
    offline = true;
    document.getElementById("lw-network").hidden = false;
    setSaved("Not saved yet");
    localStorage.setItem(pendingKey, JSON.stringify({ revision, state: current }));
  }
  document.body.addEventListener("htmx:sendError", (event) => {
    if (isDraft(event)) keepOffline();
    else if (fromForm(event)) {
      keepOffline();
      say("Not sent: you are offline. Your work is kept; press the button again once the connection is back.", true);
    }
  });
  document.body.addEventListener("htmx:timeout", (event) => { if (isDraft(event)) keepOffline(); });
  window.addEventListener("online", () => { if (offline) save(); });
  setInterval(() => { if (offline) save(); }, 4000);

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== body) return;
    restoring = null;
    body.inert = false;
    current = snapshot();
    rendered();
  });

  function rendered() {
    showPressed();
    // a region may be shown without a field of its own (a <Chat>'s imported message)
    if (selected && !findRegion(selected) && !body.querySelector(`[data-region="${CSS.escape(selected)}"]`)) selected = null;
    showSelection();
    buttons();
    document.dispatchEvent(new CustomEvent("lw:rendered"));
  }

  // the hold on the task: renewed while the page is open, let go when the annotator leaves
  const lockSeconds = parseInt(root.dataset.lockSeconds, 10) || 600;
  const csrf = form.elements._csrf_token ? form.elements._csrf_token.value : "";
  function heartbeat() {
    const data = new FormData();
    data.append("key", form.elements.key.value);
    fetch(base + "/lock", { method: "POST", headers: { "x-csrftoken": csrfNow() }, body: data }).then((r) => {
      if (r.status === 409) say("Someone else now holds this task after a long pause. Your work is kept as a draft.", true);
    }).catch(() => {});
  }
  if (!root.dataset.updating) setInterval(heartbeat, Math.max(5, lockSeconds / 3) * 1000);  // an update holds nothing
  window.addEventListener("pagehide", () => {
    if (leaving) return;
    if (typingPending || savedAt !== edits) {
      // work not yet saved (a pause in typing, a request in flight): it goes with the goodbye,
      // in one request, so the release cannot overtake the save
      stamp();
      const work = new FormData(form);
      if (restoring) work.set("restore", JSON.stringify(restoring));
      work.set("release", "1");
      work.set("_csrf_token", csrfNow());
      navigator.sendBeacon(base + "/draft", work);
      return;
    }
    const data = new FormData();
    data.append("_csrf_token", csrfNow());
    data.append("key", form.elements.key.value);  // only this page's hold: a reload already holds the task again
    navigator.sendBeacon(base + "/release", data);
  });

  // the model's prediction, asked for when the page opened, arrives in #lw-suggestion (polled by
  // htmx). Untouched work takes it at once; work already begun keeps it one click away ("Use it"),
  // an undoable change like any other.
  function useSuggestion(template, asChange) {
    if (asChange) {
      // typing not yet saved becomes its own step first, so undo brings it back
      if (typingPending) { clearTimeout(typing); typingPending = false; changed(); }
      undoStack.push(current);
      redoStack = [];
      restoring = null;  // an undo still in flight must not overwrite the suggestion
      body.inert = false;
    }
    body.innerHTML = template.innerHTML;
    htmx.process(body);
    form.elements.prediction.value = template.dataset.prediction;
    selected = null;
    if (asChange) { current = snapshot(); edits += 1; save(); buttons(); } else current = snapshot();
    rendered();
    const note = document.getElementById("lw-suggestion");
    if (note) note.innerHTML = "<p class=\"flash flash-info\" data-testid=\"suggestion-used\">Starting from the model's suggestion: correct what it got wrong.</p>";
  }
  // only the poll's own answer goes there: a login page after the session ended does not
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target.id !== "lw-suggestion") return;
    const xhr = event.detail.xhr;
    const path = new URL((xhr && xhr.responseURL) || location.href, location.href).pathname;
    if (!path.endsWith("/suggestion")) event.detail.shouldSwap = false;
  });
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "lw-suggestion") return;
    const template = document.getElementById("lw-suggested");
    if (template && edits === 0 && !typingPending && !undoStack.length) useSuggestion(template, false);
  });
  // a change made offline in an earlier visit of this page, newer than the stored draft
  try {
    const pending = JSON.parse(localStorage.getItem(pendingKey) || "null");
    if (pending && pending.revision > revision && Array.isArray(pending.state)) {
      undoStack.push(current);
      restore(pending.state);
      say("Your change made while offline was restored and saved.");
    } else localStorage.removeItem(pendingKey);
  } catch (e) { localStorage.removeItem(pendingKey); }

  window.Labelwell = { form, activeLabel, addRegion, updateRegion, deleteRegion, select, newId,
                       selected: () => selected, changed, save, undo, redo,
                       editing, keyTaken: (key) => Object.values(keymap).includes(key) };  // for the tools' own keys
  rendered();
  root.dataset.ready = "true";  // for people's scripts and browser tests: keys and clicks work from here
})();
// A bucket's object is loaded through the resolver (/tasks/<id>/resolve/?fileuri=…), which redirects
// to a presigned URL that expires after the storage's presign_ttl. An image or a player whose
// signed URL ran out while the task stayed open (a seek after the TTL) fails: ask the resolver again
// for a fresh signature, keeping the player's place. At most once every 10 s per element.
(function () {
  "use strict";
  document.addEventListener("error", (event) => {
    const media = event.target;
    if (!(media instanceof HTMLImageElement || media instanceof HTMLMediaElement)) return;
    const src = media.currentSrc || media.src || "";
    if (!src.includes("/resolve/?fileuri=")) return;
    const last = Number(media.dataset.renewedAt || 0);
    if (Date.now() - last < 10000) return;
    media.dataset.renewedAt = String(Date.now());
    const url = new URL(src, location.href);
    url.searchParams.set("renew", String(Date.now()));
    const at = media instanceof HTMLMediaElement ? media.currentTime : 0;
    media.src = url.pathname + url.search;
    if (media instanceof HTMLMediaElement) {
      media.addEventListener("loadedmetadata", () => { media.currentTime = at; }, { once: true });
    }
  }, true);
})();
