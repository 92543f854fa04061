// Clinicbox pages: progressive enhancement only. Every page works without
// this script; with it the waiting-room board updates live.
(function () {
  "use strict";

  // The live board: listen to server-sent events and swap in a fresh board
  // fragment, keeping focus on the same control.
  function liveBoard(root) {
    if (!window.EventSource || !window.fetch) return;
    var status = document.getElementById("board-status");
    var pending = null, inFlight = false, again = false;

    function focusKey(el) {
      if (!el || !root.contains(el)) return null;
      return el.getAttribute("data-testid") || el.id || null;
    }
    function refresh() {
      if (inFlight) { again = true; return; }
      inFlight = true;
      var url = new URL(window.location.href);
      url.searchParams.set("fragment", "1");
      fetch(url.toString(), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (res) {
          if (res.redirected || !res.ok) throw new Error("board " + res.status);
          return res.text();
        })
        .then(function (html) {
          var key = focusKey(document.activeElement);
          root.setAttribute("aria-busy", "true");
          root.innerHTML = html;
          root.removeAttribute("aria-busy");
          if (key) {
            var el = root.querySelector('[data-testid="' + CSS.escape(key) + '"]') || document.getElementById(key);
            if (el) el.focus({ preventScroll: true });
          }
          if (status) status.textContent = root.getAttribute("data-updated-text") || "";
        })
        .catch(function () { /* keep the old board; the next event retries */ })
        .finally(function () {
          inFlight = false;
          if (again) { again = false; schedule(); }
        });
    }
    function schedule() {
      if (pending) clearTimeout(pending);
      pending = setTimeout(function () { pending = null; refresh(); }, 120);
    }

    var es = new EventSource("/board/events");
    var wasOpen = false;
    var types = ["appointment:scheduled", "appointment:rescheduled", "appointment:cancelled",
      "appointment:completed", "appointment:incompleted", "appointment:no-show", "appointment:lwbs",
      "appointment:status", "appointment:updated", "waiting-room:changed", "resync"];
    types.forEach(function (t) { es.addEventListener(t, schedule); });
    es.onopen = function () {
      var shell = document.querySelector("[data-live]");
      if (shell) shell.setAttribute("data-live", "on");
      var state = document.getElementById("live-state");
      if (state && state.getAttribute("data-on")) state.textContent = state.getAttribute("data-on");
      if (wasOpen) schedule(); // reconnected: we may have missed events
      wasOpen = true;
    };
    es.onerror = function () {
      var shell = document.querySelector("[data-live]");
      if (shell) shell.setAttribute("data-live", "off");
    };
    window.addEventListener("pagehide", function () { es.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("board-live");
    if (board) liveBoard(board);
  });
})();
