// The fleet page: refresh the device table when a device's state changes
// (server-sent events) and every 15 s for the ages and other clinics'
// devices. Without this script the page shows the state when loaded.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("fleet-live");
    if (!root || !window.fetch) return;
    var pending = null, busy = false;
    function refresh() {
      if (busy) return;
      busy = true;
      fetch(root.getAttribute("data-fragment-url"), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (res) { if (!res.ok || res.redirected) throw new Error(res.status); return res.text(); })
        .then(function (html) { root.innerHTML = html; })
        .catch(function () {})
        .finally(function () { busy = false; });
    }
    function schedule() { if (pending) clearTimeout(pending); pending = setTimeout(refresh, 150); }
    setInterval(refresh, 15000);
    if (!window.EventSource) return;
    var es = new EventSource(root.getAttribute("data-events-url"));
    ["device:status", "device:created", "device:updated", "device:removed", "device-message:ingested", "qc:failed", "resync"]
      .forEach(function (t) { es.addEventListener(t, schedule); });
    es.onopen = function () {
      root.setAttribute("data-live", "on");
      var s = document.getElementById("live-state");
      if (s) s.textContent = s.getAttribute("data-on");
    };
    es.onerror = function () { root.setAttribute("data-live", "off"); };
    window.addEventListener("pagehide", function () { es.close(); });
  });
})();
