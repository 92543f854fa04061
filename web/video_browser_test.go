package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/web"
)

// mediaStats is what a page's peer connection has received so far.
type mediaStats struct {
	FramesDecoded  float64 `json:"framesDecoded"`
	AudioPackets   float64 `json:"audioPackets"`
	ConnectionOpen bool    `json:"open"`
}

const statsJS = `(async () => {
  const pc = window.clinicboxCall && window.clinicboxCall.pc;
  if (!pc) return {framesDecoded: 0, audioPackets: 0, open: false};
  let f = 0, a = 0;
  (await pc.getStats()).forEach(s => {
    if (s.type !== "inbound-rtp") return;
    if (s.kind === "video") f += s.framesDecoded || 0;
    if (s.kind === "audio") a += s.packetsReceived || 0;
  });
  return {framesDecoded: f, audioPackets: a, open: pc.connectionState === "connected"};
})()`

func readStats(t *testing.T, ctx context.Context) mediaStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[mediaStats](statsJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("getStats: %v", err)
	}
	return v
}

// videoAppointment is a clinic with a video waiting room and one patient's
// appointment there, for a browser test of the visit pages.
func videoAppointment(t *testing.T, clinic, slug, ext, first, last string) (*store.Store, *store.Org, *store.Appointment) {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	org := &store.Org{Name: clinic, Slug: slug}
	must(t, st.CreateOrg(ctx, org))
	room := &store.WaitingRoom{Name: "Video room", SlotDuration: 900, Timezone: "UTC", Active: true}
	must(t, st.CreateWaitingRoom(ctx, org.ID, room))
	p := &store.Patient{ExternalID: ext, Names: []store.HumanName{{FirstName: first, LastName: last}}, Active: true}
	must(t, st.CreatePatient(ctx, org.ID, p))
	a := &store.Appointment{PatientID: p.ID, WaitingRoomID: room.ID}
	must(t, st.CreateAppointment(ctx, org.ID, a))
	return st, org, a
}

