// Clinicbox video visits: the device check, the connection check, the lobby
// and the call. One RTCPeerConnection to the appliance, which forwards the
// media; the server makes every offer, this page answers.
(function () {
  "use strict";

  var root = document.querySelector("[data-video]");
  if (!root) return;
  var role = root.getAttribute("data-role");
  var token = root.getAttribute("data-token");
  var base = "/visit/" + encodeURIComponent(token);

  // The wording comes from the page, in the visitor's language (data-text:
  // a JSON object rendered server-side); {name}-style fields are filled here.
  var wording = {};
  try { wording = JSON.parse(root.getAttribute("data-text") || "{}"); } catch (e) { wording = {}; }
  function w(key, vars) {
    var s = wording[key] || key;
    if (vars) Object.keys(vars).forEach(function (k) { s = s.split("{" + k + "}").join(vars[k]); });
    return s;
  }

  function $(id) { return document.getElementById(id); }
  function show(el, on) { if (el) el.hidden = !on; }
  function say(el, text) { if (el) el.textContent = text; }
  function store(key, val) { try { localStorage.setItem("clinicbox-" + key, val); } catch (e) { /* private mode */ } }
  function stored(key) { try { return localStorage.getItem("clinicbox-" + key) || ""; } catch (e) { return ""; } }

  var els = {
    status: $("call-status"),
    preview: $("self-view"),
    camSel: $("pick-camera"), micSel: $("pick-microphone"), spkSel: $("pick-speaker"),
    meter: $("mic-level"), deviceMsg: $("device-message"), speakerTest: $("speaker-test"),
    connMsg: $("connection-message"),
    join: $("join-call"), lobby: $("lobby-wait"), call: $("call"), tiles: $("tiles"),
    mute: $("btn-mute"), camera: $("btn-camera"), flip: $("btn-flip"), screen: $("btn-screen"),
    hangup: $("btn-hangup"), end: $("btn-end"), rejoin: $("btn-rejoin"),
    chatForm: $("chat-form"), chatInput: $("chat-input"), chatLog: $("chat-log"),
    waiting: $("waiting-list"), waitingBadge: $("waiting-badge"), quality: $("my-quality"),
    ended: $("call-ended"), left: $("call-left"), soundFix: $("btn-sound")
  };

  // ---- local media -------------------------------------------------------

  var local = null;       // MediaStream from the camera and microphone
  var screenTrack = null;
  var audioOn = true, videoOn = true;
  var meterTimer = null;

  function constraints() {
    var cam = els.camSel && els.camSel.value || stored("camera");
    var mic = els.micSel && els.micSel.value || stored("microphone");
    return {
      audio: mic ? { deviceId: { exact: mic }, echoCancellation: true, noiseSuppression: true } : { echoCancellation: true, noiseSuppression: true },
      video: cam ? { deviceId: { exact: cam }, width: { ideal: 1280 }, height: { ideal: 720 } } : { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 } }
    };
  }

  function openDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say(els.deviceMsg, w("noCamera"));
      return Promise.resolve(null);
    }
    return navigator.mediaDevices.getUserMedia(constraints()).catch(function () {
      return navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    }).catch(function () {
      return navigator.mediaDevices.getUserMedia({ audio: true });
    }).then(function (s) {
      var old = local;
      local = s;
      s.getAudioTracks().forEach(function (t) { t.enabled = audioOn; });
      s.getVideoTracks().forEach(function (t) { t.enabled = videoOn; });
      if (els.preview) { els.preview.srcObject = s; els.preview.play().catch(function () {}); }
      say(els.deviceMsg, s.getVideoTracks().length ? w("devicesOK") : w("micOnly"));
      root.setAttribute("data-devices", "ok");
      meter(s);
      listDevices();
      // The new camera goes on the senders first and the old one stops
      // after: a sender whose track ended before the swap can leave the
      // encoder paused (seen in Chromium: no frames encoded after a switch).
      replaceSending().then(function () {
        if (old) old.getTracks().forEach(function (t) { t.stop(); });
      });
      return s;
    }).catch(function (err) {
      root.setAttribute("data-devices", "denied");
      say(els.deviceMsg, w("blocked", { error: err && err.name || "error" }));
      return null;
    });
  }

  function fill(sel, devices, kind, key) {
    if (!sel) return;
    var cur = sel.value || stored(key);
    sel.innerHTML = "";
    devices.filter(function (d) { return d.kind === kind; }).forEach(function (d, i) {
      var o = document.createElement("option");
      o.value = d.deviceId;
      o.textContent = d.label || w(kind === "videoinput" ? "cameraN" : kind === "audioinput" ? "micN" : "speakerN", { n: i + 1 });
      sel.appendChild(o);
    });
    if (cur) sel.value = cur;
    // Hidden but keeping its place: the check-in button below must not move.
    (sel.closest("label") || sel).style.visibility = sel.options.length > 0 ? "" : "hidden";
  }

  function listDevices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return;
    navigator.mediaDevices.enumerateDevices().then(function (ds) {
      fill(els.camSel, ds, "videoinput", "camera");
      fill(els.micSel, ds, "audioinput", "microphone");
      if (els.spkSel && canPickSpeaker) fill(els.spkSel, ds, "audiooutput", "speaker");
      var cams = ds.filter(function (d) { return d.kind === "videoinput"; }).length;
      show(els.flip, cams > 1);
    });
  }

  // A browser that cannot choose the speaker (Safari) loses the picker at
  // once, before anything is measured or tapped, not when the devices are
  // listed.
  var canPickSpeaker = "setSinkId" in HTMLMediaElement.prototype;
  if (els.spkSel && !canPickSpeaker) show(els.spkSel.closest("label") || els.spkSel, false);

  function meter(s) {
    if (!els.meter || !s.getAudioTracks().length) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    if (meterTimer) clearInterval(meterTimer);
    var ctx = new Ctx();
    var an = ctx.createAnalyser();
    an.fftSize = 256;
    ctx.createMediaStreamSource(s).connect(an);
    var buf = new Uint8Array(an.fftSize);
    meterTimer = setInterval(function () {
      an.getByteTimeDomainData(buf);
      var peak = 0;
      for (var i = 0; i < buf.length; i++) peak = Math.max(peak, Math.abs(buf[i] - 128));
      els.meter.value = Math.min(100, peak * 1.6);
    }, 100);
  }

  function sinkAll() {
    var id = els.spkSel && els.spkSel.value;
    if (!id) return;
    document.querySelectorAll("video.remote, audio.remote").forEach(function (v) {
      if (v.setSinkId) v.setSinkId(id).catch(function () {});
    });
  }

  function playTestSound() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    var ctx = new Ctx();
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    gain.gain.value = 0.15;
    osc.frequency.value = 660;
    var dest = ctx.createMediaStreamDestination();
    osc.connect(gain).connect(dest);
    var a = new Audio();
    a.srcObject = dest.stream;
    var id = els.spkSel && els.spkSel.value;
    var go = function () { a.play().catch(function () {}); osc.start(); setTimeout(function () { osc.stop(); ctx.close(); }, 800); };
    if (id && a.setSinkId) a.setSinkId(id).then(go, go); else go();
  }

  [els.camSel, els.micSel].forEach(function (sel) {
    if (!sel) return;
    sel.addEventListener("change", function () {
      store(sel === els.camSel ? "camera" : "microphone", sel.value);
      openDevices();
    });
  });
  if (els.spkSel) els.spkSel.addEventListener("change", function () { store("speaker", els.spkSel.value); sinkAll(); });
  if (els.speakerTest) els.speakerTest.addEventListener("click", playTestSound);

  // ---- connection check --------------------------------------------------

  function iceServers() {
    return fetch(base + "/ice", { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("ice " + r.status);
      return r.json();
    }).then(function (j) { return j.iceServers || []; });
  }

  // probe opens a data-only connection to the media server and reports how
  // it connected: "host" or "srflx" (the media port), "relay" (TURN) or "".
  function probe(servers, policy) {
    var pc = new RTCPeerConnection({ iceServers: servers, iceTransportPolicy: policy || "all" });
    pc.createDataChannel("probe");
    var done = false;
    return new Promise(function (resolve) {
      var finish = function (v) { if (done) return; done = true; setTimeout(function () { pc.close(); }, 200); resolve(v); };
      setTimeout(function () { finish(""); }, 12000);
      pc.onconnectionstatechange = function () {
        if (pc.connectionState === "failed") finish("");
        if (pc.connectionState !== "connected") return;
        pc.getStats().then(function (stats) {
          var pair = null, kinds = {};
          stats.forEach(function (s) {
            if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
            if (s.type === "local-candidate") kinds[s.id] = s.candidateType;
          });
          if (!pair) stats.forEach(function (s) { if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s; });
          finish(pair && kinds[pair.localCandidateId] || "host");
        });
      };
      pc.createOffer().then(function (o) { return pc.setLocalDescription(o); }).then(function () {
        return new Promise(function (res) {
          if (pc.iceGatheringState === "complete") return res();
          pc.onicegatheringstatechange = function () { if (pc.iceGatheringState === "complete") res(); };
          setTimeout(res, 3000);
        });
      }).then(function () {
        return fetch(base + "/probe", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ sdp: pc.localDescription.sdp }) });
      }).then(function (r) {
        if (!r.ok) throw new Error("probe " + r.status);
        return r.json();
      }).then(function (j) {
        return pc.setRemoteDescription({ type: "answer", sdp: j.sdp });
      }).catch(function () { finish(""); });
    });
  }

  function connectionCheck() {
    if (!els.connMsg || !window.RTCPeerConnection) return Promise.resolve();
    say(els.connMsg, w("checking"));
    return iceServers().then(function (servers) {
      return probe(servers, "all").then(function (how) {
        root.setAttribute("data-connection", how || "failed");
        if (how === "relay") say(els.connMsg, w("viaRelay"));
        else if (how) say(els.connMsg, w("direct"));
        else say(els.connMsg, w("unreachable"));
      });
    }).catch(function () { say(els.connMsg, w("checkFailed")); });
  }

  // ---- the call ----------------------------------------------------------

  var ws = null, pc = null, servers = [], me = null, state = "idle";
  var slots = {};                  // mid → microphone, camera, screen
  var participants = {};           // id → info
  var knownWaiting = {};
  var restartTimer = null, rejoinTimer = null, rejoinDelay = 1000, leaving = false;

  function send(m) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(m)); }

  function setState(s) {
    state = s;
    root.setAttribute("data-call", s);
    show(els.lobby, s === "lobby");
    show(els.call, s === "call" || s === "reconnecting");
    show(els.ended, s === "ended");
    show(els.left, s === "left");
    say(els.status, s === "idle" ? "" : w(s));
    root.classList.toggle("is-reconnecting", s === "reconnecting");
  }

  function join() {
    if (ws) return;
    leaving = false;
    setState("connecting");
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + base + "/ws";
    var name = $("guest-name");
    if (name && name.value) { url += "?name=" + encodeURIComponent(name.value); store("guest-name", name.value); }
    ws = new WebSocket(url);
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      onMessage(m);
    };
    ws.onclose = function () {
      ws = null;
      closePC();
      if (leaving || state === "ended" || state === "left") return;
      // The connection dropped: rejoin, backing off.
      setState("reconnecting");
      clearTimeout(rejoinTimer);
      rejoinTimer = setTimeout(join, rejoinDelay);
      rejoinDelay = Math.min(rejoinDelay * 2, 10000);
    };
  }

  function onMessage(m) {
    switch (m.type) {
      case "welcome":
        me = m.id;
        servers = m.iceServers || [];
        rejoinDelay = 1000;
        setState(m.state === "admitted" ? "call" : "lobby");
        break;
      case "admitted":
        setState("call");
        break;
      case "offer":
        onOffer(m);
        break;
      case "participants":
        onParticipants(m);
        break;
      case "chat":
      case "chat-history":
        if (m.type === "chat-history" && els.chatLog) els.chatLog.innerHTML = "";
        (m.chat || []).forEach(addChat);
        break;
      case "ended":
        leaving = true;
        setState("ended");
        closePC();
        break;
      case "replaced":
        leaving = true;
        setState("left");
        say(els.status, w("replaced"));
        break;
      case "error":
        if (window.console) console.warn("video:", m.message);
        break;
    }
  }

  function newPC() {
    pc = new RTCPeerConnection({ iceServers: servers, bundlePolicy: "max-bundle" });
    window.clinicboxCall.pc = pc;
    pc.onicecandidate = function (e) {
      if (e.candidate) send({ type: "candidate", candidate: e.candidate.toJSON() });
    };
    pc.ontrack = function (e) {
      var stream = e.streams && e.streams[0];
      if (!stream) return;
      tileFor(stream).srcObject = stream;
    };
    pc.onconnectionstatechange = function () { onConnState(pc.connectionState); };
  }

  function onConnState(s) {
    if (s === "connected") {
      clearTimeout(restartTimer); restartTimer = null;
      clearTimeout(rejoinTimer);
      if (state === "reconnecting") setState("call");
      return;
    }
    if (s !== "disconnected" && s !== "failed") return;
    setState("reconnecting");
    // First an ICE restart (the network changed); if that does not bring
    // the call back, a full rejoin.
    if (!restartTimer) {
      restartTimer = setTimeout(function () {
        send({ type: "restart" });
        restartTimer = setTimeout(function () {
          restartTimer = null;
          if (pc && pc.connectionState !== "connected" && ws) ws.close();
        }, 10000);
      }, s === "failed" ? 0 : 1500);
    }
  }

  function closePC() {
    if (pc) { pc.close(); pc = null; }
    clearTimeout(restartTimer); restartTimer = null;
    if (els.tiles) els.tiles.innerHTML = "";
  }

  function onOffer(m) {
    if (!pc) newPC();
    slots = m.slots || {};
    pc.setRemoteDescription({ type: "offer", sdp: m.sdp }).then(function () {
      pc.getTransceivers().forEach(function (t) {
        var slot = t.mid != null && slots[t.mid];
        if (!slot) return;
        t.direction = "sendonly";
        t.sender.replaceTrack(trackFor(slot));
      });
      return pc.createAnswer();
    }).then(function (a) {
      return pc.setLocalDescription(a);
    }).then(function () {
      send({ type: "answer", sdp: pc.localDescription.sdp });
    }).catch(function (e) { if (window.console) console.warn("video offer:", e); });
  }

  function trackFor(slot) {
    if (slot === "screen") return screenTrack;
    if (!local) return null;
    var ts = slot === "microphone" ? local.getAudioTracks() : local.getVideoTracks();
    return ts[0] || null;
  }

  // replaceSending puts the current tracks on the senders (a new camera or
  // microphone was picked).
  function replaceSending() {
    if (!pc) return Promise.resolve();
    return Promise.all(pc.getTransceivers().map(function (t) {
      var slot = t.mid != null && slots[t.mid];
      return slot ? t.sender.replaceTrack(trackFor(slot)).catch(function () {}) : null;
    }));
  }

  function tileFor(stream) {
    var id = stream.id;
    var tile = document.querySelector('[data-stream="' + CSS.escape(id) + '"]');
    if (!tile) {
      tile = document.createElement("figure");
      tile.className = "tile" + (/-screen$/.test(id) ? " tile-screen" : "");
      tile.setAttribute("data-stream", id);
      tile.setAttribute("data-testid", "remote-tile");
      var v = document.createElement("video");
      v.className = "remote";
      v.autoplay = true;
      v.playsInline = true;
      tile.appendChild(v);
      var cap = document.createElement("figcaption");
      tile.appendChild(cap);
      els.tiles.appendChild(tile);
      stream.onremovetrack = function () { if (!stream.getTracks().length) tile.remove(); };
    }
    labelTiles();
    var video = tile.querySelector("video");
    setTimeout(function () {
      video.play().catch(function () { show(els.soundFix, true); });
      sinkAll();
    }, 0);
    return video;
  }

  function qualityText(q) { return q >= 0 && q <= 4 ? w("q" + q) : ""; }

  function labelTiles() {
    document.querySelectorAll("[data-stream]").forEach(function (tile) {
      var pid = tile.getAttribute("data-stream").replace(/^s-/, "").replace(/-screen$/, "");
      var p = participants[pid];
      var cap = tile.querySelector("figcaption");
      if (!p || !cap) return;
      var bits = [/-screen$/.test(tile.getAttribute("data-stream")) ? w("screenOf", { name: p.name }) : p.name];
      if (!p.audio) bits.push(w("muted"));
      if (!p.video) bits.push(w("cameraOff"));
      cap.textContent = bits.join(" · ");
      cap.setAttribute("data-quality", p.quality);
      cap.title = w("network", { q: qualityText(p.quality) });
      // A stopped screen share sends nothing more: hide its last frame
      // until the clinician shares again (the same stream resumes).
      if (/-screen$/.test(tile.getAttribute("data-stream"))) tile.hidden = !p.screen;
      tile.classList.toggle("is-reconnecting", !!p.reconnecting);
      tile.setAttribute("data-reconnecting", p.reconnecting ? w("reconnecting") : "");
    });
  }

  function onParticipants(m) {
    participants = {};
    (m.participants || []).forEach(function (p) { participants[p.id] = p; });
    labelTiles();
    var list = $("people");
    if (list) {
      list.innerHTML = "";
      (m.participants || []).forEach(function (p) {
        var li = document.createElement("li");
        var who = p.id === me ? w("you", { name: p.name }) : p.name;
        li.textContent = p.reconnecting ? w("reconnectingOf", { name: who }) : who;
        li.setAttribute("data-quality", p.quality);
        list.appendChild(li);
      });
    }
    if (role === "provider" && els.waiting) showWaiting(m.waiting || []);
  }

  // ?admit=patient: the clinician came from "Admit" on the appointment page.
  var admitOnArrival = new URLSearchParams(location.search).get("admit");

  function showWaiting(waiting) {
    if (admitOnArrival) {
      waiting.forEach(function (p) {
        if (p.role === admitOnArrival && admitOnArrival) { admitOnArrival = ""; send({ type: "admit", id: p.id }); }
      });
    }
    els.waiting.innerHTML = "";
    var arrived = false;
    var now = {};
    waiting.forEach(function (p) {
      now[p.id] = true;
      if (!knownWaiting[p.id]) arrived = true;
      var li = document.createElement("li");
      var label = document.createElement("span");
      label.textContent = w("waitingSince", { name: p.role === "guest" ? w("guestOf", { name: p.name }) : p.name,
        time: new Date(p.since).toLocaleTimeString(document.documentElement.lang || [], { hour: "2-digit", minute: "2-digit" }) });
      var b = document.createElement("button");
      b.type = "button";
      b.className = "btn";
      b.textContent = w("admit", { name: p.name });
      b.setAttribute("data-testid", "admit-" + p.role);
      b.addEventListener("click", function () { b.disabled = true; send({ type: "admit", id: p.id }); });
      li.appendChild(label);
      li.appendChild(b);
      els.waiting.appendChild(li);
    });
    knownWaiting = now;
    var n = waiting.length;
    if (els.waitingBadge) { els.waitingBadge.textContent = n; show(els.waitingBadge, n > 0); }
    var empty = $("waiting-empty");
    show(empty, n === 0);
    document.title = (n ? "(" + n + ") " : "") + document.title.replace(/^\(\d+\) /, "");
    if (arrived) chime();
  }

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

  function addChat(c) {
    if (!els.chatLog) return;
    var li = document.createElement("li");
    var who = document.createElement("strong");
    who.textContent = c.name + ": ";
    li.appendChild(who);
    li.appendChild(document.createTextNode(c.text));
    li.setAttribute("data-role", c.role);
    els.chatLog.appendChild(li);
    els.chatLog.scrollTop = els.chatLog.scrollHeight;
  }

  // ---- controls ----------------------------------------------------------

  function toggle(btn, on, onText, offText) {
    if (!btn) return;
    btn.setAttribute("aria-pressed", on ? "false" : "true");
    btn.textContent = on ? onText : offText;
  }

  if (els.mute) els.mute.addEventListener("click", function () {
    audioOn = !audioOn;
    if (local) local.getAudioTracks().forEach(function (t) { t.enabled = audioOn; });
    toggle(els.mute, audioOn, w("mute"), w("unmute"));
    send({ type: "state", audio: audioOn });
  });
  if (els.camera) els.camera.addEventListener("click", function () {
    videoOn = !videoOn;
    if (local) local.getVideoTracks().forEach(function (t) { t.enabled = videoOn; });
    toggle(els.camera, videoOn, w("camOff"), w("camOn"));
    send({ type: "state", video: videoOn });
  });
  if (els.flip) els.flip.addEventListener("click", function () {
    var to = nextCamera();
    if (to) switchCamera(to);
  });
  if (els.screen) els.screen.addEventListener("click", function () {
    if (screenTrack) { screenTrack.stop(); stopScreen(); return; }
    if (!navigator.mediaDevices.getDisplayMedia) return;
    navigator.mediaDevices.getDisplayMedia({ video: true }).then(function (s) {
      screenTrack = s.getVideoTracks()[0];
      screenTrack.onended = stopScreen;
      replaceSending();
      toggle(els.screen, false, w("share"), w("stopShare"));
      send({ type: "state", screen: true });
    }).catch(function () {});
  });
  // Cameras whose picture this browser cannot send. A depth or infrared
  // camera delivers frames the encoder refuses (Chromium logs "We cannot
  // send frame with storage type: format:PIXEL_FORMAT_Y16"): the preview
  // shows it, the others' picture freezes. "Switch camera" moves on past
  // such a camera, and skips it from then on.
  var unsendable = {};

  function nextCamera() {
    var opts = els.camSel ? Array.prototype.map.call(els.camSel.options, function (o) { return o.value; }) : [];
    var at = opts.indexOf(els.camSel.value);
    for (var k = 1; k < opts.length; k++) {
      var id = opts[(at + k) % opts.length];
      if (!unsendable[id]) return id;
    }
    return "";
  }

  function switchCamera(to) {
    els.camSel.value = to;
    store("camera", to);
    openDevices().then(function () { watchSending(to); });
  }

  function cameraSender() {
    var found = null;
    if (pc) pc.getTransceivers().forEach(function (t) { if (t.mid != null && slots[t.mid] === "camera") found = t.sender; });
    return found;
  }

  function shownFrames() {
    var q = els.preview && els.preview.getVideoPlaybackQuality && els.preview.getVideoPlaybackQuality();
    return q ? q.totalVideoFrames : 0;
  }

  // watchSending checks, for eight seconds after a switch, that the camera
  // sender encodes the new camera's frames; when the preview shows frames
  // and none are encoded, the camera is marked and the next one taken.
  function watchSending(id) {
    var base = -1, shown = 0, ticks = 0;
    var tick = function () {
      var snd = cameraSender();
      var cam = local && local.getVideoTracks()[0];
      if (!snd || !cam || !videoOn || state !== "call" || els.camSel.value !== id) return;
      if (snd.track !== cam) { setTimeout(tick, 500); return; } // not swapped yet
      snd.getStats().then(function (st) {
        var n = 0;
        st.forEach(function (s) { if (s.type === "outbound-rtp") n += s.framesEncoded || 0; });
        if (base < 0) { base = n; shown = shownFrames(); }
        else if (n > base) return; // it sends
        if (++ticks < 16) { setTimeout(tick, 500); return; }
        if (shownFrames() <= shown) return; // no frames at all: not this camera's format
        unsendable[id] = true;
        var next = nextCamera();
        if (next && next !== id) switchCamera(next);
      });
    };
    setTimeout(tick, 500);
  }

  function stopScreen() {
    screenTrack = null;
    replaceSending();
    toggle(els.screen, true, w("share"), w("stopShare"));
    send({ type: "state", screen: false });
  }
  if (els.hangup) els.hangup.addEventListener("click", function () {
    leaving = true;
    send({ type: "leave" });
    if (ws) ws.close();
    closePC();
    setState("left");
  });
  if (els.rejoin) els.rejoin.addEventListener("click", function () { join(); });
  if (els.end) els.end.addEventListener("click", function () {
    if (!window.confirm(w("endConfirm"))) return;
    send({ type: "end" });
  });
  if (els.join) els.join.addEventListener("click", function () { els.join.disabled = true; join(); });
  if (els.soundFix) els.soundFix.addEventListener("click", function () {
    document.querySelectorAll("video.remote").forEach(function (v) { v.play().catch(function () {}); });
    show(els.soundFix, false);
  });
  if (els.chatForm) els.chatForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = els.chatInput.value.trim();
    if (!t) return;
    send({ type: "chat", text: t });
    els.chatInput.value = "";
  });

  // Network quality: from this side's own statistics, every two seconds;
  // the others see it beside this participant's name.
  var lastLost = 0, lastRecv = 0, lastQ = -1;
  setInterval(function () {
    if (!pc || state !== "call") return;
    pc.getStats().then(function (stats) {
      var rtt = null, lost = 0, recv = 0;
      stats.forEach(function (s) {
        if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime != null) rtt = s.currentRoundTripTime;
        if (s.type === "inbound-rtp") { lost += s.packetsLost || 0; recv += s.packetsReceived || 0; }
      });
      var dl = lost - lastLost, dr = recv - lastRecv;
      lastLost = lost; lastRecv = recv;
      var loss = dr + dl > 0 ? dl / (dr + dl) : 0;
      var q = 4;
      if (loss > 0.02 || rtt > 0.3) q = 3;
      if (loss > 0.05 || rtt > 0.5) q = 2;
      if (loss > 0.15 || rtt > 1) q = 1;
      if (pc.connectionState !== "connected") q = 0;
      if (els.quality) { els.quality.setAttribute("data-quality", q); els.quality.textContent = w("yourNetwork", { q: qualityText(q) }); }
      if (q !== lastQ) { lastQ = q; send({ type: "state", quality: q }); }
    });
  }, 2000);

  window.clinicboxCall = { pc: null, join: join };

  // ---- start -------------------------------------------------------------

  var guestName = $("guest-name");
  if (guestName && !guestName.value) guestName.value = stored("guest-name");
  var auto = root.getAttribute("data-autojoin") === "1";
  openDevices().then(function () {
    connectionCheck();
    if (auto) join();
  });
  setState("idle");
})();
