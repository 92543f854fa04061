package fhir

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/cache"
	"github.com/clinicbox/clinicbox/web/httpx"
)

var testNow = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type testEnv struct {
	t          *testing.T
	st         *store.Store
	srv        *httptest.Server
	orgA, orgB *store.Org
	room       *store.WaitingRoom
	provider   *store.User
	device     *store.Device
	patient    *store.Patient // orgA, with every identifier
	other      *store.Patient // orgB
	readA      string         // token: system/*.read for orgA
	writeA     string         // token: system/*.* for orgA
	readB      string         // token: system/*.read for orgB
	patientRdA string         // token: system/Patient.read only
	cache      *cache.Cache   // the face's
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, store.WithClock(storetest.NewClock(testNow).Now))
	e := &testEnv{t: t, st: st}
	e.orgA, e.orgB = storetest.Org(t, st, "Alpha Clinic", "alpha"), storetest.Org(t, st, "Beta Clinic", "beta")
	e.room = &store.WaitingRoom{Name: "Video room", SlotDuration: 900, Timezone: "UTC", Active: true, Hours: store.WeekdayHours()}
	must(t, st.CreateWaitingRoom(ctx, e.orgA.ID, e.room))
	e.provider = storetest.User(t, st, e.orgA.ID, "clara@alpha.example", "Clara Oswald", store.RoleClinician)
	e.device = &store.Device{Name: "Cobas b 101", Protocol: store.ProtocolASTM, PortPath: "/dev/ttyUSB0", Baud: 9600, DataBits: 8, Parity: "none", StopBits: "1", Active: true}
	must(t, st.CreateDevice(ctx, e.orgA.ID, e.device))
	e.patient = &store.Patient{NationalID: "0101901234", MRN: "MRN-1", HSID: "HS-9", ExternalID: "ext-1", AccountNumber: "AC-5",
		Names:     []store.HumanName{{Use: "official", FirstName: "Karen", MiddleName: "Marie", LastName: "Jensen"}},
		BirthDate: "1990-01-01", Gender: "female", Active: true,
		Telecom:           []store.ContactPoint{{System: "phone", Value: "+45 12345678", Use: "mobile"}, {System: "email", Value: "karen@example.dk"}},
		Addresses:         []store.Address{{Use: "home", Line: []string{"Nørregade 1"}, City: "København", PostalCode: "1165", Country: "DK"}},
		PreferredLanguage: "da"}
	must(t, st.CreatePatient(ctx, e.orgA.ID, e.patient))
	e.other = &store.Patient{NationalID: "0202801234", Names: []store.HumanName{{FirstName: "Bo", LastName: "Berg"}}, Active: true}
	must(t, st.CreatePatient(ctx, e.orgB.ID, e.other))

	oauth := &auth.OAuth{Store: st}
	e.cache = cache.New(1 << 20)
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	httpx.Register(mux, New(Deps{Store: st, OAuth: oauth, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: e.srv.URL, Version: "test", Cache: e.cache}).Routes())

	e.readA = e.token(e.orgA, "system/*.read")
	e.writeA = e.token(e.orgA, "system/*.*")
	e.readB = e.token(e.orgB, "system/*.read")
	e.patientRdA = e.token(e.orgA, "system/Patient.read")
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// token issues a client with scopes and gets a token for it over HTTP.
func (e *testEnv) token(o *store.Org, scopes string) string {
	e.t.Helper()
	c, secret, err := e.st.CreateOAuthClient(context.Background(), o.ID, store.ClientKindFHIR, "test", store.ParseScopes(scopes))
	must(e.t, err)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ClientID}, "client_secret": {secret}}
	resp, err := http.PostForm(e.srv.URL+"/fhir/R4/auth/token", form)
	must(e.t, err)
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 {
		e.t.Fatalf("token: %d", resp.StatusCode)
	}
	must(e.t, json.NewDecoder(resp.Body).Decode(&tok))
	return tok.AccessToken
}

// do sends a request and returns the status, the decoded JSON body and the
// raw body.
func (e *testEnv) do(method, path, token string, body any) (int, map[string]any, []byte, http.Header) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(e.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	must(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(e.t, err)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			e.t.Errorf("%s %s: body is not JSON: %s", method, path, raw)
		}
	}
	return resp.StatusCode, m, raw, resp.Header
}

// validator is the independent check: Google's FHIR R4 JSON parser with
// validation (required elements, value sets of codes, primitive formats,
// unknown elements).
var validator = func() *jsonformat.Unmarshaller {
	u, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		panic(err)
	}
	return u
}()

// valid checks that raw is a valid FHIR R4 resource, and returns its type.
func valid(t *testing.T, raw []byte) {
	t.Helper()
	if _, err := validator.Unmarshal(raw); err != nil {
		t.Fatalf("not valid FHIR R4: %v\n%s", err, raw)
	}
}

// get is a GET that must answer want; every body is validated as FHIR
// (except the SMART configuration, which is not a resource).
func (e *testEnv) get(path, token string, want int) map[string]any {
	e.t.Helper()
	status, m, raw, h := e.do("GET", path, token, nil)
	if status != want {
		e.t.Fatalf("GET %s: status %d, want %d: %s", path, status, want, raw)
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "application/fhir+json") {
		e.t.Fatalf("GET %s: Content-Type %q", path, h.Get("Content-Type"))
	}
	valid(e.t, raw)
	return m
}

// path walks a decoded JSON value: "entry.0.resource.id".
func path(v any, p string) any {
	for _, k := range strings.Split(p, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, p string) string {
	s, _ := path(v, p).(string)
	return s
}

func entries(b map[string]any) []any {
	es, _ := b["entry"].([]any)
	return es
}

func strconvFormat(n int64) string { return strconv.FormatInt(n, 10) }

func decodeJSON(t *testing.T, resp *http.Response, dst any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(dst); err != nil {
		t.Fatal(err)
	}
}

// doForm POSTs a form (POST [type]/_search).
func (e *testEnv) doForm(p, token, form string) (int, map[string]any, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+p, strings.NewReader(form))
	must(e.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(e.t, err)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return resp.StatusCode, m, raw, resp.Header
}
