package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/web"
)

// cutConn is the appliance's media socket with a switch: packets from and
// to the blocked ports are dropped, as when a phone's Wi-Fi goes away or a
// router stops forwarding.
type cutConn struct {
	net.PacketConn
	mu      sync.Mutex
	blocked map[int]bool
}

func (c *cutConn) block(port int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocked == nil {
		c.blocked = map[int]bool{}
	}
	c.blocked[port] = true
}

func (c *cutConn) cut(a net.Addr) bool {
	u, ok := a.(*net.UDPAddr)
	if !ok {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocked[u.Port]
}

func (c *cutConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.cut(a) {
			return n, a, err
		}
	}
}

func (c *cutConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if c.cut(a) {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, a)
}

// browserCall is a patient and a provider in a call through the media
// server, each in its own headless Chromium (fake camera and microphone).
type browserCall struct {
	patient, provider context.Context
	media             *cutConn
}

func startBrowserCall(t *testing.T) *browserCall {
	exe := chromium(t)
	st, _, a := videoAppointment(t, "Call Clinic", "call", "c1", "Cora", "Lind")
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	must(t, err)
	cut := &cutConn{PacketConn: udp}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vs, err := video.New(video.Config{MediaConn: cut, LoopbackCandidates: true, RejoinGrace: 30 * time.Second},
		video.StoreVisits{Store: st}, log)
	must(t, err)
	t.Cleanup(func() { vs.Close() })
	srv := httptest.NewServer(web.New(web.Deps{Store: st, Log: log, PublicURL: "http://127.0.0.1", Video: vs,
		SessionKeys: [][]byte{[]byte("browser-test-key-0123456789abcdef")}}))
	t.Cleanup(srv.Close)

	c := &browserCall{patient: newBrowser(t, exe), provider: newBrowser(t, exe), media: cut}
	// Wait for the camera and connection checks (the call starts with the
	// camera open), then press the button (TestBrowserVideoVisit presses it
	// as a user does; here it only sets the call up).
	run(t, c.patient, "patient opens the check-in page",
		chromedp.Navigate(srv.URL+"/visit/"+a.PatientToken),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="checkin-button"]`)),
		chromedp.WaitReady(chromedp.CSS(`[data-devices]`)),
		chromedp.WaitReady(chromedp.CSS(`[data-connection]`)),
	)
	evalString(t, c.patient, `(document.querySelector('[data-testid="checkin-button"]').click(), "")`)
	run(t, c.patient, "patient checks in", chromedp.WaitReady(chromedp.CSS(`[data-call="lobby"]`)))
	run(t, c.provider, "provider sees the patient waiting",
		chromedp.Navigate(srv.URL+"/visit/"+a.ProviderToken),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="admit-patient"]`)),
	)
	// The waiting list is redrawn on every change in the room: press the
	// button that is there now.
	evalString(t, c.provider, `(document.querySelector('[data-testid="admit-patient"]').click(), "")`)
	run(t, c.patient, "patient in the call", chromedp.WaitReady(chromedp.CSS(`[data-call="call"]`)))
	for name, b := range map[string]context.Context{"patient": c.patient, "provider": c.provider} {
		waitFrames(t, b, name, `video`, 20*time.Second)
	}
	return c
}

// framesJS sums framesDecoded over the inbound video whose track plays in
// the tiles matching the selector ("video": all of them).
func framesJS(selector string) string {
	return `(async () => {
  const pc = window.clinicboxCall && window.clinicboxCall.pc;
  if (!pc) return 0;
  const ids = new Set();
  document.querySelectorAll(` + strconv.Quote(selector) + `).forEach(v => {
    if (v.srcObject) v.srcObject.getVideoTracks().forEach(t => ids.add(t.id));
  });
  let f = 0;
  (await pc.getStats()).forEach(s => {
    if (s.type === "inbound-rtp" && s.kind === "video" && (ids.size === 0 ? false : ids.has(s.trackIdentifier))) f += s.framesDecoded || 0;
  });
  return f;
})()`
}

func frames(t *testing.T, b context.Context, selector string) float64 {
	t.Helper()
	// A renderer starved by a loaded machine (load 20-30 on two cores)
	// answers getStats in seconds, not milliseconds.
	ctx, cancel := context.WithTimeout(b, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](framesJS(selector), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("getStats: %v", err)
	}
	return v
}

// waitFrames waits until the tiles matching selector decode frames and
// keep decoding (the count rises twice, a second apart).
func waitFrames(t *testing.T, b context.Context, who, selector string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	last, rises := frames(t, b, "#tiles "+selector), 0
	for rises < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no frames decoded in %q (at %v)", who, selector, last)
		}
		time.Sleep(time.Second)
		f := frames(t, b, "#tiles "+selector)
		if f > last && last > 0 {
			rises++
		}
		last = f
	}
}

