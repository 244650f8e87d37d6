// Line numbers beside the config textarea, kept in step with its lines and its scrolling,
// and a click on "line N" in the error list moves the caret there.
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
  function init() {
    var textarea = document.getElementById("label_config");
    if (textarea) setup(textarea);
  }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:load", init);
  document.addEventListener("click", goToLine);
})();