// TestBrowserVideoVisit: two Chromiums with fake cameras open the patient
// and the provider links; the patient checks in and waits in the lobby, the
// provider admits them, and both pages decode video and receive audio for
// ten seconds.
func TestBrowserVideoVisit(t *testing.T) {
	exe := chromium(t)
	ctx := context.Background()
	st, org, a := videoAppointment(t, "Video Clinic", "video", "v1", "Vera", "Holm")

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vs, err := video.New(video.Config{MediaAddr: "127.0.0.1:0", LoopbackCandidates: true}, video.StoreVisits{Store: st}, log)
	must(t, err)
	defer vs.Close()
	// Served from http://127.0.0.1, which browsers treat as a secure
	// context: camera and microphone work without a certificate.
	srv := httptest.NewServer(web.New(web.Deps{Store: st, Log: log, PublicURL: "http://127.0.0.1", Video: vs,
		SessionKeys: [][]byte{[]byte("browser-test-key-0123456789abcdef")}}))
	defer srv.Close()

	patient := newBrowser(t, exe)
	provider := newBrowser(t, exe)
	run(t, patient, "patient checks in and waits in the lobby",
		chromedp.Navigate(srv.URL+"/visit/"+a.PatientToken),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="checkin-button"]`)),
		chromedp.WaitReady(chromedp.CSS(`[data-connection]`)),
	)
	if got := evalString(t, patient, `document.querySelector('[data-testid="call-root"]').getAttribute("data-connection")`); got != "host" && got != "srflx" {
		t.Errorf("the check-in page's connection check says %q", got)
	}
	screenshot(t, patient, "video-patient-checkin.png")
	run(t, patient, "check in",
		chromedp.Click(chromedp.CSS(`[data-testid="checkin-button"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lobby"]`)),
		chromedp.WaitReady(chromedp.CSS(`[data-call="lobby"]`)),
	)
	screenshot(t, patient, "video-patient-lobby.png")
	run(t, provider, "provider sees the patient waiting and admits",
		chromedp.Navigate(srv.URL+"/visit/"+a.ProviderToken),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="admit-patient"]`)),
	)
	label := evalString(t, provider, `document.querySelector('[data-testid="admit-patient"]').textContent`)
	if label != "Admit Vera Holm" {
		t.Errorf("admit button reads %q", label)
	}
	if badge := evalString(t, provider, `document.querySelector('[data-testid="waiting-badge"]').textContent`); badge != "1" {
		t.Errorf("waiting badge = %q", badge)
	}
	screenshot(t, provider, "video-provider-lobby.png")
	run(t, provider, "admit", chromedp.Click(chromedp.CSS(`[data-testid="admit-patient"]`)))
	run(t, patient, "patient in the call", chromedp.WaitReady(chromedp.CSS(`[data-call="call"]`)))

	// Media flows both ways, and keeps flowing for ten seconds. A viewer's
	// picture starts at the sender's next keyframe of the simulcast layer
	// it gets, which a loaded machine can take a while to produce.
	deadline := time.Now().Add(25 * time.Second)
	for {
		ps, qs := readStats(t, patient), readStats(t, provider)
		if ps.FramesDecoded > 0 && ps.AudioPackets > 0 && qs.FramesDecoded > 0 && qs.AudioPackets > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no media after admission: patient %+v, provider %+v", ps, qs)
		}
		time.Sleep(250 * time.Millisecond)
	}
	last := map[string]mediaStats{"patient": readStats(t, patient), "provider": readStats(t, provider)}
	for i := 0; i < 5; i++ {
		time.Sleep(2 * time.Second)
		for name, b := range map[string]context.Context{"patient": patient, "provider": provider} {
			s := readStats(t, b)
			if s.FramesDecoded <= last[name].FramesDecoded || s.AudioPackets <= last[name].AudioPackets {
				t.Fatalf("%s: media stopped rising at %ds: %+v then %+v", name, 2*(i+1), last[name], s)
			}
			last[name] = s
		}
	}
	screenshot(t, provider, "video-provider-call.png")
	screenshot(t, patient, "video-patient-call.png")
	got, err := st.Appointment(ctx, org.ID, a.ID)
	must(t, err)
	if got.VideoStatus != "on call" {
		t.Errorf("video status = %q, want on call", got.VideoStatus)
	}
}

func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// TestBrowserVideoSelfTest: the admin's connection check, run in Chromium,
// reaches the media port and the embedded TURN server over UDP and TCP.
func TestBrowserVideoSelfTest(t *testing.T) {
	exe := chromium(t)
	ctx := context.Background()
	st := storetest.Open(t)
	org := &store.Org{Name: "Check Clinic", Slug: "check"}
	must(t, st.CreateOrg(ctx, org))
	const pw = "a long enough password"
	must(t, st.CreateUser(ctx, org.ID, &store.User{Email: "admin@c.example", Name: "Ada", Role: store.RoleAdmin}, pw))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vs, err := video.New(video.Config{MediaAddr: "127.0.0.1:0", LoopbackCandidates: true,
		TURN: &video.TURNConfig{Addr: "127.0.0.1:0", Host: "127.0.0.1"}}, video.StoreVisits{Store: st}, log)
	must(t, err)
	defer vs.Close()
	srv := httptest.NewServer(web.New(web.Deps{Store: st, Log: log, PublicURL: "http://127.0.0.1", Video: vs,
		SessionKeys: [][]byte{[]byte("browser-test-key-0123456789abcdef")}}))
	defer srv.Close()
	b := newBrowser(t, exe)
	run(t, b, "admin runs the check",
		signInTo(srv.URL, "admin@c.example", pw),
		chromedp.Navigate(srv.URL+"/admin/video-check"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="video-check"]`)),
		chromedp.WaitReady(chromedp.CSS(`tr[data-check="turn-tcp"][data-ok]`)),
	)
	screenshot(t, b, "video-selftest.png")
	for _, id := range []string{"direct", "turn-udp", "turn-tcp"} {
		got := evalString(t, b, `document.querySelector('[data-testid="check-`+id+`"]').textContent`)
		if !strings.HasPrefix(got, "OK") {
			t.Errorf("%s: %q", id, got)
		}
	}
}

// signInTo signs in and lands anywhere (an admin's first page).
func signInTo(base, email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), password),
		chromedp.Click(chromedp.CSS(`[data-testid="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav`)),
	)
}