// TestBrowserVideoScreenShare: the clinician shares their screen; the
// patient's page shows it as its own tile and decodes it, beside the
// camera.
func TestBrowserVideoScreenShare(t *testing.T) {
	c := startBrowserCall(t)
	run(t, c.provider, "share the screen", chromedp.Click(chromedp.CSS(`[data-testid="btn-screen"]`)))
	run(t, c.provider, "sharing", chromedp.WaitReady(chromedp.CSS(`[data-testid="btn-screen"][aria-pressed="true"]`)))
	run(t, c.patient, "a screen tile", chromedp.WaitReady(chromedp.CSS(`#tiles .tile-screen video`)))
	waitFrames(t, c.patient, "patient (screen)", `.tile-screen video`, 20*time.Second)
	waitFrames(t, c.patient, "patient (camera)", `.tile:not(.tile-screen) video`, 10*time.Second)
	screenshot(t, c.patient, "video-patient-screen-share.png")
	// Stopping the share hides the tile (no frozen last frame); sharing
	// again shows it.
	const shown = `String([...document.querySelectorAll("#tiles .tile-screen")].filter(t => !t.hidden).length)`
	run(t, c.provider, "stop sharing", chromedp.Click(chromedp.CSS(`[data-testid="btn-screen"]`)))
	deadline := time.Now().Add(15 * time.Second)
	for evalString(t, c.patient, shown) != "0" {
		if time.Now().After(deadline) {
			t.Fatal("the screen tile stayed after the share stopped")
		}
		time.Sleep(250 * time.Millisecond)
	}
	run(t, c.provider, "share again", chromedp.Click(chromedp.CSS(`[data-testid="btn-screen"]`)),
		chromedp.WaitReady(chromedp.CSS(`[data-testid="btn-screen"][aria-pressed="true"]`)))
	deadline = time.Now().Add(15 * time.Second)
	for evalString(t, c.patient, shown) != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the screen tile did not come back when sharing again")
		}
		time.Sleep(250 * time.Millisecond)
	}
	waitFrames(t, c.patient, "patient (screen again)", `.tile-screen video`, 20*time.Second)
}

