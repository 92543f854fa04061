package monitoring

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/clinicbox/clinicbox/web/httpx"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// start is the tests' clock at its start: mid-January 2026.
var start = time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)

const password = "correct horse battery"

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

type env struct {
	t              testing.TB
	st             *store.Store
	clk            *clock
	h              *Handler
	srv            *httptest.Server
	orgA, orgB     *store.Org
	adminA, clinA  *store.User
	userB          *store.User
	hdrA, hdrB     string // X-Organization-ID values
	tokA, tokB     string // clinician access tokens
	patA, patB     string // a patient of each organisation (wire ids)
	patAID, patBID int64
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{}
	clk.set(start)
	st := storetest.Open(t, store.WithClock(clk.now))
	e := &env{t: t, st: st, clk: clk}
	e.orgA, e.orgB = storetest.Org(t, st, "Alpha", "alpha"), storetest.Org(t, st, "Beta", "beta")
	e.hdrA, e.hdrB = "org_"+e.orgA.UUID, "org_"+e.orgB.UUID
	e.adminA = &store.User{Email: "admin@alpha.example", Name: "Ada Admin", Role: store.RoleAdmin}
	e.clinA = &store.User{Email: "clin@alpha.example", Name: "Cleo Clinician", Role: store.RoleClinician}
	e.userB = &store.User{Email: "clin@beta.example", Name: "Ben Beta", Role: store.RoleClinician}
	for _, u := range []struct {
		org int64
		u   *store.User
	}{{e.orgA.ID, e.adminA}, {e.orgA.ID, e.clinA}, {e.orgB.ID, e.userB}} {
		if err := st.CreateUser(ctx, u.org, u.u, password); err != nil {
			t.Fatal(err)
		}
	}
	e.h = New(Deps{Store: st, SigningKey: []byte("test signing key")})
	mux := http.NewServeMux()
	httpx.Register(mux, e.h.Routes())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.tokA = e.login(e.clinA.Email)["accessToken"].(string)
	e.tokB = e.login(e.userB.Email)["accessToken"].(string)
	e.patA = e.mustCreatePatient(e.tokA, e.hdrA, `{"firstName":"Astrid","lastName":"Andersen","mrn":"A-1","birthDate":"1950-02-03"}`)
	e.patB = e.mustCreatePatient(e.tokB, e.hdrB, `{"firstName":"Bodil","lastName":"Berg","mrn":"B-1"}`)
	pa, _ := st.PatientBy(ctx, e.orgA.ID, store.ByUUID, strings.TrimPrefix(e.patA, "patient_"))
	pb, _ := st.PatientBy(ctx, e.orgB.ID, store.ByUUID, strings.TrimPrefix(e.patB, "patient_"))
	e.patAID, e.patBID = pa.ID, pb.ID
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a request as a client would: JSON body, bearer token and
// organisation header when given.
func (e *env) do(method, path, token, org, body string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if org != "" {
		req.Header.Set("X-Organization-ID", org)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, body: b}
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		if err := json.Unmarshal(b, &r.json); err != nil {
			e.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, b)
		}
	}
	return r
}

// want fails the test unless the status is as expected.
func (r resp) want(t testing.TB, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// errCode is the error code of an error answer.
func (r resp) errCode() string {
	e, _ := r.json["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func (r resp) str(key string) string { s, _ := r.json[key].(string); return s }

func (r resp) list() []map[string]any {
	var out []map[string]any
	for _, v := range r.json["data"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func (e *env) login(email string) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/auth/login", "", "", `{"email":"`+email+`","password":"`+password+`"}`).want(e.t, 200)
	return r.json
}

func (e *env) mustCreatePatient(tok, org, body string) string {
	e.t.Helper()
	r := e.do("POST", "/api/patients", tok, org, body).want(e.t, 201)
	return r.str("id")
}

// obs posts a reading for patient and answers the response.
func (e *env) obs(tok, org, patient, metric string, value float64, unit string, at time.Time) resp {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{"patientId": patient, "metricDefinitionId": metric, "value": value, "unit": unit,
		"source": "DEVICE", "recordedAt": at.UTC().Format(time.RFC3339)})
	return e.do("POST", "/api/observations", tok, org, string(b))
}
