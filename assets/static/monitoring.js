// Monitoring pages: the live worklist and the time-log timer. Both are
// optional: without this script the worklist reloads by hand and minutes
// are typed in.
(function () {
  "use strict";

  // The worklist: on each alert event, fetch the list fragment and swap it in.
  function liveWorklist(root) {
    if (!window.EventSource || !window.fetch) return;
    var pending = null;
    function refresh() {
      var url = new URL(window.location.href);
      url.searchParams.set("fragment", "1");
      fetch(url.toString(), { credentials: "same-origin" })
        .then(function (res) { if (!res.ok || res.redirected) throw new Error(res.status); return res.text(); })
        .then(function (html) {
          if (root.contains(document.activeElement) && document.activeElement.tagName === "INPUT" && document.activeElement.value) return;
          root.innerHTML = html;
        })
        .catch(function () { /* keep the list; the next event retries */ });
    }
    function schedule() {
      if (pending) clearTimeout(pending);
      pending = setTimeout(function () { pending = null; refresh(); }, 150);
    }
    var es = new EventSource("/monitoring/events");
    ["alert:raised", "alert:updated", "alert:resolved", "resync"].forEach(function (t) { es.addEventListener(t, schedule); });
    es.onopen = function () { root.setAttribute("data-live", "on"); };
    es.onerror = function () { root.setAttribute("data-live", "off"); };
    window.addEventListener("pagehide", function () { es.close(); });
  }

  // The timer: start and stop; the minutes field gets the elapsed time.
  function timer(form) {
    var btn = form.querySelector("[data-timer-toggle]");
    var show = form.querySelector("[data-timer-display]");
    var field = form.querySelector("input[name=minutes]");
    if (!btn || !show || !field) return;
    btn.hidden = false;
    show.hidden = false;
    var started = null, tick = null, before = 0;
    function elapsed() { return before + (started ? (Date.now() - started) / 1000 : 0); }
    function paint() {
      var s = Math.floor(elapsed());
      show.textContent = Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
      field.value = (Math.round(elapsed() / 6) / 10).toString();
    }
    btn.addEventListener("click", function () {
      if (started) {
        before = elapsed(); started = null; clearInterval(tick);
        btn.textContent = btn.getAttribute("data-start-text") || btn.textContent;
        paint();
      } else {
        started = Date.now(); tick = setInterval(paint, 1000);
        btn.textContent = btn.getAttribute("data-stop-text") || btn.textContent;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var wl = document.getElementById("worklist");
    if (wl) liveWorklist(wl);
    document.querySelectorAll("form[data-timer]").forEach(timer);
  });
})();
