// Keyboard shortcuts shared by every page. Pages add their own keys with data-shortcut="x" on a
// link or button: pressing x clicks it. "?" opens the list of shortcuts. j/k move in lists marked
// data-keynav, Enter opens the selected row's first link.
(function () {
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function moveSelection(step) {
    var list = document.querySelector("[data-keynav]");
    if (!list) return false;
    var rows = Array.prototype.slice.call(list.querySelectorAll("[data-keyrow]"));
    if (!rows.length) return false;
    var current = rows.findIndex(function (row) { return row.classList.contains("selected"); });
    var next = Math.max(0, Math.min(rows.length - 1, current === -1 ? 0 : current + step));
    rows.forEach(function (row) { row.classList.remove("selected"); row.removeAttribute("aria-selected"); });
    rows[next].classList.add("selected");
    rows[next].setAttribute("aria-selected", "true");
    rows[next].scrollIntoView({ block: "nearest" });
    return true;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (key === "?") {
      var dialog = document.getElementById("shortcuts");
      if (dialog && dialog.showModal) { dialog.showModal(); event.preventDefault(); }
      return;
    }
    if (key === "j" || key === "k") {
      if (moveSelection(key === "j" ? 1 : -1)) event.preventDefault();
      return;
    }
    if (key === "Enter") {
      var selected = document.querySelector("[data-keynav] [data-keyrow].selected a");
      if (selected) { selected.click(); event.preventDefault(); }
      return;
    }
    var target = document.querySelector('[data-shortcut="' + CSS.escape(key) + '"]');
    if (target) {
      event.preventDefault();
      if (target.tagName === "TEXTAREA" || target.tagName === "INPUT") { target.focus(); } else { target.click(); }
    }
  });
})();
