package events

import (
	"bufio"
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

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

type env struct {
	t          *testing.T
	st         *store.Store
	srv        *httptest.Server
	orgA, orgB *store.Org
	tokA, tokB string
	fhirOnly   string
}

func newEnv(t *testing.T) *env {
	ctx := context.Background()
	st := storetest.Open(t)
	mux := http.NewServeMux()
	httpx.Register(mux, New(Deps{Store: st, OAuth: &auth.OAuth{Store: st}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Heartbeat: 50 * time.Millisecond}).Routes())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{t: t, st: st, srv: srv, orgA: storetest.Org(t, st, "A", "a"), orgB: storetest.Org(t, st, "B", "b")}
	tok := func(o *store.Org, scopes string) string {
		c, secret, err := st.CreateOAuthClient(ctx, o.ID, store.ClientKindFHIR, "events", store.ParseScopes(scopes))
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := st.IssueOAuthToken(ctx, c.ClientID, secret, nil)
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	e.tokA, e.tokB, e.fhirOnly = tok(e.orgA, "events.read"), tok(e.orgB, "events.read"), tok(e.orgA, "system/*.read")
	return e
}

// patient creates a patient in org: one patient:created event.
func (e *env) patient(o *store.Org, mrn string) *store.Patient {
	p := &store.Patient{MRN: mrn, Names: []store.HumanName{{FirstName: "P", LastName: mrn}}, Active: true}
	if err := e.st.CreatePatient(context.Background(), o.ID, p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

type sseEvent struct {
	id   int64
	typ  string
	data Message
}

// sse reads a stream's events into a channel until the body closes.
func readSSE(body io.Reader, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.id != 0 {
				out <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			ev.id, _ = strconv.ParseInt(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			ev.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			json.Unmarshal([]byte(line[6:]), &ev.data)
		}
	}
}

func (e *env) open(ctx context.Context, query, lastID string) (<-chan sseEvent, *http.Response) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/events/v1/stream"+query, nil)
	req.Header.Set("Authorization", "Bearer "+e.tokA)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 100)
	go readSSE(resp.Body, ch)
	return ch, resp
}

func recv(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return sseEvent{}
}

// A consumer that disconnects and resumes with Last-Event-ID gets every
// event once: none missed, none repeated, in order.
func TestStreamResumes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch, _ := e.open(ctx, "?topic=patient", "")
	var want []int64
	var got []sseEvent
	for i := range 3 {
		p := e.patient(e.orgA, fmt.Sprint("A", i))
		e.patient(e.orgB, fmt.Sprint("B", i)) // another clinic's: never seen
		ev := recv(t, ch)
		got = append(got, ev)
		want = append(want, p.ID)
	}
	cancel() // the consumer goes away...
	for ev := range ch {
		got = append(got, ev) // (whatever was already in flight counts as received)
	}
	last := got[len(got)-1].id
	// ...events happen while it is away...
	for i := 3; i < 6; i++ {
		p := e.patient(e.orgA, fmt.Sprint("A", i))
		want = append(want, p.ID)
	}
	// ...and it resumes where it stopped.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	ch2, _ := e.open(ctx2, "?topic=patient", strconv.FormatInt(last, 10))
	for len(got) < len(want) {
		got = append(got, recv(t, ch2))
	}
	p := e.patient(e.orgA, "A6") // and keeps following live events
	want = append(want, p.ID)
	got = append(got, recv(t, ch2))
	var prev int64
	for i, ev := range got {
		if ev.id <= prev {
			t.Errorf("event %d: id %d after %d (repeated or out of order)", i, ev.id, prev)
		}
		prev = ev.id
		var data struct {
			PatientID int64 `json:"patientId"`
		}
		var body struct {
			Event string          `json:"event"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(ev.data.Payload, &body); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(body.Data, &data)
		if ev.typ != store.EventPatientCreated || body.Event != store.EventPatientCreated || ev.data.Topic != "patient" || ev.data.ID != ev.id {
			t.Errorf("event %d: %+v %s", i, ev, ev.data.Payload)
		}
		if data.PatientID != want[i] {
			t.Errorf("event %d: patient %d, want %d (missed or foreign event)", i, data.PatientID, want[i])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d events, want %d", len(got), len(want))
	}
}

func TestLongPoll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	get := func(q, tok string) (int, pollAnswer, string) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/events/v1/events"+q, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var a pollAnswer
		json.Unmarshal(b, &a)
		return resp.StatusCode, a, string(b)
	}
	p1 := e.patient(e.orgA, "one")
	e.patient(e.orgB, "other")
	status, a, body := get("?after=0&wait=0", e.tokA)
	if status != 200 || len(a.Events) != 1 || !strings.Contains(string(a.Events[0].Payload), fmt.Sprintf(`"patientId":%d`, p1.ID)) {
		t.Fatalf("first poll: %d %s", status, body)
	}
	// Nothing new: the call waits, and answers as soon as an event comes.
	done := make(chan pollAnswer)
	go func() {
		_, a, _ := get(fmt.Sprintf("?after=%d&wait=10", a.Next), e.tokA)
		done <- a
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	p2 := e.patient(e.orgA, "two")
	select {
	case a := <-done:
		if len(a.Events) != 1 || !strings.Contains(string(a.Events[0].Payload), fmt.Sprintf(`"patientId":%d`, p2.ID)) {
			t.Errorf("woken poll: %+v", a)
		}
		if time.Since(start) > 3*time.Second {
			t.Errorf("woke after %v", time.Since(start))
		}
	case <-time.After(8 * time.Second):
		t.Fatal("long-poll did not wake")
	}
	// A topic that has no events: an empty answer after the wait.
	status, a, body = get("?after=0&wait=0&topic=device", e.tokA)
	if status != 200 || len(a.Events) != 0 || a.Next == 0 {
		t.Errorf("topic filter: %s", body)
	}
	for _, tc := range []struct {
		q, tok string
		status int
	}{
		{"?topic=nonsense", e.tokA, 400},
		{"?after=x", e.tokA, 400},
		{"?wait=600", e.tokA, 400},
		{"", e.fhirOnly, 403},
		{"", "nope", 401},
	} {
		if status, _, body := get(tc.q, tc.tok); status != tc.status || !strings.Contains(body, `"code"`) {
			t.Errorf("%s: %d %s", tc.q, status, body)
		}
	}
}
