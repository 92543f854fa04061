package visit

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// withVideo serves the visit pages with a running media server.
func withVideo(t *testing.T, e *visitEnv) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vs, err := video.New(video.Config{MediaAddr: "127.0.0.1:0", LoopbackCandidates: true,
		TURN: &video.TURNConfig{Addr: "127.0.0.1:0", Host: "127.0.0.1"}}, video.StoreVisits{Store: e.st}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vs.Close() })
	mux := http.NewServeMux()
	httpx.Register(mux, New(Deps{Store: e.st, Log: log, Video: vs, PublicURL: "https://clinic.example"}).Routes())
	e.srv.Close()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
}

func TestVideoPages(t *testing.T) {
	e := newVisitEnv(t)
	withVideo(t, e)
	// The provider page holds the call, the waiting list and the guest link.
	code, body := e.get(t, "/visit/"+e.appt.ProviderToken)
	if code != 200 {
		t.Fatalf("provider page: %d", code)
	}
	mustContain(t, body, `data-video`, `data-role="provider"`, `data-testid="waiting-list"`, `data-testid="visit-note-slot"`,
		`src="/assets/video.js"`, `data-testid="btn-end"`, `data-testid="btn-screen"`, "https://clinic.example/visit/")
	if strings.Contains(body, "<script>") {
		t.Error("inline script on the provider page")
	}
	guest, err := e.st.GuestToken(context.Background(), e.orgID, e.appt.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The guest page shows neither the patient nor the visit's details.
	code, body = e.get(t, "/visit/"+guest)
	if code != 200 {
		t.Fatalf("guest page: %d", code)
	}
	mustContain(t, body, `data-role="guest"`, `data-testid="guest-name"`, "Harbour Clinic")
	for _, secret := range []string{"Ann", "Lee", "headache", "1990-01-02", e.appt.PatientToken, e.appt.ProviderToken} {
		if strings.Contains(body, secret) {
			t.Errorf("the guest page shows %q", secret)
		}
	}
	// The patient's check-in page has the device check; the lobby the call.
	_, body = e.get(t, "/visit/"+e.appt.PatientToken)
	mustContain(t, body, `data-testid="device-check"`, `data-testid="checkin-button"`, `data-autojoin="0"`)
	if strings.Contains(body, `data-testid="btn-screen"`) {
		t.Error("screen sharing offered before the call")
	}
	e.post(t, "/visit/"+e.appt.PatientToken+"/checkin")
	_, body = e.get(t, "/visit/"+e.appt.PatientToken)
	mustContain(t, body, `data-testid="lobby"`, `data-autojoin="1"`, `data-testid="btn-hangup"`)
	if strings.Contains(body, `http-equiv="refresh"`) || strings.Contains(body, `data-testid="btn-screen"`) {
		t.Error("the patient's call page reloads itself or offers screen sharing")
	}
}

func TestVideoEndpoints(t *testing.T) {
	e := newVisitEnv(t)
	withVideo(t, e)
	// TURN credentials for a link's browser.
	code, body := e.get(t, "/visit/"+e.appt.PatientToken+"/ice")
	if code != 200 {
		t.Fatalf("ice: %d %s", code, body)
	}
	var ice struct {
		ICEServers []video.ICEServer `json:"iceServers"`
	}
	if err := json.Unmarshal([]byte(body), &ice); err != nil || len(ice.ICEServers) != 1 {
		t.Fatalf("ice answer %s: %v", body, err)
	}
	s := ice.ICEServers[0]
	if s.Username == "" || s.Credential == "" || !strings.HasPrefix(s.URLs[0], "turn:127.0.0.1:") {
		t.Errorf("ice server %+v", s)
	}
	if code, _ := e.get(t, "/visit/nope/ice"); code != http.StatusNotFound {
		t.Errorf("ice for an unknown link: %d", code)
	}
	// The connection check takes a data-channel offer only: it cannot carry
	// media past the lobby.
	for _, tc := range []struct {
		name, token, body string
		status            int
		msg               string
	}{
		{"not JSON", e.appt.PatientToken, `sdp=1`, 400, "body must be"},
		{"no offer", e.appt.PatientToken, `{}`, 400, "body must be"},
		{"not SDP", e.appt.PatientToken, `{"sdp":"hello"}`, 400, "not an SDP offer"},
		{"media offer", e.appt.PatientToken, `{"sdp":` + jsonString(mediaOffer) + `}`, 400, "data channel only"},
		{"unknown link", "nope", `{"sdp":"v=0"}`, 404, "not found"},
	} {
		res, err := http.Post(e.srv.URL+"/visit/"+tc.token+"/probe", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.Contains(string(b), tc.msg) || !strings.Contains(string(b), `"error"`) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, res.StatusCode, b, tc.status, tc.msg)
		}
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

const mediaOffer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\n"
