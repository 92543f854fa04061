// The station page: refresh the live part when the station's events arrive.
// The page works without it (reload to see new readings). A file of its own,
// not an inline script, so the Content-Security-Policy can forbid inline
// script everywhere.
(function () {
  "use strict";
  var root = document.getElementById("station-live");
  if (!root || !window.EventSource || !window.fetch) return;
  var pending = null;
  function refresh() {
    fetch(root.getAttribute("data-fragment-url"), { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (res) { if (!res.ok || res.redirected) throw new Error(res.status); return res.text(); })
      .then(function (html) {
        var picked = Array.prototype.map.call(root.querySelectorAll('input[name="obs"]:checked'), function (el) { return el.value; });
        root.innerHTML = html;
        picked.forEach(function (v) { var el = root.querySelector('input[name="obs"][value="' + v + '"]'); if (el) el.checked = true; });
      })
      .catch(function () {});
  }
  function schedule() { if (pending) clearTimeout(pending); pending = setTimeout(refresh, 150); }
  var es = new EventSource(root.getAttribute("data-events-url"));
  ["observation:created", "observation:assigned", "station:selected", "resync"].forEach(function (t) { es.addEventListener(t, schedule); });
  es.onopen = function () { root.setAttribute("data-live", "on"); };
  es.onerror = function () { root.setAttribute("data-live", "off"); };
})();
