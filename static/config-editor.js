// Line numbers beside the config textarea, kept in step with its lines and its scrolling,
// and a click on "line N" in the error list moves the caret there.
// The tag reference beside it: a filter, links that open an entry (also from an error naming a tag),
// and Insert, which puts an entry's example into the config at the caret (the preview follows,
// as it does on typing: the textarea gets an input event).
(function () {
  function setup(textarea) {
    var gutter = textarea.parentElement.querySelector(".gutter");
    if (!gutter || textarea.dataset.gutter) return;
    textarea.dataset.gutter = "1";
    function number() {
      var lines = textarea.value.split("\n").length, out = [];
      for (var i = 1; i <= lines; i++) out.push(i);
      gutter.textContent = out.join("\n");
      gutter.scrollTop = textarea.scrollTop;
    }
    textarea.addEventListener("input", number);
    textarea.addEventListener("scroll", function () { gutter.scrollTop = textarea.scrollTop; });
    // the caret counts once the author has been in the editor; before that, Insert goes before </View>
    ["focus", "keyup", "mouseup", "select"].forEach(function (name) {
      textarea.addEventListener(name, function () { textarea.dataset.caret = "1"; });
    });
    number();
  }
  function goToLine(event) {
    var link = event.target.closest(".line-ref");
    var textarea = document.getElementById("label_config");
    if (!link || !textarea) return;
    event.preventDefault();
    var line = parseInt(link.closest("[data-line]").dataset.line, 10);
    var lines = textarea.value.split("\n"), offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
    textarea.focus();
    textarea.setSelectionRange(offset, offset + (lines[line - 1] || "").length);
  }

  // -- the reference panel --------------------------------------------------------------------
  function openEntry(event) {
    var link = event.target.closest("a.tag-ref, a[href^='#tag-']");
    if (!link) return;
    var entry = document.getElementById(link.getAttribute("href").slice(1));
    if (!entry || entry.tagName !== "DETAILS") return;
    event.preventDefault();
    if (entry.hidden) filter("");
    entry.open = true;
    entry.scrollIntoView({ block: "nearest" });
    entry.querySelector("summary").focus();
    if (history.replaceState) history.replaceState(null, "", "#" + entry.id);
  }
  function filter(query) {
    var box = document.getElementById("reference-filter");
    if (!box) return;
    if (box.value !== query) box.value = query;
    var words = query.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    document.querySelectorAll("#reference .tag-entry").forEach(function (entry) {
      var text = entry.dataset.search || "";
      entry.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
      if (!entry.hidden) shown++;
    });
    document.querySelectorAll("#reference .reference-section").forEach(function (section) {
      section.hidden = !section.querySelector(".tag-entry:not([hidden])");
    });
    var count = document.getElementById("reference-count");
    if (count) count.textContent = shown + (shown === 1 ? " tag" : " tags") + (words.length ? " match" : "");
  }
  function insertExample(event) {
    var button = event.target.closest(".insert-example");
    var textarea = document.getElementById("label_config");
    if (!button || !textarea) return;
    var snippet = document.getElementById(button.dataset.example).textContent, value = textarea.value;
    var at = textarea.selectionStart, end = textarea.selectionEnd;
    if (!textarea.dataset.caret) {  // never in the editor: inside the outer View, before it closes
      at = end = value.lastIndexOf("</View>") >= 0 ? value.lastIndexOf("</View>") : value.length;
    }
    var lineStart = value.lastIndexOf("\n", at - 1) + 1;
    var indent = (value.slice(lineStart, at).match(/^\s*/) || [""])[0];
    var before = value.slice(lineStart, at).trim() ? "\n" + indent : "";
    var text = before + snippet.split("\n").join("\n" + indent);
    var after = value.slice(end, value.indexOf("\n", end) < 0 ? value.length : value.indexOf("\n", end)).trim();
    if (after) text += "\n" + indent;
    textarea.focus();
    textarea.setRangeText(text, at, end, "end");
    textarea.dataset.caret = "1";
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function init() {
    var textarea = document.getElementById("label_config");
    if (textarea) setup(textarea);
    var box = document.getElementById("reference-filter");
    if (box && !box.dataset.ready) {
      box.dataset.ready = "1";
      box.addEventListener("input", function () { filter(box.value); });
    }
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:load", init);
  document.addEventListener("click", goToLine);
  document.addEventListener("click", openEntry);
  document.addEventListener("click", insertExample);
})();
