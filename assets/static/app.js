// Clinicbox pages: progressive enhancement only. Every page works without
// this script; with it the waiting-room board updates live.
(function () {
  "use strict";

  // chime: someone arrived in a video lobby (a sound beside the badge).
  function chime() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      var ctx = new Ctx();
      [0, 0.18].forEach(function (at, i) {
        var o = ctx.createOscillator(), g = ctx.createGain();
        o.frequency.value = i ? 880 : 660;
        g.gain.setValueAtTime(0.12, ctx.currentTime + at);
        g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + at + 0.3);
        o.connect(g).connect(ctx.destination);
        o.start(ctx.currentTime + at);
        o.stop(ctx.currentTime + at + 0.32);
      });
    } catch (e) { /* no sound: the badge still shows */ }
  }

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
          var waitingBefore = root.querySelectorAll("[data-video-waiting]").length;
          root.setAttribute("aria-busy", "true");
          root.innerHTML = html;
          root.removeAttribute("aria-busy");
          var waiting = root.querySelectorAll("[data-video-waiting]").length;
          if (waiting > waitingBefore) chime();
          document.title = (waiting ? "(" + waiting + ") " : "") + document.title.replace(/^\(\d+\) /, "");
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

    inPlaceActions(root, refresh);

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

  // Copy buttons: <button data-copy="input-id" hidden>. Without the
  // script they stay hidden and the read-only field can be selected.
  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (btn) {
      var field = document.getElementById(btn.getAttribute("data-copy"));
      if (!field) return;
      btn.hidden = false;
      var label = btn.textContent;
      btn.addEventListener("click", function () {
        var done = function () {
          btn.textContent = btn.getAttribute("data-copied") || label;
          btn.setAttribute("data-state", "copied");
          setTimeout(function () { btn.textContent = label; btn.removeAttribute("data-state"); }, 2000);
        };
        field.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
        } else {
          document.execCommand("copy");
          done();
        }
      });
    });
  }

  // Board actions in place: a status button posts in the background and
  // the board fragment is swapped in, so the page never jumps to the top.
  function inPlaceActions(root, refresh) {
    root.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (!form.matches("form[data-inplace]") || !window.fetch) return;
      ev.preventDefault();
      var btn = form.querySelector("button");
      if (btn) btn.disabled = true;
      fetch(form.action, {
        method: "POST", body: new URLSearchParams(new FormData(form)),
        headers: { "HX-Request": "true" }, credentials: "same-origin"
      }).then(function (res) {
        if (res.status !== 204) { form.submit(); return; }
        refresh();
      }).catch(function () { form.submit(); });
    });
  }

  // A live section of one appointment's page (the video panel): when that
  // appointment changes, the section is read again from the page and
  // swapped in; a patient arriving in the lobby chimes.
  function liveSection(sec) {
    if (!window.EventSource || !window.fetch || !window.DOMParser) return;
    var id = Number(sec.getAttribute("data-live-section"));
    var es = new EventSource("/board/events");
    var reload = function (ev) {
      var data = {};
      try { data = JSON.parse(ev.data || "{}"); } catch (e) { /* resync */ }
      if (ev.type !== "resync" && data.appointmentId !== id) return;
      fetch(window.location.href, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok || r.redirected) throw new Error("section " + r.status);
        return r.text();
      }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(sec.id);
        if (!fresh) return;
        var was = sec.querySelector("[data-video-waiting]");
        sec.innerHTML = fresh.innerHTML;
        if (!was && sec.querySelector("[data-video-waiting]")) chime();
      }).catch(function () { /* keep what is shown */ });
    };
    ["appointment:status", "appointment:updated", "appointment:completed", "appointment:incompleted",
      "appointment:lwbs", "appointment:cancelled", "resync"].forEach(function (t) { es.addEventListener(t, reload); });
    window.addEventListener("pagehide", function () { es.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons();
    // "Go back" links (error pages): back in history when there is one,
    // else the link's own target. No javascript: URL, which the CSP forbids.
    document.querySelectorAll("a[data-back]").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        if (window.history.length > 1) { ev.preventDefault(); window.history.back(); }
      });
    });
    var board = document.getElementById("board-live");
    if (board) liveBoard(board);
    document.querySelectorAll("[data-live-section]").forEach(liveSection);
  });
})();