// TestBrowserVideoReconnect: the patient's media path breaks (the media
// port stops passing their packets, as when a phone leaves the Wi-Fi). The
// patient's page says it is reconnecting, the clinician's page shows the
// patient's tile as reconnecting rather than a frozen frame, and without
// anyone doing anything the call comes back (ICE restart on a new path, or
// a full rejoin) and the clinician decodes the patient's video again.
func TestBrowserVideoReconnect(t *testing.T) {
	c := startBrowserCall(t)
	// The patient's current path: the browser's port of the selected pair.
	port := evalAsync(t, c.patient, `(async () => {
  const st = await window.clinicboxCall.pc.getStats();
  let port = "";
  st.forEach(s => { if (s.type === "transport" && s.selectedCandidatePairId) {
    const pair = st.get(s.selectedCandidatePairId); const l = pair && st.get(pair.localCandidateId); if (l) port = String(l.port); } });
  return port;
})()`)
	p, err := strconv.Atoi(port)
	if err != nil || p == 0 {
		t.Fatalf("patient's port %q", port)
	}
	c.media.block(p)

	run(t, c.patient, "the patient's page says reconnecting", chromedp.WaitReady(chromedp.CSS(`[data-call="reconnecting"]`)))
	if s := evalString(t, c.patient, `document.getElementById("call-status").textContent`); s != "Reconnecting…" {
		t.Errorf("patient's status: %q", s)
	}
	run(t, c.provider, "the clinician sees the patient reconnecting",
		chromedp.WaitReady(chromedp.CSS(`#tiles .tile.is-reconnecting[data-reconnecting="Reconnecting…"]`)))
	screenshot(t, c.provider, "video-provider-patient-reconnecting.png")

	run(t, c.patient, "the patient's page back in the call", chromedp.WaitReady(chromedp.CSS(`[data-call="call"]`)))
	waitFrames(t, c.provider, "provider after the reconnect", `video`, 30*time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for evalString(t, c.provider, `String(document.querySelectorAll("#tiles .tile.is-reconnecting").length)`) != "0" {
		if time.Now().After(deadline) {
			t.Fatal("the patient's tile still shows reconnecting")
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func evalAsync(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// senderLabelJS is the label of the camera the patient's page sends now
// (Chromium's fake cameras are fake_device_0, fake_device_1).
const senderLabelJS = `(() => {
  const pc = window.clinicboxCall && window.clinicboxCall.pc;
  const s = pc && pc.getSenders().find(s => s.track && s.track.kind === "video");
  return s ? s.track.label : "";
})()`

// sendStatsJS describes what a page's video sender does, per simulcast
// layer, for a failure message: frames encoded, whether the layer is
// active, why its quality is limited, and the connection's outgoing
// bitrate estimate.
const sendStatsJS = `(async () => {
  const pc = window.clinicboxCall && window.clinicboxCall.pc;
  if (!pc) return "no connection";
  const out = [];
  const st = await pc.getStats();
  st.forEach(s => {
    if (s.type === "outbound-rtp" && s.kind === "video")
      out.push((s.rid || "-") + ": encoded=" + s.framesEncoded + " sent=" + s.framesSent + " active=" + s.active +
        " " + (s.frameWidth || 0) + "x" + (s.frameHeight || 0) + " limit=" + s.qualityLimitationReason + " pli=" + s.pliCount + " key=" + s.keyFramesEncoded + " pk=" + s.packetsSent + " target=" + Math.round(s.targetBitrate || 0));
    if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate)
      out.push("availableOutgoingBitrate=" + Math.round(s.availableOutgoingBitrate));
  });
  const snd = pc.getSenders().find(s => s.track && s.track.kind === "video");
  if (snd) {
    const tr = snd.track, ts = tr.stats || {};
    out.push("track " + tr.label + " " + tr.readyState + " muted=" + tr.muted + " enabled=" + tr.enabled +
      " delivered=" + ts.deliveredFrames + " discarded=" + ts.discardedFrames + " total=" + ts.totalFrames +
      " active=" + JSON.stringify(snd.getParameters().encodings.map(e => e.rid + ":" + e.active + ":" + (e.scaleResolutionDownBy || 1))));
  }
  const pv = document.getElementById("self-view");
  if (pv && pv.getVideoPlaybackQuality) out.push("preview frames=" + pv.getVideoPlaybackQuality().totalVideoFrames);
  return out.join("; ");
})()`

// TestBrowserVideoSwitchCamera: the patient presses "Switch camera" and the
// clinician's tile keeps decoding frames: framesDecoded rises in every
// three-second window for twelve seconds after the switch, not only once.
// Chromium's fake cameras are fake_device_0, fake_device_1 (a depth camera:
// its 16-bit frames show in the preview, but WebRTC refuses to encode them,
// so the clinician's picture froze on it) and fake_device_2; the page sees
// that fake_device_1 is not sent and moves on to fake_device_2.
func TestBrowserVideoSwitchCamera(t *testing.T) {
	c := startBrowserCall(t)
	if got := evalString(t, c.patient, senderLabelJS); got != "fake_device_0" {
		t.Fatalf("the patient sends %q before the switch, want fake_device_0", got)
	}
	run(t, c.patient, "switch camera",
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="btn-flip"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="btn-flip"]`)),
	)
	deadline := time.Now().Add(45 * time.Second)
	for evalString(t, c.patient, senderLabelJS) != "fake_device_2" {
		if time.Now().After(deadline) {
			t.Fatalf("the patient sends %q after the switch, want fake_device_2 (past the depth camera)\npatient's sender: %s",
				evalString(t, c.patient, senderLabelJS), evalAsync(t, c.patient, sendStatsJS))
		}
		time.Sleep(250 * time.Millisecond)
	}
	last := frames(t, c.provider, "#tiles video")
	for i := 1; i <= 4; i++ {
		time.Sleep(3 * time.Second)
		f := frames(t, c.provider, "#tiles video")
		if f <= last {
			t.Fatalf("the clinician's picture froze %ds after the switch (framesDecoded %v then %v)\npatient's sender: %s\nclinician's receiver: %s",
				3*i, last, f, evalAsync(t, c.patient, sendStatsJS), evalAsync(t, c.provider, recvStatsJS))
		}
		last = f
	}
	// Switching again skips the depth camera at once: back to fake_device_0.
	run(t, c.patient, "switch camera again", chromedp.Click(chromedp.CSS(`[data-testid="btn-flip"]`)))
	deadline = time.Now().Add(20 * time.Second)
	for evalString(t, c.patient, senderLabelJS) != "fake_device_0" {
		if time.Now().After(deadline) {
			t.Fatalf("the second switch sends %q, want fake_device_0", evalString(t, c.patient, senderLabelJS))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// recvStatsJS describes a page's video receivers, for a failure message.
const recvStatsJS = `(async () => {
  const pc = window.clinicboxCall && window.clinicboxCall.pc;
  if (!pc) return "no connection";
  const out = [];
  (await pc.getStats()).forEach(s => {
    if (s.type === "inbound-rtp" && s.kind === "video")
      out.push("in: recv=" + s.framesReceived + " dec=" + s.framesDecoded + " key=" + s.keyFramesDecoded + " drop=" + s.framesDropped + " pli=" + s.pliCount + " nack=" + s.nackCount + " lost=" + s.packetsLost + " pk=" + s.packetsReceived + " " + (s.frameWidth||0) + "x" + (s.frameHeight||0));
  });
  return out.join("; ");
})()`
