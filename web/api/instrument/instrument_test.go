package instrument

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type testEnv struct {
	t                  *testing.T
	st                 *store.Store
	clock              *storetest.Clock
	srv                *httptest.Server
	orgA, orgB         *store.Org
	clientA, secretA   string
	clientB, secretB   string
	patientA, patientB *store.Patient
	vars               map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	c := storetest.NewClock(time.Date(2025, 6, 30, 6, 0, 0, 0, time.UTC))
	st := storetest.Open(t, store.WithClock(c.Now))
	e := &testEnv{t: t, st: st, clock: c, vars: map[string]string{}}
	e.orgA, e.orgB = storetest.Org(t, st, "Alpha", "alpha"), storetest.Org(t, st, "Beta", "beta")
	ca, secretA, err := st.CreateInstrumentClient(ctx, e.orgA.ID, "ECG vendor")
	if err != nil {
		t.Fatal(err)
	}
	cb, secretB, _ := st.CreateInstrumentClient(ctx, e.orgB.ID, "Spiro vendor")
	e.clientA, e.secretA, e.clientB, e.secretB = ca.ClientID, secretA, cb.ClientID, secretB

	room := &store.WaitingRoom{Name: "Lægerne Nørregade", ServiceType: "Consultation", SlotDuration: 900, Timezone: "UTC", Active: true}
	if err := st.CreateWaitingRoom(ctx, e.orgA.ID, room); err != nil {
		t.Fatal(err)
	}
	doc := &store.User{Email: "hb@a.example", Name: "Dr. Hanne Berg", Role: store.RoleClinician}
	if err := st.CreateUser(ctx, e.orgA.ID, doc, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	e.patientA = &store.Patient{NationalID: "0101801234", BirthDate: "1980-01-01", Gender: "female", Active: true,
		Names: []store.HumanName{{FirstName: "Anna", LastName: "Jensen"}}}
	other := &store.Patient{NationalID: "0202802345", Active: true, Names: []store.HumanName{{FirstName: "Cancelled", LastName: "Case"}}}
	for _, p := range []*store.Patient{e.patientA, other} {
		if err := st.CreatePatient(ctx, e.orgA.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	e.patientB = &store.Patient{Active: true, Names: []store.HumanName{{FirstName: "Bo", LastName: "Beta"}}}
	if err := st.CreatePatient(ctx, e.orgB.ID, e.patientB); err != nil {
		t.Fatal(err)
	}
	appts := []*store.Appointment{
		{PatientID: e.patientA.ID, WaitingRoomID: room.ID, ProviderID: doc.ID, Start: time.Date(2025, 6, 30, 7, 0, 0, 0, time.UTC), Duration: 900, Reasons: []string{"ECG"}},
		{PatientID: e.patientA.ID, WaitingRoomID: room.ID, Start: time.Date(2025, 7, 2, 9, 30, 0, 0, time.UTC), Duration: 900},
		{PatientID: other.ID, WaitingRoomID: room.ID, Start: time.Date(2025, 6, 30, 8, 0, 0, 0, time.UTC), Duration: 900, Status: store.StatusCancelled},
		{PatientID: e.patientA.ID, WaitingRoomID: room.ID, Start: time.Date(2025, 9, 1, 8, 0, 0, 0, time.UTC), Duration: 900},
	}
	for _, a := range appts {
		if err := st.CreateAppointment(ctx, e.orgA.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	httpx.Register(mux, New(Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Routes())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.vars["patientA"] = e.patientA.UUID
	e.vars["patientB"] = e.patientB.UUID
	e.vars["tokenA"] = e.token(e.clientA, e.secretA)
	e.vars["tokenB"] = e.token(e.clientB, e.secretB)
	return e
}

func (e *testEnv) token(id, secret string) string {
	e.t.Helper()
	status, body := e.do("POST", "/api/v1/integrationAuth", nil, `{"clientID":"`+id+`","clientSecret":"`+secret+`"}`)
	if status != 200 {
		e.t.Fatalf("auth: %d %s", status, body)
	}
	var out struct {
		Data struct{ AccessToken string } `json:"data"`
	}
	json.Unmarshal(body, &out)
	return out.Data.AccessToken
}

func (e *testEnv) expand(s string) string {
	for k, v := range e.vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

func (e *testEnv) do(method, path string, headers map[string]string, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+e.expand(path), strings.NewReader(e.expand(body)))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, e.expand(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// lookup follows a dotted path (data.0.patientID) through decoded JSON; a
// map key may itself hold dots (error.fields.results[0].code).
func lookup(v any, path string) (any, bool) {
	parts := strings.Split(path, ".")
	for len(parts) > 0 {
		switch x := v.(type) {
		case map[string]any:
			found := false
			for n := len(parts); n > 0; n-- {
				if next, ok := x[strings.Join(parts[:n], ".")]; ok {
					v, parts, found = next, parts[n:], true
					break
				}
			}
			if !found {
				return nil, false
			}
		case []any:
			i := 0
			for _, c := range parts[0] {
				if c < '0' || c > '9' {
					return nil, false
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil, false
			}
			v, parts = x[i], parts[1:]
		default:
			return nil, false
		}
	}
	return v, true
}

type scenario struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    string
	status  int
	want    map[string]any // JSON path → value (string, float64, bool); "*" = present
	absent  []string
	check   func(t *testing.T, e *testEnv) // what the store must (not) hold afterwards
}

func run(t *testing.T, e *testEnv, scenarios []scenario) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			status, body := e.do(s.method, s.path, s.headers, s.body)
			if status != s.status {
				t.Fatalf("status %d, want %d: %s", status, s.status, body)
			}
			var v any
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("response is not JSON: %s", body)
			}
			for path, want := range s.want {
				got, ok := lookup(v, path)
				if !ok {
					t.Errorf("%s missing in %s", path, body)
					continue
				}
				if want == "*" {
					continue
				}
				if w, ok := want.(string); ok && strings.HasPrefix(w, "~") {
					if gs, _ := got.(string); !strings.Contains(gs, w[1:]) {
						t.Errorf("%s = %v, want it to contain %q", path, got, w[1:])
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
			for _, path := range s.absent {
				if _, ok := lookup(v, path); ok {
					t.Errorf("%s should be absent in %s", path, body)
				}
			}
			if s.check != nil {
				s.check(t, e)
			}
		})
	}
}

func auth(token string) map[string]string { return map[string]string{"Authorization": token} }

func (e *testEnv) countObs(orgID int64) int {
	obs, err := e.st.Observations(context.Background(), orgID, store.ObservationFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(obs)
}

func nothingStored(t *testing.T, e *testEnv) {
	t.Helper()
	if n := e.countObs(e.orgA.ID); n != 0 {
		t.Fatalf("%d observations stored by a refused request", n)
	}
	files, _ := e.st.PatientFiles(context.Background(), e.orgA.ID, e.patientA.ID)
	if len(files) != 0 {
		t.Fatalf("%d files stored by a refused request", len(files))
	}
}

func TestIntegrationAuth(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	run(t, e, []scenario{
		{name: "valid credentials", method: "POST", path: "/api/v1/integrationAuth",
			body: `{"clientID":"` + e.clientA + `","clientSecret":"` + e.secretA + `"}`, status: 200,
			want: map[string]any{"data.accessToken": "*"}, absent: []string{"error"}},
		{name: "wrong secret", method: "POST", path: "/api/v1/integrationAuth",
			body: `{"clientID":"` + e.clientA + `","clientSecret":"nope"}`, status: 401,
			want: map[string]any{"error.message": "invalid clientID or clientSecret"}, absent: []string{"data"}},
		{name: "unknown client", method: "POST", path: "/api/v1/integrationAuth",
			body: `{"clientID":"ic_nobody","clientSecret":"` + e.secretA + `"}`, status: 401,
			want: map[string]any{"error.message": "invalid clientID or clientSecret"}},
		{name: "missing fields", method: "POST", path: "/api/v1/integrationAuth", body: `{}`, status: 400,
			want: map[string]any{"error.fields.clientID": "is required", "error.fields.clientSecret": "is required"}},
		{name: "not JSON", method: "POST", path: "/api/v1/integrationAuth", body: `clientID=x`, status: 400,
			want: map[string]any{"error.message": "~not valid JSON"}},
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	path := "/api/v1/instrumentPatients?from=2025-06-30T00:00:00Z&to=2025-06-30T23:59:59Z"
	run(t, e, []scenario{
		{name: "raw token", method: "GET", path: path, headers: auth("{{tokenA}}"), status: 200, want: map[string]any{"data": "*"}},
		{name: "bearer prefix tolerated", method: "GET", path: path, headers: auth("Bearer {{tokenA}}"), status: 200},
		{name: "no token", method: "GET", path: path, status: 401, want: map[string]any{"error.message": "~access token"}},
		{name: "made-up token", method: "GET", path: path, headers: auth("abc"), status: 401},
		{name: "client secret is not a token", method: "GET", path: path, headers: auth(e.secretA), status: 401},
	})
	// Ten minutes later the token has expired.
	e.clock.Advance(10*time.Minute + time.Second)
	run(t, e, []scenario{
		{name: "expired token", method: "GET", path: path, headers: auth("{{tokenA}}"), status: 401,
			want: map[string]any{"error.message": "~expired"}},
		{name: "expired token posts nothing", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body:   `{"patientID":"{{patientA}}","measurementType":"ECG","measuredAt":"2025-06-30T07:10:00Z","results":[{"code":"NPU1","value":"1"}]}`,
			status: 401, check: nothingStored},
	})
	// A revoked client's fresh token stops working at once.
	e.clock.Advance(-11 * time.Minute)
	tok := e.token(e.clientA, e.secretA)
	if err := e.st.RevokeInstrumentClient(context.Background(), e.orgA.ID, e.clientA); err != nil {
		t.Fatal(err)
	}
	e.vars["revoked"] = tok
	run(t, e, []scenario{
		{name: "revoked client", method: "GET", path: path, headers: auth("{{revoked}}"), status: 401},
	})
}

func TestInstrumentPatients(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	run(t, e, []scenario{
		{name: "window with one appointment", method: "GET",
			path:    "/api/v1/instrumentPatients?from=2025-06-30T00:00:00Z&to=2025-06-30T23:59:59Z",
			headers: auth("{{tokenA}}"), status: 200,
			want: map[string]any{
				"data.0.patientID": e.patientA.UUID, "data.0.appointmentStart": "2025-06-30T07:00:00.000Z",
				"data.0.calendarName": "Lægerne Nørregade", "data.0.employeeName": "Dr. Hanne Berg",
				"data.0.appointmentTypeName": "ECG", "data.0.cpr": "0101801234", "data.0.firstName": "Anna",
				"data.0.lastName": "Jensen", "data.0.birthdate": "1980-01-01", "data.0.gender": "female",
			},
			absent: []string{"data.1"}}, // the cancelled appointment is left out
		{name: "wider window, second appointment falls back to the room's type", method: "GET",
			path:    "/api/v1/instrumentPatients?from=2025-06-01T00:00:00Z&to=2025-07-31T23:59:59Z",
			headers: auth("{{tokenA}}"), status: 200,
			want:   map[string]any{"data.1.appointmentStart": "2025-07-02T09:30:00.000Z", "data.1.employeeName": "", "data.1.appointmentTypeName": "Consultation"},
			absent: []string{"data.2"}},
		{name: "to is inclusive", method: "GET",
			path:    "/api/v1/instrumentPatients?from=2025-06-30T06:00:00.000Z&to=2025-06-30T07:00:00.000Z",
			headers: auth("{{tokenA}}"), status: 200, want: map[string]any{"data.0.cpr": "0101801234"}},
		{name: "other organisation sees none of them", method: "GET",
			path:    "/api/v1/instrumentPatients?from=2025-06-01T00:00:00Z&to=2025-07-31T23:59:59Z",
			headers: auth("{{tokenB}}"), status: 200, absent: []string{"data.0"}},
		{name: "from missing", method: "GET", path: "/api/v1/instrumentPatients?to=2025-06-30T23:59:59Z",
			headers: auth("{{tokenA}}"), status: 400, want: map[string]any{"error.fields.from": "~is required"}},
		{name: "to not a date", method: "GET", path: "/api/v1/instrumentPatients?from=2025-06-30T00:00:00Z&to=tomorrow",
			headers: auth("{{tokenA}}"), status: 400, want: map[string]any{"error.fields.to": "~ISO 8601"}},
		{name: "to before from", method: "GET", path: "/api/v1/instrumentPatients?from=2025-06-30T00:00:00Z&to=2025-06-01T00:00:00Z",
			headers: auth("{{tokenA}}"), status: 400, want: map[string]any{"error.fields.to": "must not be before from"}},
	})
}

func TestInstrumentResults(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 twelve-lead ecg"))
	ok := `{"patientID":"{{patientA}}","measurementType":"Spirometry","measuredAt":"2025-06-30T07:10:00+02:00",
		"results":[{"code":"NPU19825","value":"3,41"},{"code":"FEV1/FVC","value":0.780}],
		"files":[{"filename":"spiro.pdf","data":"` + pdf + `"}]}`
	run(t, e, []scenario{
		{name: "missing fields", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body: `{"results":[{"value":"1"}]}`, status: 400,
			want: map[string]any{"error.fields.patientID": "is required", "error.fields.measurementType": "is required",
				"error.fields.measuredAt": "~is required", "error.fields.results[0].code": "is required"},
			check: nothingStored},
		{name: "no results and no files", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body:   `{"patientID":"{{patientA}}","measurementType":"ECG","measuredAt":"2025-06-30T07:10:00Z","results":[]}`,
			status: 400, want: map[string]any{"error.fields.results": "send at least one result or file"}, check: nothingStored},
		{name: "bad base64", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body: `{"patientID":"{{patientA}}","measurementType":"ECG","measuredAt":"2025-06-30T07:10:00Z",
				"results":[{"code":"HR","value":"61"}],"files":[{"filename":"ecg.pdf","data":"not*base64!"}]}`,
			status: 400, want: map[string]any{"error.fields.files[0].data": "is not valid base64"}, check: nothingStored},
		{name: "file name with a path", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body: `{"patientID":"{{patientA}}","measurementType":"ECG","measuredAt":"2025-06-30T07:10:00Z",
				"files":[{"filename":"../../etc/passwd","data":"` + pdf + `"}]}`,
			status: 400, want: map[string]any{"error.fields.files[0].filename": "*"}, check: nothingStored},
		{name: "value neither string nor number", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body:   `{"patientID":"{{patientA}}","measurementType":"ECG","measuredAt":"2025-06-30T07:10:00Z","results":[{"code":"HR","value":{"x":1}}]}`,
			status: 400, want: map[string]any{"error.fields.results[0].value": "*"}, check: nothingStored},
		{name: "measuredAt not ISO", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body:   `{"patientID":"{{patientA}}","measurementType":"ECG","measuredAt":"30/06/2025","results":[{"code":"HR","value":"61"}]}`,
			status: 400, want: map[string]any{"error.fields.measuredAt": "~ISO 8601"}, check: nothingStored},
		{name: "unknown patient", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body:   `{"patientID":"00000000-0000-4000-8000-000000000000","measurementType":"ECG","measuredAt":"2025-06-30T07:10:00Z","results":[{"code":"HR","value":"61"}]}`,
			status: 404, want: map[string]any{"error.message": "~not found"}, check: nothingStored},
		{name: "foreign token: another organisation's patient", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenB}}"),
			body:   `{"patientID":"{{patientA}}","measurementType":"ECG","measuredAt":"2025-06-30T07:10:00Z","results":[{"code":"HR","value":"61"}]}`,
			status: 404, check: nothingStored},
		{name: "no token", method: "POST", path: "/api/v1/instrumentResults", body: ok, status: 401, check: nothingStored},
		{name: "stored verbatim", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"), body: ok,
			status: 201, want: map[string]any{"data.patientID": e.patientA.UUID, "data.resultIDs.1": "*", "data.fileIDs.0": "*"},
			check: func(t *testing.T, e *testEnv) {
				obs, _ := e.st.Observations(context.Background(), e.orgA.ID, store.ObservationFilter{PatientID: e.patientA.ID})
				if len(obs) != 2 {
					t.Fatalf("want 2 observations, got %d", len(obs))
				}
				by := map[string]store.Observation{}
				for _, o := range obs {
					by[o.Code] = o
				}
				npu := by["NPU19825"]
				if npu.Value != "3,41" || npu.CodeSystem != "NPU" || npu.Source != "instrument-api" || npu.Category != "Spirometry" ||
					npu.MeasuredAtText != "2025-06-30T07:10:00+02:00" || !npu.MeasuredAt.Equal(time.Date(2025, 6, 30, 5, 10, 0, 0, time.UTC)) ||
					npu.Instrument != "ECG vendor" {
					t.Fatalf("NPU result: %+v", npu)
				}
				if r := by["FEV1/FVC"]; r.Value != "0.780" || r.CodeSystem != "" {
					t.Fatalf("numeric value not kept as sent: %+v", r)
				}
				files, _ := e.st.PatientFiles(context.Background(), e.orgA.ID, e.patientA.ID)
				if len(files) != 1 || files[0].Filename != "spiro.pdf" || files[0].ContentType != "application/pdf" || files[0].Title != "Spirometry" {
					t.Fatalf("files: %+v", files)
				}
				evs, _ := e.st.EventsAfter(context.Background(), e.orgA.ID, 0, 1000)
				n := 0
				for _, ev := range evs {
					if ev.Type == store.EventObservationCreated {
						n++
					}
				}
				if n != 2 {
					t.Fatalf("want 2 observation events, got %d", n)
				}
			}},
	})
}

func TestResultLimits(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	big := base64.StdEncoding.EncodeToString(make([]byte, MaxFile+1))
	body := `{"patientID":"{{patientA}}","measurementType":"ECG","measuredAt":"2025-06-30T07:10:00Z","files":[{"filename":"big.pdf","data":"` + big + `"}]}`
	run(t, e, []scenario{
		{name: "file over the limit", method: "POST", path: "/api/v1/instrumentResults", headers: auth("{{tokenA}}"),
			body: body, status: 413, want: map[string]any{"error.message": "~larger than"}, check: nothingStored},
	})
	// A body over the limit is refused before it is read.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/instrumentResults", io.LimitReader(zeros{}, MaxBody+1))
	req.ContentLength = MaxBody + 1
	req.Header.Set("Authorization", e.vars["tokenA"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !bytes.Contains(b, []byte(`"error"`)) {
		t.Fatalf("oversized body: %d %s", res.StatusCode, b)
	}
	nothingStored(t, e)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// Every store error reaches the client in the face's shape with its own
// status: a conflict or a refusal is not the appliance's fault (500).
func TestErrorsInTheFaceShape(t *testing.T) {
	t.Parallel()
	h := New(Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, c := range []struct {
		err    error
		status int
		msg    string
	}{
		{store.ErrConflict, 409, "conflict with existing data"},
		{store.Conflict("result already stored"), 409, "result already stored"},
		{store.ErrForbidden, 403, "forbidden"},
		{store.ErrNotFound, 404, "not found"},
		{store.ErrBadClientCredentials, 401, "invalid clientID or clientSecret"},
		{&http.MaxBytesError{Limit: 10}, 413, "request body is larger than 10 bytes"},
		{store.Invalid("patientID", "is required"), 400, "invalid patientID: is required"},
		{io.ErrUnexpectedEOF, 500, "internal server error"},
	} {
		w := httptest.NewRecorder()
		h.fail(w, httptest.NewRequest("POST", "/api/v1/instrumentResults", nil), c.err)
		var body struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatalf("%v: body %q: %v", c.err, w.Body, err)
		}
		if w.Code != c.status || body.Error.Message != c.msg {
			t.Errorf("%v: %d %q, want %d %q", c.err, w.Code, body.Error.Message, c.status, c.msg)
		}
	}
}