// holdChecksJS runs before the check-in page's own script: the camera
// (and so the connection check, which starts after it) waits until the
// test calls window.releaseChecks(), so the page can be measured before
// any check result is there.
const holdChecksJS = `(() => {
  const md = navigator.mediaDevices;
  if (!md || window.releaseChecks) return;
  let release;
  const held = new Promise(r => { release = r; });
  window.releaseChecks = () => release();
  const open = md.getUserMedia.bind(md);
  md.getUserMedia = c => held.then(() => open(c));
})()`

// checkinButtonBoxJS is the check-in button's place on the page (CSS
// pixels from the document's top left), once the styles and fonts are in.
const checkinButtonBoxJS = `(async () => {
  await document.fonts.ready;
  const r = document.querySelector('[data-testid="checkin-button"]').getBoundingClientRect();
  return [r.left + scrollX, r.top + scrollY, r.width, r.height].map(v => v.toFixed(1)).join(",");
})()`

// TestBrowserCheckinButtonStays: on the patient's check-in page the camera
// and connection checks' results have their room from the start, so the
// check-in button is where it was when the checks finish (a tap aimed at
// it before then would otherwise miss), on a phone and on a laptop, in
// English and Danish. With CLINICBOX_UPDATE_SCREENSHOTS=1 the finished
// pages are written to docs/screenshots.
func TestBrowserCheckinButtonStays(t *testing.T) {
	exe := chromium(t)
	st, _, a := videoAppointment(t, "Check-in Clinic", "checkin", "k1", "Kaja", "Berg")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vs, err := video.New(video.Config{MediaAddr: "127.0.0.1:0", LoopbackCandidates: true}, video.StoreVisits{Store: st}, log)
	must(t, err)
	defer vs.Close()
	srv := httptest.NewServer(web.New(web.Deps{Store: st, Log: log, PublicURL: "http://127.0.0.1", Video: vs,
		SessionKeys: [][]byte{[]byte("browser-test-key-0123456789abcdef")}}))
	defer srv.Close()
	shots := ""
	if os.Getenv("CLINICBOX_UPDATE_SCREENSHOTS") == "1" {
		shots = filepath.Join("..", "docs", "screenshots")
	}

	for _, tc := range []struct {
		name, lang string
		w, h       int64
	}{
		{"phone", "en", 390, 844},
		{"laptop", "en", 1366, 900},
		{"phone", "da", 390, 844},
		{"laptop", "da", 1366, 900},
	} {
		t.Run(tc.lang+"-"+tc.name, func(t *testing.T) {
			b := newBrowser(t, exe)
			run(t, b, "open the check-in page with the checks held",
				chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
					_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument,
						page.AddScriptToEvaluateOnNewDocumentParams{Source: holdChecksJS})
					return err
				}),
				chromedp.EmulateViewport(tc.w, tc.h),
				chromedp.Navigate(srv.URL+"/visit/"+a.PatientToken+"?lang="+tc.lang),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="checkin-button"]`)),
			)
			run(t, b, "the page loaded", until(`document.readyState === "complete"`))
			if held := evalString(t, b, `String(!!window.releaseChecks && !document.querySelector("[data-devices],[data-connection]"))`); held != "true" {
				t.Fatalf("the checks were not held back (%s)", held)
			}
			before := evalAsync(t, b, checkinButtonBoxJS)
			evalString(t, b, `(window.releaseChecks(), "")`)
			run(t, b, "the checks finish",
				chromedp.WaitReady(chromedp.CSS(`[data-devices="ok"]`)),
				chromedp.WaitReady(chromedp.CSS(`[data-connection]`)),
				until(`document.querySelector("#pick-camera").options.length > 0`),
			)
			after := evalAsync(t, b, checkinButtonBoxJS)
			if before != after {
				t.Errorf("the check-in button moved when the checks finished: %s (left, top, width, height) then %s", before, after)
			}
			if shots != "" {
				png, err := chromedp.Run(b, chromedp.FullScreenshot(100))
				must(t, err)
				must(t, os.WriteFile(filepath.Join(shots, "video-checkin-"+tc.lang+"-"+tc.name+".png"), png, 0o644))
			}
		})
	}
}

// until waits for a script expression to be true.
func until(expr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](expr)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		return chromedp.Void{}, err
	}
}
