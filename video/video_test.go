package video_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/video/testpeer"
)

type env struct {
	st    *store.Store
	srv   *httptest.Server
	video *video.Server
	orgID int64
	appt  *store.Appointment
	guest string
}

func newEnv(t *testing.T, turn bool) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t)
	org := storetest.Org(t, st, "Harbour Clinic", "harbour")
	room := &store.WaitingRoom{Name: "Video clinic", SlotDuration: 900, Timezone: "UTC", Active: true}
	if err := st.CreateWaitingRoom(ctx, org.ID, room); err != nil {
		t.Fatal(err)
	}
	p := &store.Patient{ExternalID: "p1", Names: []store.HumanName{{FirstName: "Ann", LastName: "Lee"}}, Active: true}
	if err := st.CreatePatient(ctx, org.ID, p); err != nil {
		t.Fatal(err)
	}
	a := &store.Appointment{PatientID: p.ID, WaitingRoomID: room.ID, Duration: 900}
	if err := st.CreateAppointment(ctx, org.ID, a); err != nil {
		t.Fatal(err)
	}
	guest, err := st.GuestToken(ctx, org.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := video.Config{MediaAddr: "127.0.0.1:0", RejoinGrace: 400 * time.Millisecond, LoopbackCandidates: true}
	if turn {
		cfg.TURN = &video.TURNConfig{Addr: "127.0.0.1:0", Host: "127.0.0.1", RelayIP: net.IPv4(127, 0, 0, 1)}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vs, err := video.New(cfg, video.StoreVisits{Store: st}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vs.Close() })
	mux := http.NewServeMux()
	mux.Handle("GET /visit/{token}/ws", vs)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return &env{st: st, srv: srv, video: vs, orgID: org.ID, appt: a, guest: guest}
}

