package telehealth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/reports"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/cache"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// testNow is the store's clock in these tests: before the spec's slot
// examples (2017-09-10), so those slots are in the future.
var testNow = time.Date(2017, 9, 1, 9, 0, 0, 0, time.UTC)

type testEnv struct {
	t          *testing.T
	st         *store.Store
	srv        *httptest.Server
	h          *Handler
	orgA, orgB *store.Org
	keyA, keyB string
	revokedKey string
	roomA      *store.WaitingRoom
	provider   *store.User
	vars       map[string]string // values captured by scenarios, used as {{name}}
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, store.WithClock(storetest.NewClock(testNow).Now))
	var err error
	e := &testEnv{t: t, st: st, vars: map[string]string{}}
	e.orgA, e.orgB = storetest.Org(t, st, "Alpha Clinic", "alpha"), storetest.Org(t, st, "Beta Clinic", "beta")
	if e.keyA, err = st.CreateAPIKey(ctx, e.orgA.ID, &store.APIKey{Name: "integration A"}); err != nil {
		t.Fatal(err)
	}
	if e.keyB, err = st.CreateAPIKey(ctx, e.orgB.ID, &store.APIKey{Name: "integration B"}); err != nil {
		t.Fatal(err)
	}
	rk := &store.APIKey{Name: "old"}
	if e.revokedKey, err = st.CreateAPIKey(ctx, e.orgA.ID, rk); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeAPIKey(ctx, e.orgA.ID, rk.ID); err != nil {
		t.Fatal(err)
	}
	hours := store.WeekdayHours()
	hours[time.Sunday] = []store.Interval{{Open: "14:30", Close: "16:00"}}
	e.roomA = &store.WaitingRoom{Name: "my waiting room", ServiceLine: "Demo", ServiceType: "Demo", SlotDuration: 900,
		Hours: hours, Timezone: "UTC", Active: true}
	if err := st.CreateWaitingRoom(ctx, e.orgA.ID, e.roomA); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWaitingRoom(ctx, e.orgB.ID, &store.WaitingRoom{Name: "beta room", SlotDuration: 600, Timezone: "UTC", Active: true}); err != nil {
		t.Fatal(err)
	}
	e.provider = &store.User{Email: "clara@whovians.com", Name: "Clara Oswin Oswald", Role: store.RoleClinician, Active: true}
	if err := st.CreateUser(ctx, e.orgA.ID, e.provider, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.h = New(Deps{Store: st, Log: log, PublicURL: "https://clinic.example", Cache: cache.New(1 << 20), Reports: reports.NewJobs(st, log)})
	httpx.Register(mux, e.h.Routes())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

// expand replaces {{name}} with captured values.
func (e *testEnv) expand(s string) string {
	for k, v := range e.vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

// do sends one request as a client would; key "" sends no Api-Key.
func (e *testEnv) do(method, path, key, contentType string, body []byte) (int, http.Header, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Api-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b
}

// scenario is one API call and what must come back.
type scenario struct {
	name    string
	method  string
	path    string
	key     string // "A" (default), "B", "revoked", "none" or a literal key
	ctype   string // Content-Type; default application/json when there is a body
	body    string
	status  int
	want    map[string]any // JSON path → value; ints as int, "<string>" for any string, "<int>" for any integer
	absent  []string       // JSON paths that must not exist
	msg     string         // substring of error.message
	events  []string       // event types that must have been written
	capture map[string]string
}

func (e *testEnv) keyFor(k string) string {
	switch k {
	case "", "A":
		return e.keyA
	case "B":
		return e.keyB
	case "revoked":
		return e.revokedKey
	case "none":
		return ""
	}
	return k
}

func (e *testEnv) run(scs []scenario) {
	e.t.Helper()
	for _, sc := range scs {
		e.t.Run(sc.name, func(t *testing.T) {
			last, err := e.st.LastEventID(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ctype := sc.ctype
			if ctype == "" && sc.body != "" {
				ctype = "application/json"
			}
			var body []byte
			if sc.body != "" {
				body = []byte(e.expand(sc.body))
			}
			status, hdr, b := e.do(sc.method, e.expand(sc.path), e.keyFor(sc.key), ctype, body)
			if status != sc.status {
				t.Fatalf("status = %d, want %d; body %s", status, sc.status, b)
			}
			if len(b) > 0 && !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type = %q", hdr.Get("Content-Type"))
			}
			var doc any
			if len(b) > 0 {
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.UseNumber()
				if err := dec.Decode(&doc); err != nil {
					t.Fatalf("response is not JSON: %v: %s", err, b)
				}
			}
			if sc.status >= 400 {
				msg, ok := lookup(doc, "error.message")
				if !ok {
					t.Fatalf("error response without error.message: %s", b)
				}
				if _, isStr := msg.(string); !isStr {
					t.Fatalf("error.message is %T", msg)
				}
				if sc.msg != "" && !strings.Contains(msg.(string), sc.msg) {
					t.Errorf("error.message = %q, want it to contain %q", msg, sc.msg)
				}
			}
			for path, want := range sc.want {
				got, ok := lookup(doc, path)
				if !ok {
					t.Errorf("%s: missing in %s", path, b)
					continue
				}
				checkValue(t, path, got, e.expandWant(want))
			}
			for _, path := range sc.absent {
				if _, ok := lookup(doc, path); ok {
					t.Errorf("%s: present, want absent", path)
				}
			}
			for name, path := range sc.capture {
				got, ok := lookup(doc, path)
				if !ok {
					t.Fatalf("capture %s: %s missing", name, path)
				}
				e.vars[name] = fmt.Sprint(got)
			}
			if len(sc.events) > 0 {
				evs, err := e.st.EventsAfter(context.Background(), 0, last, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range sc.events {
					found := false
					for _, ev := range evs {
						found = found || ev.Type == want
					}
					if !found {
						t.Errorf("event %s not written (got %v)", want, evs)
					}
				}
			}
			if sc.status >= 400 {
				// Bad input changes nothing: no event may have been written.
				evs, _ := e.st.EventsAfter(context.Background(), 0, last, 100)
				for _, ev := range evs {
					if ev.Type != "" && ev.SubjectType != "" && ev.Type != "api-key:used" {
						t.Errorf("error response wrote event %s", ev.Type)
					}
				}
			}
		})
	}
}

func (e *testEnv) expandWant(v any) any {
	if s, ok := v.(string); ok && strings.HasPrefix(s, "{{") {
		return e.expand(s)
	}
	return v
}

// lookup walks a decoded JSON document by a dotted path ("a.0.b"; "" is
// the whole document).
func lookup(doc any, path string) (any, bool) {
	if path == "" {
		return doc, true
	}
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// checkValue compares a JSON value with want, types included: an int want
// needs a JSON integer, a string want a JSON string.
func checkValue(t *testing.T, path string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if got != nil {
			t.Errorf("%s = %v (%T), want null", path, got, got)
		}
	case int, int64:
		n, ok := got.(json.Number)
		if !ok || strings.ContainsAny(n.String(), ".eE") {
			t.Errorf("%s = %v (%T), want integer %v", path, got, got, w)
			return
		}
		if n.String() != fmt.Sprint(w) {
			t.Errorf("%s = %v, want %v", path, n, w)
		}
	case bool:
		if b, ok := got.(bool); !ok || b != w {
			t.Errorf("%s = %v (%T), want %v", path, got, got, w)
		}
	case string:
		switch w {
		case "<string>":
			if _, ok := got.(string); !ok {
				t.Errorf("%s = %v (%T), want a string", path, got, got)
			}
		case "<int>":
			n, ok := got.(json.Number)
			if !ok || strings.ContainsAny(n.String(), ".eE") {
				t.Errorf("%s = %v (%T), want an integer", path, got, got)
			}
		case "<uuid>":
			if s, ok := got.(string); !ok || !uuidRE.MatchString(s) {
				t.Errorf("%s = %v, want a uuid string", path, got)
			}
		default:
			if s, ok := got.(string); !ok || s != w {
				t.Errorf("%s = %v (%T), want %q", path, got, got, w)
			}
		}
	case []string:
		arr, ok := got.([]any)
		if !ok || len(arr) != len(w) {
			t.Errorf("%s = %v, want %v", path, got, w)
			return
		}
		for i := range w {
			if s, ok := arr[i].(string); !ok || s != w[i] {
				t.Errorf("%s.%d = %v, want %q", path, i, arr[i], w[i])
			}
		}
	case func(any) error:
		if err := w(got); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	default:
		t.Fatalf("%s: unsupported want type %T", path, want)
	}
}

// length checks the length of a JSON array.
func length(n int) func(any) error {
	return func(v any) error {
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%v is not an array", v)
		}
		if len(arr) != n {
			return fmt.Errorf("length %d, want %d", len(arr), n)
		}
		return nil
	}
}

// specPatient is the spec's patient example body (POST form: groupType/groupName).
const specPatient = `{
"id": "patientId",
"mrn": "MRN-123",
"accountNumber": "A-123",
"name": [{"use": "usual", "family": "Mike Shinoda", "firstName": "Mike", "middleName": "", "lastName": "Shinoda", "alias": ""}],
"birthDate": "1983-08-15",
"gender": "male",
"maritalStatus": "married",
"telecom": [{"use": "home", "system": "phone", "value": "+1 (111) 111-1111"}, {"use": "home", "system": "email", "value": "mike_zzzzzzz@company.com"}],
"contact": [{"telecom": [{"use": "home", "system": "phone", "value": "phone"}, {"use": "home", "system": "email", "value": "someemail@email.email"}], "name": []}],
"preferredLanguage": "English",
"race": "White",
"ethnicity": "not Hispanic or Latino",
"address": [{"city": "New York", "use": "home", "apartment": "", "country": "USA", "state": "NY", "postalcode": "10019", "line": ["123 Main St", ""]}],
"active": true,
"deceased": true,
"deceasedAt": "2020-03-31 10:12 AM",
"familyMember": false,
"isLinkedByEmail": false,
"groupType": "family",
"groupName": "Family Name"
}`

// createPatient makes a patient through the API and returns its SPID.
func (e *testEnv) createPatient(key, id string) int64 {
	e.t.Helper()
	body := fmt.Sprintf(`{"id": %q, "name": [{"firstName": "Ann", "lastName": "Lee"}], "birthDate": "1990-01-02", "gender": "female"}`, id)
	status, _, b := e.do("POST", "/qapi/v1/patients", e.keyFor(key), "application/json", []byte(body))
	if status != http.StatusCreated {
		e.t.Fatalf("create patient: %d %s", status, b)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		e.t.Fatalf("create patient: body %s", b)
	}
	return n
}

// createAppointment books an appointment through the API and returns its id.
func (e *testEnv) createAppointment(key, patientID, body string) int64 {
	e.t.Helper()
	status, _, b := e.do("POST", "/qapi/v1/patients/"+patientID+"/appointments", e.keyFor(key), "application/json", []byte(body))
	if status != http.StatusCreated {
		e.t.Fatalf("create appointment: %d %s", status, b)
	}
	var out struct{ ID int64 }
	if err := json.Unmarshal(b, &out); err != nil || out.ID == 0 {
		t := e.t
		t.Fatalf("create appointment: %s", b)
	}
	return out.ID
}

// reopen opens the test database again (after e.st was closed).
func reopen(t *testing.T, e *testEnv) *store.Store {
	t.Helper()
	return storetest.OpenFile(t, e.st.Path())
}

func storeAuditFilter() store.AuditFilter { return store.AuditFilter{Limit: 500} }
