package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web"
	"github.com/clinicbox/clinicbox/web/live"
)

const pw = storetest.Password

type site struct {
	st          *store.Store
	srv         *httptest.Server
	north, east *store.Org
	distributor *store.User
	devs        []*store.Device
}

// newSite is two clinics with analysers in several states, QC runs of
// which one series breaks Westgard rules, a LIS and its log.
func newSite(t *testing.T) *site {
	ctx := context.Background()
	clock := storetest.NewClock(time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second))
	st := storetest.Open(t, store.WithClock(clock.Now))
	s := newNorth(t, st)
	s.east = storetest.Org(t, st, "East Clinic", "east")
	s.distributor = storetest.User(t, st, s.north.ID, "dist@north.example", "Dina Distributor", store.RoleAdmin)
	storetest.User(t, st, s.east.ID, "admin@east.example", "Eve East", store.RoleAdmin)
	must(t, st.GrantFleet(ctx, s.distributor.ID, s.east.ID))

	for _, d := range []struct {
		org                    *store.Org
		name, proto, where, st string
		err                    string
	}{
		{s.north, "Afinion 2", "astm", "/dev/ttyUSB0", store.DeviceConnected, ""},
		{s.north, "cobas b 101", "astm", "/dev/ttyUSB1", store.DeviceError, "port /dev/ttyUSB1: no such file or directory"},
		{s.north, "i-STAT 1", "hl7", "0.0.0.0:2575", store.DeviceConnected, ""},
		{s.east, "HemoCue Hb 801", "line", "/dev/ttyS0", store.DeviceDisconnected, "port /dev/ttyS0: cable pulled"},
	} {
		dev := &store.Device{Name: d.name, Protocol: d.proto, Station: "Lab"}
		if strings.Contains(d.where, ":") {
			dev.TCPAddr = d.where
		} else {
			dev.PortPath = d.where
		}
		must(t, st.CreateDevice(ctx, d.org.ID, dev))
		must(t, st.SetDeviceState(ctx, d.org.ID, dev.ID, d.st, d.where, d.err))
		s.devs = append(s.devs, dev)
	}
	// Messages: the Afinion reports its firmware and serial number; the
	// i-STAT sent one that could not be read.
	for _, m := range []struct {
		dev   *store.Device
		proto string
		raw   string
	}{
		{s.devs[0], "astm", "H|\\^&|||Afinion 2^5.20^AF2-008812||||||P|LIS2-A2|20261202075500\rP|1\rO|1|S-1||^^^HBA1C\rR|1|^^^HBA1C|41|mmol/mol|20-42|N||F\rL|1|N\r"},
		{s.devs[0], "astm", "H|\\^&|||Afinion 2^5.20^AF2-008812||||||P|LIS2-A2|20261202080500\rP|1\rO|1|S-2||^^^HBA1C\rR|1|^^^HBA1C|<20|mmol/mol|20-42|L||F\rL|1|N\r"},
		{s.devs[2], "hl7", "this is not HL7"},
	} {
		msg := &store.DeviceMessage{DeviceID: m.dev.ID, Protocol: m.proto, Raw: []byte(m.raw)}
		must(t, st.SaveDeviceMessage(ctx, m.dev.OrgID, msg))
		_, err := devices.Reingest(ctx, st, m.dev.OrgID, msg.ID)
		must(t, err)
	}
	// QC: glucose level 1 (mean 5.0, SD 0.2) drifting up until it breaks
	// 2-2s, 4-1s and 1-3s; HbA1c level 2 in control.
	must(t, st.SaveQCTarget(ctx, s.north.ID, &store.QCTarget{DeviceID: s.devs[0].ID, Code: "GLU", Lot: "L2407", Level: "1", Mean: 5.0, SD: 0.2, Unit: "mmol/L"}))
	must(t, st.SaveQCTarget(ctx, s.north.ID, &store.QCTarget{DeviceID: s.devs[0].ID, Code: "HBA1C", Lot: "H118", Level: "2", Mean: 48, SD: 1.5, Unit: "mmol/mol"}))
	glu := []string{"5.02", "4.91", "5.10", "4.85", "5.21", "4.97", "5.08", "5.25", "5.31", "5.28", "5.45", "5.49", "5.67"}
	hba := []string{"48", "47,5", "49.1", "46.9", "48.4", "47.2", "49.8", "48.0"}
	for i := 0; i < len(glu); i++ {
		clock.Advance(9 * time.Minute)
		_, err := st.RecordQCRun(ctx, s.north.ID, store.QCMeasurement{DeviceID: s.devs[0].ID, Code: "GLU", Lot: "L2407", Level: "1", Value: glu[i], Unit: "mmol/L"})
		must(t, err)
		if i < len(hba) {
			_, err := st.RecordQCRun(ctx, s.north.ID, store.QCMeasurement{DeviceID: s.devs[0].ID, Code: "HBA1C", Lot: "H118", Level: "2", Value: hba[i], Unit: "mmol/mol"})
			must(t, err)
		}
	}
	must(t, st.AddLISDestination(ctx, s.north.ID, &store.LISDestination{Name: "labka", Host: "10.0.0.20", Port: 2575, ReceivingApp: "LABKA"}))
	clock.Set(time.Now().UTC())
	s.srv = serve(t, st)
	return s
}

