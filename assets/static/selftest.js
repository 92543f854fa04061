// The admin's video connection check: for each way into the media server
// (the media port directly, TURN over UDP, TCP and TLS) open a data-only
// connection from this browser and show whether, and how, it connected.
(function () {
  "use strict";

  function probe(servers, policy) {
    var pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: policy });
    pc.createDataChannel("check");
    var done = false;
    return new Promise(function (resolve) {
      var finish = function (v) { if (done) return; done = true; setTimeout(function () { pc.close(); }, 200); resolve(v); };
      setTimeout(function () { finish(null); }, 12000);
      pc.onconnectionstatechange = function () {
        if (pc.connectionState === "failed") finish(null);
        if (pc.connectionState !== "connected") return;
        var t0 = performance.now();
        pc.getStats().then(function (stats) {
          var pair = null, local = {};
          stats.forEach(function (s) {
            if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
            if (s.type === "local-candidate") local[s.id] = s;
          });
          if (!pair) stats.forEach(function (s) { if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s; });
          var c = pair && local[pair.localCandidateId] || {};
          finish({ type: c.candidateType || "?", protocol: c.relayProtocol || c.protocol || "?",
            rtt: pair && pair.currentRoundTripTime != null ? Math.round(pair.currentRoundTripTime * 1000) : null, ms: t0 });
        });
      };
      pc.createOffer().then(function (o) { return pc.setLocalDescription(o); }).then(function () {
        return new Promise(function (res) {
          if (pc.iceGatheringState === "complete") return res();
          pc.onicegatheringstatechange = function () { if (pc.iceGatheringState === "complete") res(); };
          setTimeout(res, 4000);
        });
      }).then(function () {
        return fetch("/admin/video-check/probe", { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify({ sdp: pc.localDescription.sdp }) });
      }).then(function (r) {
        if (!r.ok) throw new Error("probe " + r.status);
        return r.json();
      }).then(function (j) { return pc.setRemoteDescription({ type: "answer", sdp: j.sdp }); })
        .catch(function () { finish(null); });
    });
  }

  function only(servers, prefix, transport) {
    var out = [];
    servers.forEach(function (s) {
      var urls = (s.urls || []).filter(function (u) { return u.indexOf(prefix) === 0 && u.indexOf("transport=" + transport) > 0; });
      if (urls.length) out.push({ urls: urls, username: s.username, credential: s.credential });
    });
    return out;
  }

  function run(root, btn) {
    btn.disabled = true;
    fetch("/admin/video-check/ice", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (j) {
      var servers = j.iceServers || [];
      var checks = {
        "direct": function () { return probe([], "all"); },
        "turn-udp": function () { return probe(only(servers, "turn:", "udp"), "relay"); },
        "turn-tcp": function () { return probe(only(servers, "turn:", "tcp"), "relay"); },
        "turn-tls": function () { return probe(only(servers, "turns:", "tcp"), "relay"); }
      };
      var rows = root.querySelectorAll("[data-check]");
      var chain = Promise.resolve();
      rows.forEach(function (row) {
        var cell = row.querySelector("[data-result]");
        var fn = checks[row.getAttribute("data-check")];
        if (!fn) return;
        cell.textContent = "…";
        chain = chain.then(fn).then(function (res) {
          row.setAttribute("data-ok", res ? "yes" : "no");
          // The words come from the page, in the user's language.
          cell.textContent = res ? (root.getAttribute("data-ok-text") || "OK") + " (" + res.type + ", " + res.protocol + (res.rtt != null ? ", " + res.rtt + " ms" : "") + ")" : (root.getAttribute("data-fail-text") || "–");
        });
      });
      return chain;
    }).catch(function () { /* shown per row */ }).finally(function () { btn.disabled = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-selftest]");
    var btn = document.getElementById("run-check");
    if (!root || !btn || !window.RTCPeerConnection) return;
    btn.addEventListener("click", function () { run(root, btn); });
    run(root, btn);
  });
})();
