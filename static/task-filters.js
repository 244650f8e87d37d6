// The task list's filter builder: "Add a row" copies the last row, emptied. Without this script
// the form still works: a blank row is always there to fill in.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("add-filter-row");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var rows = document.getElementById("filter-rows"), copy = rows.lastElementChild.cloneNode(true);
    var n = rows.children.length + 1;
    copy.querySelectorAll("select, input, label").forEach(function (el) {
      var attr = el.tagName === "LABEL" ? "for" : "id";
      el.setAttribute(attr, el.getAttribute(attr).replace(/-\d+$/, "-" + n));
      if (el.tagName === "INPUT" || el.name === "fc") { el.value = ""; }
    });
    rows.appendChild(copy);
    copy.querySelector("select").focus();
  });
});