// newNorth is the clinic "North" with an admin and a clinician, not yet
// served.
func newNorth(t *testing.T, st *store.Store) *site {
	s := &site{st: st, north: storetest.Org(t, st, "North Clinic", "north")}
	storetest.User(t, st, s.north.ID, "admin@north.example", "Ada Admin", store.RoleAdmin)
	storetest.User(t, st, s.north.ID, "doc@north.example", "Dan Doc", store.RoleClinician)
	return s
}

// serve serves the web layer over st as web.New wires it, until the test
// ends (before the store closes: storetest closes it last).
func serve(t *testing.T, st *store.Store) *httptest.Server {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hub := live.NewHub(st, log)
	hctx, stop := context.WithCancel(context.Background())
	go hub.Run(hctx)
	srv := httptest.NewServer(web.New(web.Deps{Store: st, Log: log, Live: hub, PublicURL: "http://x",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}}))
	t.Cleanup(func() { stop(); hub.Close(); srv.Close() })
	return srv
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type client struct {
	t   *testing.T
	url string
	c   *http.Client
}

func (s *site) signIn(t *testing.T, email string) *client {
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, url: s.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if code, _, body := c.do("POST", "/signin", url.Values{"email": {email}, "password": {pw}}); code != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d %s", email, code, body)
	}
	return c
}

