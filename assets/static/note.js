// The visit note saves as the clinician types. Progressive enhancement
// only: without this script the note is a form with a "Save answers" button.
//
// Changed questions are sent (debounced) to the form's own address with
// Accept: application/json. Until the server confirms them they are also
// kept in localStorage, so a dropped connection or a closed tab loses
// nothing: the next load of the page sends them again.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) return;

  var key = form.getAttribute("data-note-key");
  var state = document.getElementById("note-save-state");
  var revision = document.querySelector("[data-note-revision]");
  var dirty = {};      // question id -> true while not confirmed by the server
  var timer = null, inFlight = false, again = false, retry = null;

  function show(kind, text) {
    if (!state) return;
    state.setAttribute("data-state", kind);
    state.textContent = text || state.getAttribute("data-" + kind) || "";
  }
  function store() {
    try {
      var drafts = {};
      Object.keys(dirty).forEach(function (q) { drafts[q] = valuesOf(q); });
      if (Object.keys(drafts).length) localStorage.setItem(key, JSON.stringify(drafts));
      else localStorage.removeItem(key);
    } catch (e) { /* private mode: the server copy is all there is */ }
  }
  function fields(q) {
    return form.querySelectorAll('[name="q.' + CSS.escape(q) + '"]');
  }
  function valuesOf(q) {
    var out = [];
    fields(q).forEach(function (el) {
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      out.push(el.value);
    });
    return out;
  }
  function setValues(q, vals) {
    fields(q).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") el.checked = vals.indexOf(el.value) >= 0;
      else el.value = vals.length ? vals[0] : "";
    });
  }
  function showError(q, msg) {
    var el = form.querySelector('[data-error-for="' + CSS.escape(q) + '"]');
    var box = form.querySelector('[data-question="' + CSS.escape(q) + '"]');
    if (el) { el.textContent = msg || ""; el.hidden = !msg; }
    if (box) box.classList.toggle("has-error", !!msg);
  }

  function save() {
    timer = null;
    if (inFlight) { again = true; return; }
    var ids = Object.keys(dirty);
    if (!ids.length) return;
    var body = new URLSearchParams();
    body.append("template", form.querySelector('[name="template"]').value);
    ids.forEach(function (q) {
      body.append("questions", q);
      valuesOf(q).forEach(function (v) { body.append("q." + q, v); });
    });
    var sent = {};
    ids.forEach(function (q) { sent[q] = JSON.stringify(valuesOf(q)); });
    inFlight = true;
    show("saving");
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      if (res.status !== 200 && res.status !== 422 && res.status !== 409) throw new Error("save " + res.status);
      return res.json().then(function (j) { return { status: res.status, body: j }; });
    }).then(function (r) {
      var errs = r.body.errors || {};
      if (r.status === 409) { show("errors", r.body.message); dirty = {}; store(); return; }
      ids.forEach(function (q) {
        showError(q, errs[q]);
        // Confirmed unless typed on since it was sent.
        if (!errs[q] && JSON.stringify(valuesOf(q)) === sent[q]) delete dirty[q];
        if (errs[q]) delete dirty[q]; // keep the typed value on screen, not in a retry loop
      });
      store();
      if (revision && r.body.revision !== undefined) revision.value = r.body.revision;
      if (Object.keys(errs).length) show("errors");
      else if (Object.keys(dirty).length) show("dirty");
      else show("saved", state.getAttribute("data-saved-at") + " " + r.body.savedAt);
    }).catch(function () {
      show("offline");
      if (!retry) retry = setTimeout(function () { retry = null; save(); }, 3000);
    }).finally(function () {
      inFlight = false;
      if (again) { again = false; schedule(); }
    });
  }
  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 600);
  }
  function changed(ev) {
    var box = ev.target.closest("[data-question]");
    if (!box) return;
    dirty[box.getAttribute("data-question")] = true;
    store();
    show("dirty");
    schedule();
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  window.addEventListener("online", function () { if (Object.keys(dirty).length) save(); });
  // Leaving the page with answers in flight: one last try that outlives it.
  window.addEventListener("pagehide", function () {
    if (!Object.keys(dirty).length || !navigator.sendBeacon) return;
    var body = new URLSearchParams();
    body.append("template", form.querySelector('[name="template"]').value);
    Object.keys(dirty).forEach(function (q) {
      body.append("questions", q);
      valuesOf(q).forEach(function (v) { body.append("q." + q, v); });
    });
    navigator.sendBeacon(form.action, body);
  });

  // Answers typed while the connection was down, or in a tab that closed
  // before they reached the server.
  try {
    var drafts = JSON.parse(localStorage.getItem(key) || "{}");
    Object.keys(drafts).forEach(function (q) {
      if (!fields(q).length) return;
      setValues(q, drafts[q]);
      dirty[q] = true;
    });
    if (Object.keys(dirty).length) { show("dirty"); save(); }
  } catch (e) { /* nothing kept */ }

  // Signing waits for the last answers to be saved.
  var sign = document.querySelector('[data-testid="sign-form"]');
  if (sign) sign.addEventListener("submit", function (ev) {
    if (!Object.keys(dirty).length && !inFlight) return;
    ev.preventDefault();
    save();
    var wait = setInterval(function () {
      if (!inFlight && !Object.keys(dirty).length) { clearInterval(wait); sign.submit(); }
    }, 200);
  });
})();
