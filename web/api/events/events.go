package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/webhook"
)

// Topics are the subjects of the domain events a client can follow. The
// outbox also carries the appliance's own bookkeeping (deliveries due to
// webhooks and laboratory systems); those are not domain events and are
// never sent.
var Topics = []string{"patient", "appointment", "episode", "observation", "device", "device-message", "patient-file",
	"order", "qc-run", "waiting-room", "assistance-request", "station", "visit-note-template", "kv"}

// badRequest is a 400 with msg.
func badRequest(msg string) error { return httpx.Error(http.StatusBadRequest, msg) }

// word is this API's wording of a classified error.
func word(p httpx.Problem) (code, msg string, fields map[string]string) {
	switch {
	case p.Status >= 500:
		return "internal", p.Msg, nil
	case p.Status == httpx.StatusClientClosed:
		return "cancelled", "client closed request", nil
	}
	return "invalid", p.Msg, nil
}

// fail renders err in the OAuth2 faces' error shape (httpx.APIErrors).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpx.APIErrors{Log: h.log, Name: "events api", Word: word}.Fail(w, r, err)
}

func orgID(r *http.Request) int64 { return store.ActorFrom(r.Context()).OrgID }

// Message is one event as this API sends it: the outbox id (the resume
// point), its topic and time, and the payload the webhooks deliver
// ({"event":"<name>","data":{...}}).
type Message struct {
	ID        int64           `json:"id"`
	Topic     string          `json:"topic"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"createdAt"`
	Payload   json.RawMessage `json:"payload"`
}

// payload is the webhook body of an event: the documented data of the
// telehealth webhook events, and the event's own data for the others.
func payload(ev store.Event) json.RawMessage {
	p := webhook.Payload{Event: ev.Type, Data: ev.Payload}
	if d, ok := webhook.Data(ev); ok {
		if b, err := json.Marshal(d); err == nil {
			p.Data = b
		}
	}
	if len(p.Data) == 0 {
		p.Data = json.RawMessage("{}")
	}
	b, _ := json.Marshal(p)
	return b
}

// filter is what a client asked to follow.
type filter struct {
	topics  []string // nil: every topic
	after   int64
	fromNow bool // no resume point given: only events from now on
}

func parseFilter(r *http.Request) (filter, error) {
	var f filter
	q := r.URL.Query()
	for _, t := range q["topic"] {
		for _, t := range strings.Split(t, ",") {
			t = strings.TrimSpace(t)
			if !slices.Contains(Topics, t) {
				return f, badRequest(fmt.Sprintf("topic %q is not one of %s", t, strings.Join(Topics, ", ")))
			}
			f.topics = append(f.topics, t)
		}
	}
	after := r.Header.Get("Last-Event-ID")
	if v := q.Get("after"); v != "" && after == "" {
		after = v
	}
	f.fromNow = after == ""
	if after != "" {
		n, err := strconv.ParseInt(after, 10, 64)
		if err != nil || n < 0 {
			return f, badRequest("Last-Event-ID / after must be an event id (a whole number)")
		}
		f.after = n
	}
	return f, nil
}

func (f filter) match(ev store.Event) bool {
	if !slices.Contains(Topics, ev.SubjectType) {
		return false
	}
	return f.topics == nil || slices.Contains(f.topics, ev.SubjectType)
}

// next reads the organisation's events after cursor, up to limit matches.
// It returns the matches and the id to resume from (which moves past
// events that did not match, so they are not read again).
func (h *Handler) next(ctx context.Context, org int64, f filter, cursor int64, limit int) ([]store.Event, int64, error) {
	var out []store.Event
	for len(out) < limit {
		evs, err := h.store.EventsAfter(ctx, org, cursor, 500)
		if err != nil {
			return nil, cursor, err
		}
		for _, ev := range evs {
			cursor = ev.ID
			if f.match(ev) {
				out = append(out, ev)
				if len(out) == limit {
					break
				}
			}
		}
		if len(evs) < 500 {
			break
		}
	}
	return out, cursor, nil
}

func message(ev store.Event) Message {
	return Message{ID: ev.ID, Topic: ev.SubjectType, Type: ev.Type, CreatedAt: ev.CreatedAt.UTC().Format(time.RFC3339), Payload: payload(ev)}
}

// stream is the server-sent event stream. Each event is sent with its
// outbox id as the SSE id, so a client that reconnects with Last-Event-ID
// (browsers' EventSource does it by itself) gets every event after the
// last one it saw, once.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// Listen before reading, so an event committed in between wakes us.
	wake, stop := h.store.Subscribe()
	defer stop()
	fmt.Fprintf(w, "retry: 2000\n\n")
	rc.Flush()
	ctx := r.Context()
	org := orgID(r)
	cursor := f.after
	if f.fromNow {
		if cursor, err = h.store.LastEventID(ctx); err != nil {
			h.log.Error("events stream", "err", err)
			return
		}
	}
	beat := time.NewTicker(h.heartbeat)
	defer beat.Stop()
	for {
		evs, c, err := h.next(ctx, org, f, cursor, 500)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Error("events stream", "err", err)
			}
			return
		}
		cursor = c
		for _, ev := range evs {
			m := message(ev)
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", m.ID, m.Type, mustJSON(m))
		}
		if len(evs) > 0 {
			if err := rc.Flush(); err != nil {
				return
			}
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-beat.C:
			fmt.Fprintf(w, ": keep-alive\n\n")
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// pollAnswer is the long-poll answer. Next is the after= of the next call
// (it moves past events that did not match the topics).
type pollAnswer struct {
	Events []Message `json:"events"`
	Next   int64     `json:"next"`
}

// poll answers the events after ?after= at once if there are any, else
// waits up to ?wait= seconds (default 25, at most 60) for one.
func (h *Handler) poll(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	wait, limit := 25, 100
	if v := q.Get("wait"); v != "" {
		if wait, err = strconv.Atoi(v); err != nil || wait < 0 || wait > 60 {
			h.fail(w, r, badRequest("wait must be a whole number of seconds from 0 to 60"))
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			h.fail(w, r, badRequest("limit must be a whole number from 1 to 1000"))
			return
		}
	}
	wake, stop := h.store.Subscribe()
	defer stop()
	deadline := time.NewTimer(time.Duration(wait) * time.Second)
	defer deadline.Stop()
	cursor := f.after
	for {
		evs, c, err := h.next(r.Context(), orgID(r), f, cursor, limit)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		cursor = c
		if len(evs) > 0 || wait == 0 {
			ans := pollAnswer{Events: []Message{}, Next: cursor}
			for _, ev := range evs {
				ans.Events = append(ans.Events, message(ev))
			}
			w.Header().Set("Cache-Control", "no-store")
			httpx.JSON(w, http.StatusOK, ans)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-wake:
		case <-deadline.C:
			wait = 0 // answer what there is (nothing) on the next turn
		}
	}
}

func (h *Handler) topics(w http.ResponseWriter, r *http.Request) {
	httpx.JSON(w, http.StatusOK, map[string]any{"topics": Topics})
}
