package live

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Hub delivers each new event to the subscribers of its organisation.
type Hub struct {
	st  *store.Store
	log *slog.Logger

	mu   sync.Mutex
	subs map[*Subscription]struct{}

	closeOnce sync.Once
	closing   chan struct{}
}

// Subscription receives one organisation's events. If the reader falls
// behind, Lagged is signalled and events are dropped: a page then reloads
// its fragment rather than replaying.
type Subscription struct {
	OrgID  int64
	Events chan store.Event
	Lagged chan struct{}
}

// NewHub makes a hub; Run must be running for it to deliver.
func NewHub(st *store.Store, log *slog.Logger) *Hub {
	return &Hub{st: st, log: log, subs: map[*Subscription]struct{}{}, closing: make(chan struct{})}
}

// Close ends every open stream (on shutdown, so that open pages do not hold
// the server up); pages reconnect to the next server.
func (h *Hub) Close() { h.closeOnce.Do(func() { close(h.closing) }) }

// Subscribe starts receiving orgID's events until cancel is called.
func (h *Hub) Subscribe(orgID int64) (*Subscription, func()) {
	s := &Subscription{OrgID: orgID, Events: make(chan store.Event, 64), Lagged: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s, func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
	}
}

// Run follows the outbox from its current end until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	notify, stop := h.st.SubscribeConsumer()
	defer stop()
	cursor, err := h.st.LastEventID(ctx)
	if err != nil {
		return fmt.Errorf("live hub: %w", err)
	}
	tick := time.NewTicker(5 * time.Second) // a safety net if a signal is missed
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-notify:
		case <-tick.C:
		}
		for {
			evs, err := h.st.EventsAfter(ctx, 0, cursor, 500)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				h.log.Error("live hub", "err", err)
				break
			}
			for _, e := range evs {
				h.publish(e)
				cursor = e.ID
			}
			if len(evs) < 500 {
				break
			}
		}
	}
}

func (h *Hub) publish(e store.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.OrgID != e.OrgID {
			continue
		}
		select {
		case s.Events <- e:
		default:
			select {
			case s.Lagged <- struct{}{}:
			default:
			}
		}
	}
}

// Stream serves one server-sent-event stream for orgID: each event whose
// type passes keep is written as an SSE "event: <type>" with its payload;
// a lag is written as "event: resync".
func (h *Hub) Stream(w http.ResponseWriter, r *http.Request, orgID int64, keep func(store.Event) bool) {
	// Subscribe before the first byte goes out: a client that has read the
	// stream's opening line must not miss an event committed after that.
	sub, cancel := h.Subscribe(orgID)
	defer cancel()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.closing:
			return
		case <-ping.C:
			fmt.Fprint(w, ": ping\n\n")
		case <-sub.Lagged:
			fmt.Fprint(w, "event: resync\ndata: {}\n\n")
		case e := <-sub.Events:
			if keep != nil && !keep(e) {
				continue
			}
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, e.Payload)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