func (c *client) do(method, path string, form url.Values) (int, string, string) {
	c.t.Helper()
	var req *http.Request
	if form != nil {
		req, _ = http.NewRequest(method, c.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, _ = http.NewRequest(method, c.url+path, nil)
	}
	req.Header.Set("Origin", c.url)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func TestPoctPages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ctx := context.Background()
	doc, admin, dist, east := s.signIn(t, "doc@north.example"), s.signIn(t, "admin@north.example"),
		s.signIn(t, "dist@north.example"), s.signIn(t, "admin@east.example")
	for _, p := range []string{"/admin/poct", "/admin/poct/fleet", "/admin/poct/qc", "/admin/poct/lis", "/admin/poct/webhooks"} {
		if code, _, _ := doc.do("GET", p, nil); code != http.StatusForbidden {
			t.Errorf("clinician %s: %d", p, code)
		}
		if code, _, body := admin.do("GET", p, nil); code != 200 || !strings.Contains(body, `aria-current="page">`) {
			t.Errorf("admin %s: %d", p, code)
		}
	}

	// Tokens: shown once, hashed at rest, revocable.
	code, _, body := admin.do("POST", "/admin/poct/tokens", url.Values{"name": {""}})
	if code != 422 || !strings.Contains(body, "is required") {
		t.Errorf("empty token name: %d", code)
	}
	code, _, body = admin.do("POST", "/admin/poct/tokens", url.Values{"name": {"LIS bridge"}})
	i := strings.Index(body, `data-testid="new-token">`)
	if code != 200 || i < 0 {
		t.Fatalf("issue token: %d", code)
	}
	token := body[i+len(`data-testid="new-token">`):]
	token = token[:strings.Index(token, "<")]
	if tk, err := s.st.PoctTokenByToken(ctx, token); err != nil || tk.Name != "LIS bridge" || tk.OrgID != s.north.ID {
		t.Fatalf("issued token %q: %+v %v", token, tk, err)
	}
	if _, _, again := admin.do("GET", "/admin/poct", nil); strings.Contains(again, token) {
		t.Error("the token is shown a second time")
	}
	toks, _ := s.st.PoctTokens(ctx, s.north.ID)
	if code, _, _ := east.do("POST", fmt.Sprintf("/admin/poct/tokens/%d/revoke", toks[0].ID), url.Values{}); code != 404 {
		t.Errorf("another clinic's admin revoked the token: %d", code)
	}
	if code, _, _ := admin.do("POST", fmt.Sprintf("/admin/poct/tokens/%d/revoke", toks[0].ID), url.Values{}); code != 303 {
		t.Errorf("revoke: %d", code)
	}
	if _, err := s.st.PoctTokenByToken(ctx, token); err == nil {
		t.Error("revoked token still works")
	}

	// Fleet: the clinic's own devices; a distributor's view adds the granted clinic.
	_, _, body = admin.do("GET", "/admin/poct/fleet?fragment=1", nil)
	if !strings.Contains(body, "AF2-008812") || !strings.Contains(body, "5.20") || strings.Contains(body, "HemoCue") || !strings.Contains(body, "no such file or directory") ||
		strings.Contains(body, "<html") || !strings.Contains(body, "2 connected") {
		t.Errorf("admin fleet fragment:\n%s", body)
	}
	_, _, body = dist.do("GET", "/admin/poct/fleet", nil)
	if !strings.Contains(body, "HemoCue Hb 801") || !strings.Contains(body, "East Clinic") || !strings.Contains(body, "cable pulled") ||
		!strings.Contains(body, "/assets/fleet.js") {
		t.Errorf("distributor fleet lacks the granted clinic")
	}
	if _, _, body := east.do("GET", "/admin/poct/fleet", nil); strings.Contains(body, "Afinion") {
		t.Error("East's admin sees North's devices")
	}

	// QC: charts drawn on the server; the failing run flagged.
	_, _, body = admin.do("GET", "/admin/poct/qc", nil)
	if strings.Count(body, `<svg xmlns="http://www.w3.org/2000/svg"`) != 2 || !strings.Contains(body, `data-status="rejected"`) ||
		!strings.Contains(body, "2-2s") || !strings.Contains(body, "mean 5") || !strings.Contains(body, "47,5") {
		t.Errorf("qc page:\n%s", body)
	}
	if code, _, body := admin.do("POST", "/admin/poct/qc/targets", url.Values{"device": {fmt.Sprint(s.devs[0].ID)}, "code": {"CRP"},
		"lot": {"C1"}, "mean": {"10"}, "sd": {"0"}}); code != 422 || !strings.Contains(body, "positive number") {
		t.Errorf("sd 0: %d", code)
	}
	if code, _, _ := admin.do("POST", "/admin/poct/qc/targets", url.Values{"device": {fmt.Sprint(s.devs[0].ID)}, "code": {"CRP"},
		"lot": {"C1"}, "mean": {"10,5"}, "sd": {"0,8"}, "unit": {"mg/L"}}); code != 303 {
		t.Errorf("save target: %d", code)
	}
	if tg, err := s.st.QCTarget(ctx, s.north.ID, s.devs[0].ID, "CRP", "C1", ""); err != nil || tg.Mean != 10.5 || tg.SD != 0.8 {
		t.Errorf("target %+v %v", tg, err)
	}

	// LIS: add, refuse a bad port, publish code maps as versions.
	if code, _, body := admin.do("POST", "/admin/poct/lis", url.Values{"name": {"second"}, "host": {"lis.example"}, "port": {"0"}}); code != 422 || !strings.Contains(body, "between 1 and 65535") {
		t.Errorf("bad port: %d", code)
	}
	if code, _, _ := admin.do("POST", "/admin/poct/lis", url.Values{"name": {"second"}, "host": {"lis.example"}, "port": {"6661"},
		"send": {"encounter"}, "matchedOnly": {"on"}, "tls": {"on"}}); code != 303 {
		t.Errorf("add lis: %d", code)
	}
	ds, _ := s.st.LISDestinations(ctx, s.north.ID)
	if len(ds) != 2 || ds[1].Name != "second" || !ds[1].TLS || !ds[1].MatchedOnly || ds[1].Send != store.LISSendEncounter {
		t.Errorf("destinations %+v", ds)
	}
	if code, _, body := admin.do("POST", "/admin/poct/codemap", url.Values{"map": {"GLU LOINC"}}); code != 422 || !strings.Contains(body, "line 1") {
		t.Errorf("bad map line: %d", code)
	}
	for i, m := range []string{"GLU LOINC 2345-7 Glucose\nWBC NPU NPU02593 Leukocytes", "GLU LOINC 2345-7 Glucose\nGLU NPU NPU02192 P-Glucose"} {
		if code, _, _ := admin.do("POST", "/admin/poct/codemap", url.Values{"map": {m}, "note": {fmt.Sprint("v", i+1)}}); code != 303 {
			t.Errorf("publish map %d: %d", i, code)
		}
	}
	v1, _ := s.st.CodeMapVersion(ctx, s.north.ID, 1)
	v2, _ := s.st.CodeMapVersion(ctx, s.north.ID, 0)
	if v1.Size != 2 || v2.Version != 2 || len(v2.Lookup("GLU")) != 2 || len(v2.Lookup("WBC")) != 0 || len(v1.Lookup("WBC")) != 1 {
		t.Errorf("code map versions: %+v / %+v", v1, v2)
	}
	if code, _, _ := admin.do("POST", "/admin/poct/lis/second/remove", url.Values{}); code != 303 {
		t.Errorf("remove lis: %d", code)
	}
}
