// Keyboard shortcuts shared by every page. Pages add their own keys with data-shortcut="x" on a
// link or button: pressing x clicks it. "?" opens the list of shortcuts. j/k move in lists marked
// data-keynav, Enter opens the selected row's first link.
(function () {
  // Pages show times in the browser's zone: tell the server which one (TimezoneMiddleware).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\-\/]+$/.test(zone) && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* no Intl: the server's zone, labelled */ }
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
  // The decision form: offer the macros written for the checked actions, ask for a departure
  // reason only when the choice leaves the ladder's step. The server checks all of it again.
  function decisionForm(form) {
    var checked = Array.prototype.slice.call(form.querySelectorAll(".action-row"))
      .filter(function (row) { var box = row.querySelector("input[type=checkbox]"); return box && box.checked; });
    var kinds = checked.map(function (row) { return row.getAttribute("data-action"); });
    var macro = form.querySelector("#decision-macro");
    if (macro) {
      var firstFit = null;
      Array.prototype.forEach.call(macro.options, function (option) {
        var types = (option.getAttribute("data-actions") || "").split(" ").filter(Boolean);
        var fits = !types.length || types.some(function (t) { return kinds.indexOf(t) !== -1; });
        option.hidden = !fits; option.disabled = !fits;
        if (fits && types.length && !firstFit) firstFit = option;
      });
      // Swap the macro (and its text) only while the statement is the macro's own, unedited text.
      var current = macro.options[macro.selectedIndex];
      var text = form.querySelector("#decision-statement");
      var pristine = !text || text.value === "" || text.value === form.dataset.macroText;
      if (current && (current.disabled || (current.value === "" && pristine))) {
        var choice = pristine && firstFit ? firstFit.value : "";
        if (choice !== macro.value) {
          macro.value = choice;
          if (choice) macro.dispatchEvent(new Event("change", { bubbles: true }));
          else if (pristine && text) text.value = "";
        }
      }
    }
    var departure = form.querySelector("[data-departure]");
    var suggested = form.getAttribute("data-suggest-action");
    if (departure && suggested) {
      var hours = form.getAttribute("data-suggest-hours");
      var row = form.querySelector('.action-row[data-action="' + suggested + '"]');
      var keeps = false;
      if (row && kinds.indexOf(suggested) !== -1) {
        var amount = row.querySelector("input[type=number]"), unit = row.querySelector("select[name^=unit_]");
        var given = amount && amount.value ? parseInt(amount.value, 10) * (unit && unit.value === "days" ? 24 : 1) : "";
        keeps = String(given) === String(hours);
      }
      departure.hidden = keeps && !departure.querySelector(".errorlist");
    }
  }
  function refreshDecisionForms() {
    document.querySelectorAll("[data-decision-form]").forEach(function (form) {
      var macro = form.querySelector("#decision-macro"), text = form.querySelector("#decision-statement");
      if (macro && macro.value && text) form.dataset.macroText = text.value;
      decisionForm(form);
    });
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("[data-decision-form]");
    if (form && event.target.id !== "decision-macro") decisionForm(form);
  });
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("[data-decision-form]");
    if (form && event.target.type === "number") decisionForm(form);
  });
  document.addEventListener("DOMContentLoaded", refreshDecisionForms);
  // Saving a case-list filter saves what the list shows now (htmx keeps the address bar current).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("save-filter")) return;
    var query = form.querySelector("input[name=query]");
    if (query && window.location.search) query.value = window.location.search.slice(1);
  });
  // A table wider than a narrow screen scrolls in place; keyboard users reach it with Tab.
  function markScrollable() {
    document.querySelectorAll("table.grid").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) table.setAttribute("tabindex", "0");
      else if (table.getAttribute("tabindex") === "0") table.removeAttribute("tabindex");
    });
  }
  document.addEventListener("DOMContentLoaded", markScrollable);
  document.addEventListener("htmx:afterSettle", markScrollable);
  window.addEventListener("resize", markScrollable);
  // Narrow screens: the main navigation folds behind a Menu button.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-menu-toggle]");
    if (!toggle) return;
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("menu-open", open);
  });
  // Navigation menus (<details>): one open at a time; a click elsewhere or Esc closes them, Esc
  // returning the focus to the menu's button.
  function closeMenus(except) {
    document.querySelectorAll("details.navmenu[open]").forEach(function (menu) {
      if (menu !== except) menu.open = false;
    });
  }
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (menu.classList && menu.classList.contains("navmenu") && menu.open) closeMenus(menu);
  }, true);
  document.addEventListener("click", function (event) {
    if (!(event.target.closest && event.target.closest("details.navmenu"))) closeMenus(null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = event.target.closest && event.target.closest("details.navmenu[open]");
    if (menu) { menu.open = false; menu.querySelector("summary").focus(); event.stopPropagation(); }
  });
  // Rows with data-href open on a click anywhere in the row (links and buttons keep their own).
  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("tr[data-href]");
    if (!row || event.target.closest("a, button, input, select, textarea, label, summary")) return;
    if (window.getSelection && String(window.getSelection())) return;  // selecting text, not opening
    window.location.href = row.getAttribute("data-href");
  });
  document.addEventListener("htmx:afterSettle", refreshDecisionForms);

  document.addEventListener("keydown", function (event) {
    // Ctrl/Cmd+Enter sends the form being typed in (the decision, a note, a hold...).
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.form) {
      event.preventDefault();
      event.target.form.requestSubmit();
      return;
    }
    // Esc leaves a field, so the page's keys work again without reaching for the mouse.
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
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
      if (target.tagName === "TEXTAREA" || target.tagName === "INPUT" || target.tagName === "SELECT") {
        target.focus();
      } else if (target.tagName === "SUMMARY") {
        // A folded form: open it and put the cursor in its first field.
        var details = target.parentElement;
        details.open = true;
        var field = details.querySelector("textarea, input:not([type=hidden]), select");
        if (field) field.focus();
      } else { target.click(); }
    }
  });
})();
