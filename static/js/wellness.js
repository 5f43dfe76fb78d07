// Exposure to sensitive material. A page showing a sensitive case carries data-exposure-url: while
// the page is visible and the window focused, it tells the server once a minute (the server counts
// each minute at most once per person, however many tabs beat). The server answers whether a break
// is due; the prompt is gentle (role=status, not a modal) and its Dismiss snoozes it for a stretch.
(function () {
  function csrf() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function post(url) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "X-Requested-With": "fetch", "Accept": "application/json" },
    });
  }
  function showPrompt(minutes) {
    var prompt = document.getElementById("break-prompt");
    if (!prompt || !prompt.hidden) return;
    var count = prompt.querySelector("[data-break-minutes]");
    if (count) count.textContent = String(minutes);
    prompt.hidden = false;
  }
  function dismiss(prompt) {
    var form = prompt.querySelector("form");
    prompt.hidden = true;
    post(form.getAttribute("action"));
    var main = document.getElementById("main");
    if (main) main.focus();
  }
  document.addEventListener("submit", function (event) {
    var prompt = event.target.closest && event.target.closest("#break-prompt");
    if (!prompt) return;
    event.preventDefault();
    dismiss(prompt);
  });
  document.addEventListener("keydown", function (event) {
    var prompt = event.key === "Escape" && event.target.closest && event.target.closest("#break-prompt");
    if (prompt) { event.preventDefault(); dismiss(prompt); }
  });
  // A revealed image in greyscale can be seen in colour on demand (the original is already here).
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-colour-toggle]");
    if (!toggle) return;
    var image = toggle.previousElementSibling;
    var colour = toggle.getAttribute("aria-pressed") !== "true";
    if (image) image.classList.toggle("in-colour", colour);
    toggle.setAttribute("aria-pressed", String(colour));
  });
  document.addEventListener("DOMContentLoaded", function () {
    var source = document.querySelector("[data-exposure-url]");
    if (!source) return;
    var url = source.getAttribute("data-exposure-url");
    var every = parseInt(source.getAttribute("data-exposure-seconds"), 10) || 60;
    function beat() {
      if (document.visibilityState !== "visible" || !document.hasFocus()) return;
      post(url).then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data && data.prompt) showPrompt(data.prompt.minutes); })
        .catch(function () { /* offline for a minute: that minute is simply not counted */ });
    }
    beat();
    window.setInterval(beat, every * 1000);
  });
})();
