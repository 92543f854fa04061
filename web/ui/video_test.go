package ui_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/web"
)

// A patient waiting in the video lobby shows on the board with a badge and a
// way into the call; once admitted, as on a call.
func TestBoardShowsVideoLobby(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Vi", LastName: "Dahl"}}, Active: true}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	b := e.browser().signIn("front@test.example")
	now := time.Now().Truncate(time.Minute)
	if now.In(e.room.Location()).Format("2006-01-02") != now.Add(20*time.Minute).In(e.room.Location()).Format("2006-01-02") {
		t.Skip("midnight")
	}
	id := e.createAppointment(b, pat.ID, now)
	a, err := e.st.Appointment(ctx, e.org.ID, id)
	must(t, err)
	badge := `data-testid="video-waiting-` + itoa(id) + `"`
	if strings.Contains(b.get("/board").body, badge) {
		t.Fatal("badge before anyone waits")
	}
	for _, tc := range []struct {
		change     store.VideoChange
		want, gone string
	}{
		{store.VideoPatientWaiting, badge, `data-testid="video-oncall-` + itoa(id) + `"`},
		{store.VideoAdmitted, `data-testid="video-oncall-` + itoa(id) + `"`, badge},
	} {
		_, err := e.st.RecordVideo(ctx, e.org.ID, id, tc.change)
		must(t, err)
		body := b.get("/board").body
		if !strings.Contains(body, tc.want) || strings.Contains(body, tc.gone) {
			t.Errorf("after %s: want %s and not %s", tc.change, tc.want, tc.gone)
		}
		if !strings.Contains(body, `href="/visit/`+a.ProviderToken+`"`) {
			t.Errorf("after %s: no link into the call", tc.change)
		}
	}
}

// The appointment page shows who waits in the video lobby with the way in
// for a clinician, and keeps the call's chat with the visit.
func TestAppointmentPageVideoPanel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	pat := &store.Patient{Names: []store.HumanName{{FirstName: "Vi", LastName: "Dahl"}}, Active: true}
	must(t, e.st.CreatePatient(ctx, e.org.ID, pat))
	a := &store.Appointment{PatientID: pat.ID, WaitingRoomID: e.room.ID}
	must(t, e.st.CreateAppointment(ctx, e.org.ID, a))
	doc := e.browser().signIn("doc@test.example")
	front := e.browser().signIn("front@test.example")
	page := "/appointments/" + itoa(a.ID)

	_, err := e.st.RecordVideo(ctx, e.org.ID, a.ID, store.VideoPatientWaiting)
	must(t, err)
	body := doc.get(page).body
	if !strings.Contains(body, `data-testid="video-waiting"`) || !strings.Contains(body, ">Admit Vi Dahl</a>") ||
		!strings.Contains(body, "/visit/"+a.ProviderToken+"?admit=patient") {
		t.Errorf("clinician's appointment page lacks the lobby and the admit button")
	}
	if fb := front.get(page).body; strings.Contains(fb, "Admit Vi Dahl") || strings.Contains(fb, a.ProviderToken) {
		t.Errorf("the front desk is offered the clinician's way into the call")
	}

	for _, m := range []store.ChatMessage{{AuthorRole: "patient", AuthorName: "Vi Dahl", Body: "Can you hear me?"},
		{AuthorRole: "provider", AuthorName: "Dr. Dora", Body: "Yes <clearly>"}} {
		m.AppointmentID = a.ID
		must(t, e.st.AddVisitChat(ctx, e.org.ID, &m))
	}
	_, err = e.st.RecordVideo(ctx, e.org.ID, a.ID, store.VideoAdmitted)
	must(t, err)
	_, err = e.st.RecordVideo(ctx, e.org.ID, a.ID, store.VideoEnded)
	must(t, err)
	body = doc.get(page).body
	for _, want := range []string{`data-testid="chat-history"`, "Can you hear me?", "Yes &lt;clearly&gt;", `data-testid="video-status">Call completed`} {
		if !strings.Contains(body, want) {
			t.Errorf("appointment page after the call lacks %q", want)
		}
	}
	if strings.Contains(body, "Admit Vi Dahl") {
		t.Error("admit offered after the visit")
	}
}

// The admin pages warn when patients' phones would not trust the
// certificate, and the video self-test page lists the ports to check.
func TestAdminCertWarningAndVideoCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vs, err := video.New(video.Config{MediaAddr: "127.0.0.1:0", TURN: &video.TURNConfig{Addr: "127.0.0.1:0"}}, video.StoreVisits{Store: e.st}, log)
	must(t, err)
	defer vs.Close()
	trusted := false
	e.srv.Config.Handler = web.New(web.Deps{Store: e.st, Log: log, PublicURL: "https://clinic.example", Video: vs,
		TLSTrust: func() (bool, string) {
			if trusted {
				return true, ""
			}
			return false, "the certificate is self-made"
		},
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
	admin := e.browser().signIn("admin@test.example")
	body := admin.get("/admin").body
	if !strings.Contains(body, `data-testid="cert-warning"`) || !strings.Contains(body, "the certificate is self-made") {
		t.Errorf("admin index lacks the certificate warning")
	}
	check := admin.get("/admin/video-check")
	media, udp, tcp, _ := vs.Ports()
	for _, want := range []string{`data-testid="check-direct"`, `data-testid="check-turn-udp"`, `data-testid="check-turn-tcp"`,
		"UDP/TCP " + itoa(int64(media)), "UDP " + itoa(int64(udp)), "TCP " + itoa(int64(tcp)), `src="/assets/selftest.js"`, "clinic.example"} {
		if !strings.Contains(check.body, want) {
			t.Errorf("video check page lacks %q", want)
		}
	}
	if strings.Contains(check.body, `data-testid="check-turn-tls"`) {
		t.Error("TURN over TLS listed while it is off")
	}
	ice := admin.get("/admin/video-check/ice")
	if ice.status != 200 || !strings.Contains(ice.body, `"username"`) {
		t.Errorf("self-test TURN credentials: %d %s", ice.status, ice.body)
	}
	if r := e.browser().signIn("doc@test.example").get("/admin/video-check"); r.status != 403 {
		t.Errorf("a clinician opens the admin self-test: %d", r.status)
	}
	trusted = true
	if strings.Contains(admin.get("/admin").body, `data-testid="cert-warning"`) {
		t.Error("warning shown with a trusted certificate")
	}
}