func (e *env) join(t *testing.T, token string, send bool, mod ...func(*testpeer.Options)) *testpeer.Peer {
	t.Helper()
	o := testpeer.Options{URL: "wss" + strings.TrimPrefix(e.srv.URL, "https") + "/visit/" + token + "/ws",
		TLS: e.srv.Client().Transport.(*http.Transport).TLSClientConfig, Audio: send, Video: send}
	for _, m := range mod {
		m(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := testpeer.Join(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(false) })
	return p
}

// pump sends ~50 video and 50 audio packets a second until stop.
func pump(p *testpeer.Peer, stop <-chan struct{}) {
	vp8 := make([]byte, 900)
	vp8[0] = 0x10 // VP8 payload descriptor: start of partition
	opus := []byte{0xf8, 0xff, 0xfe}
	var seqV, seqA uint16
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for i := uint32(0); ; i++ {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		seqV++
		seqA++
		p.WriteVideo(&rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: seqV, Timestamp: i * 1800}, Payload: vp8})
		p.WriteAudio(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seqA, Timestamp: i * 960}, Payload: opus})
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) videoStatus(t *testing.T) (video, status string) {
	a, err := e.st.Appointment(context.Background(), e.orgID, e.appt.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a.VideoStatus, a.Status
}

func (e *env) events(t *testing.T) []string {
	evs, err := e.st.EventsAfter(context.Background(), e.orgID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func bptr(b bool) *bool { return &b }

// The whole visit: the lobby holds the patient's media back until the
// clinician admits, then media flows both ways, keyframe requests reach the
// sender, the patient hangs up, and the clinician ends the visit.
func TestVisitLobbyAdmitCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx := ctxT(t, 30*time.Second)

	prov := e.join(t, e.appt.ProviderToken, true)
	if prov.Welcome.Role != "provider" || prov.Welcome.State != "admitted" {
		t.Fatalf("provider welcome = %+v", prov.Welcome)
	}
	if err := prov.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	stopProv := make(chan struct{})
	go pump(prov, stopProv)
	defer close(stopProv)

	pat := e.join(t, e.appt.PatientToken, true)
	if pat.Welcome.Role != "patient" || pat.Welcome.State != "lobby" || pat.Welcome.Name != "Ann Lee" {
		t.Fatalf("patient welcome = %+v", pat.Welcome)
	}
	eventually(t, 3*time.Second, "video status waiting", func() bool { v, _ := e.videoStatus(t); return v == "waiting" })
	if _, st := e.videoStatus(t); st != store.StatusArrived {
		t.Errorf("status after joining the lobby = %q, want arrived", st)
	}

	// The clinician sees who waits.
	var waiting []video.ParticipantInfo
	for len(waiting) == 0 {
		m, err := prov.WaitFor(ctx, "participants")
		if err != nil {
			t.Fatal(err)
		}
		waiting = m.Waiting
	}
	if len(waiting) != 1 || waiting[0].Name != "Ann Lee" || waiting[0].Role != "patient" {
		t.Fatalf("waiting = %+v", waiting)
	}

	// In the lobby, every media message is refused and no offer comes.
	for _, m := range []video.ClientMessage{
		{Type: "offer", SDP: "v=0"},
		{Type: "answer", SDP: "v=0"},
		{Type: "candidate", Candidate: &video.Candidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}},
		{Type: "restart"},
		{Type: "admit", ID: pat.Welcome.ID},
		{Type: "chat", Text: "hello?"},
	} {
		if err := pat.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
		r, err := pat.WaitFor(ctx, "error")
		if err != nil {
			t.Fatal(err)
		}
		if r.Message == "" {
			t.Errorf("%s in the lobby: empty error", m.Type)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if pat.HasPeerConnection() {
		t.Fatal("the patient got a peer connection in the lobby")
	}
	if a, v := prov.Received(); a+v != 0 {
		t.Fatalf("the provider received %d packets from the lobby", a+v)
	}
	if a, v := pat.Received(); a+v != 0 {
		t.Fatalf("the lobby received %d packets", a+v)
	}

	// Admit.
	if err := prov.Send(ctx, video.ClientMessage{Type: "admit", ID: pat.Welcome.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := pat.WaitFor(ctx, "admitted"); err != nil {
		t.Fatal(err)
	}
	if err := pat.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "video status on call", func() bool { v, _ := e.videoStatus(t); return v == "on call" })
	if _, st := e.videoStatus(t); st != store.StatusExamProgress {
		t.Errorf("status after admission = %q, want %q", st, store.StatusExamProgress)
	}
	stopPat := make(chan struct{})
	go pump(pat, stopPat)

	eventually(t, 10*time.Second, "media both ways", func() bool {
		pa, pv := prov.Received()
		qa, qv := pat.Received()
		return pa > 40 && pv > 40 && qa > 40 && qv > 40
	})

	// A keyframe request from the clinician reaches the patient's camera.
	before := pat.PLIs()
	eventually(t, 5*time.Second, "PLI at the sender", func() bool {
		prov.RequestKeyframes()
		return pat.PLIs() > before
	})

	// Chat is kept with the visit and shown to both.
	if err := pat.Send(ctx, video.ClientMessage{Type: "chat", Text: "  I can see you  "}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*testpeer.Peer{prov, pat} {
		m, err := p.WaitFor(ctx, "chat")
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Chat) != 1 || m.Chat[0].Text != "I can see you" || m.Chat[0].Name != "Ann Lee" || m.Chat[0].Role != "patient" {
			t.Errorf("chat = %+v", m.Chat)
		}
	}
	chat, err := e.st.VisitChat(ctx, e.orgID, e.appt.ID)
	if err != nil || len(chat) != 1 || chat[0].Body != "I can see you" {
		t.Fatalf("stored chat = %+v, %v", chat, err)
	}

	// Muting shows on the other side.
	if err := pat.Send(ctx, video.ClientMessage{Type: "state", Audio: bptr(false)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "mute shown", func() bool {
		m, err := prov.WaitFor(ctx, "participants")
		if err != nil {
			return false
		}
		for _, q := range m.Participants {
			if q.ID == pat.Welcome.ID && !q.Audio {
				return true
			}
		}
		return false
	})

	// The patient hangs up: media stops reaching the clinician.
	close(stopPat)
	pat.Close(true)
	eventually(t, 3*time.Second, "video status incomplete", func() bool { v, _ := e.videoStatus(t); return v == "incomplete" })
	time.Sleep(300 * time.Millisecond)
	a1, v1 := prov.Received()
	time.Sleep(500 * time.Millisecond)
	if a2, v2 := prov.Received(); a2 != a1 || v2 != v1 {
		t.Errorf("media still forwarded after hang-up: %d/%d -> %d/%d", a1, v1, a2, v2)
	}

	// The clinician ends the visit.
	if err := prov.Send(ctx, video.ClientMessage{Type: "end"}); err != nil {
		t.Fatal(err)
	}
	if _, err := prov.WaitFor(ctx, "ended"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "video status complete", func() bool {
		v, st := e.videoStatus(t)
		return v == "complete" && st == store.StatusCompleted
	})
	evs := e.events(t)
	for _, want := range []string{store.EventAppointmentIncompleted, store.EventAppointmentCompleted} {
		if !slices.Contains(evs, want) {
			t.Errorf("events %v lack %s", evs, want)
		}
	}
	// The visit is over: its links no longer join.
	ctx2, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = testpeer.Join(ctx2, testpeer.Options{URL: "wss" + strings.TrimPrefix(e.srv.URL, "https") + "/visit/" + e.appt.PatientToken + "/ws",
		TLS: e.srv.Client().Transport.(*http.Transport).TLSClientConfig})
	if err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("joining an ended visit: err = %v, want a 409", err)
	}
}

// A patient who leaves the lobby unseen is LWBS, whether they say so or their
// connection drops and they do not come back within the grace period.
func TestLeftWithoutBeingSeen(t *testing.T) {
	t.Parallel()
	for _, polite := range []bool{true, false} {
		e := newEnv(t, false)
		pat := e.join(t, e.appt.PatientToken, false)
		eventually(t, 3*time.Second, "waiting", func() bool { v, _ := e.videoStatus(t); return v == "waiting" })
		pat.Close(polite)
		eventually(t, 3*time.Second, "LWBS", func() bool { v, _ := e.videoStatus(t); return v == "LWBS" })
		if evs := e.events(t); !slices.Contains(evs, store.EventAppointmentLWBS) {
			t.Errorf("polite=%v: events %v lack appointment:lwbs", polite, evs)
		}
	}
}

// A guest waits like the patient and is admitted the same way; the
// patient's status does not follow the guest.
func TestGuestAdmittedSeparately(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx := ctxT(t, 20*time.Second)
	prov := e.join(t, e.appt.ProviderToken, true)
	guest := e.join(t, e.guest, false, func(o *testpeer.Options) { o.URL += "?name=Maria%20(interpreter)" })
	if guest.Welcome.Role != "guest" || guest.Welcome.State != "lobby" || guest.Welcome.Name != "Maria (interpreter)" {
		t.Fatalf("guest welcome = %+v", guest.Welcome)
	}
	if v, _ := e.videoStatus(t); v != "" {
		t.Errorf("a guest set the video status to %q", v)
	}
	if err := prov.Send(ctx, video.ClientMessage{Type: "admit", ID: guest.Welcome.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := guest.WaitFor(ctx, "admitted"); err != nil {
		t.Fatal(err)
	}
	if err := guest.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go pump(prov, stop)
	eventually(t, 10*time.Second, "guest receives the clinician", func() bool { a, v := guest.Received(); return a > 20 && v > 20 })
	// Only the clinician admits.
	if err := guest.Send(ctx, video.ClientMessage{Type: "end"}); err != nil {
		t.Fatal(err)
	}
	if m, err := guest.WaitFor(ctx, "error"); err != nil || !strings.Contains(m.Message, "clinician") {
		t.Errorf("guest ending the visit: %+v %v", m, err)
	}
}

func TestSignallingRefusesBadLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"unknown token", "nope", http.StatusNotFound},
		{"empty-looking token", "%20", http.StatusNotFound},
	} {
		res, err := e.srv.Client().Get(e.srv.URL + "/visit/" + tc.token + "/ws")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, res.StatusCode, tc.status)
		}
	}
	// A cross-site page cannot open the patient's socket.
	req, _ := http.NewRequest("GET", e.srv.URL+"/visit/"+e.appt.PatientToken+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Origin", "https://evil.example")
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin upgrade: status %d, want 403", res.StatusCode)
	}
}

// The server answers a viewer's NACK from its buffer of sent packets, and
// asks each camera (REMB) for no more than its viewers' estimated download.
func TestNACKAnsweredAndBitrateAsked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx := ctxT(t, 30*time.Second)
	var mu sync.Mutex
	seen := map[uint16]int{}
	prov := e.join(t, e.appt.ProviderToken, true)
	pat := e.join(t, e.appt.PatientToken, true, func(o *testpeer.Options) {
		o.AcceptResent = true
		o.OnRTP = func(kind string, p *rtp.Packet) {
			if kind == "video" {
				mu.Lock()
				seen[p.SequenceNumber]++
				mu.Unlock()
			}
		}
	})
	if err := prov.Send(ctx, video.ClientMessage{Type: "admit", ID: pat.Welcome.ID}); err != nil {
		t.Fatal(err)
	}
	if err := pat.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go pump(prov, stop)
	go pump(pat, stop)
	eventually(t, 10*time.Second, "video at the patient", func() bool { _, v := pat.Received(); return v > 30 })
	mu.Lock()
	var seq uint16
	for s := range seen {
		seq = max(seq, s)
	}
	seq -= 10 // received a moment ago: still in the server's buffer
	if seen[seq] != 1 {
		t.Fatalf("seq %d seen %d times before the NACK", seq, seen[seq])
	}
	mu.Unlock()
	if err := pat.SendNACK(seq); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the NACKed packet resent", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[seq] >= 2
	})
	// The patient's browser returns TWCC feedback for what it receives; the
	// server's estimate of that download caps what the clinician's camera
	// is asked to send.
	eventually(t, 10*time.Second, "a REMB at the clinician's camera", func() bool {
		r := prov.REMB()
		return r >= 100_000 && r <= 2_500_000
	})
}
