// Workspace pages: live countdowns for SLA and claim clocks, and "n" for the chosen queue.
(function () {
  function compact(seconds) {
    seconds = Math.abs(Math.round(seconds));
    var d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600),
        m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + m + "m";
    if (m) return m + "m " + (m < 10 ? s + "s" : "");
    return s + "s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      var left = (due - now) / 1000;
      el.textContent = compact(left).trim() + (left >= 0 ? " left" : " overdue");
      el.classList.toggle("overdue", left < 0);
    });
  }
  // Queue page: "n" claims from the queue chosen with j/k (console.js moves .selected first).
  var chosenQueue = null;
  function moveNextShortcut() {
    var table = document.querySelector("[data-testid=queue-table]");
    if (!table) return;
    var rows = table.querySelectorAll("tr[data-queue]");
    if (chosenQueue) {
      rows.forEach(function (row) {
        var match = row.getAttribute("data-queue") === chosenQueue;
        row.classList.toggle("selected", match);
        if (match) row.setAttribute("aria-selected", "true"); else row.removeAttribute("aria-selected");
      });
    }
    var selected = table.querySelector("tr.selected[data-queue]") || rows[0];
    table.querySelectorAll("[data-next-case]").forEach(function (b) { b.removeAttribute("data-shortcut"); });
    if (selected) {
      var button = selected.querySelector("[data-next-case]");
      if (button) button.setAttribute("data-shortcut", "n");
    }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "j" && event.key !== "k") return;
    var selected = document.querySelector("[data-testid=queue-table] tr.selected[data-queue]");
    if (selected) { chosenQueue = selected.getAttribute("data-queue"); moveNextShortcut(); }
  });
  document.addEventListener("htmx:afterSettle", function () { moveNextShortcut(); tick(); });
  document.addEventListener("DOMContentLoaded", function () { moveNextShortcut(); tick(); });
  setInterval(tick, 1000);
})();
