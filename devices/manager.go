package devices

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/store"
)

// Options tunes a Manager. The zero value is what a clinic runs with.
type Options struct {
	Log          *slog.Logger
	PollInterval time.Duration  // how often the device list is re-read: 2 s
	MinBackoff   time.Duration  // first wait before reopening a failed port: 250 ms
	MaxBackoff   time.Duration  // longest wait between reopen attempts: 10 s
	Location     *time.Location // zone of instrument timestamps that carry none: time.Local
	ASTM         astm.Config    // link-layer settings (tests shorten the timers)
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 250 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	return o
}

// State is a device's live state, for the admin page.
type State struct {
	DeviceID      int64
	OrgID         int64
	Name          string
	Connected     bool
	Path          string    // the port opened (resolved from a USB serial number), or the listen address
	Since         time.Time // when Connected last changed
	LastMessageAt time.Time
	Messages      int // received since the server started
	LastError     string
	LastErrorAt   time.Time
	// Deviations from the framing standard that the tolerant receiver
	// accepted since the server started, and the newest one: the device
	// page shows them as a warning (the log lists them per message).
	Warnings      int
	LastWarning   string
	LastWarningAt time.Time
}

// Manager runs every active device of every organisation.
type Manager struct {
	st  *store.Store
	opt Options

	reload chan struct{}

	mu      sync.Mutex
	runners map[int64]*runner
	states  map[int64]*State
}

// NewManager makes a manager; Run starts it.
func NewManager(st *store.Store, opt Options) *Manager {
	return &Manager{st: st, opt: opt.withDefaults(), reload: make(chan struct{}, 1),
		runners: map[int64]*runner{}, states: map[int64]*State{}}
}

// Reload asks the manager to re-read the device list now.
func (m *Manager) Reload() {
	if m == nil {
		return
	}
	select {
	case m.reload <- struct{}{}:
	default:
	}
}

// States lists the live state of an organisation's running devices.
func (m *Manager) States(orgID int64) []State {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []State
	for _, s := range m.states {
		if s.OrgID == orgID {
			out = append(out, *s)
		}
	}
	slices.SortFunc(out, func(a, b State) int { return int(a.DeviceID - b.DeviceID) })
	return out
}

// State returns one device's live state; false when it is not running.
func (m *Manager) State(orgID, deviceID int64) (State, bool) {
	if m == nil {
		return State{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.states[deviceID]
	if !ok || s.OrgID != orgID {
		return State{}, false
	}
	return *s, true
}

func (m *Manager) update(id int64, fn func(*State)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.states[id]; ok {
		fn(s)
	}
}

// Run ingests what an earlier run stored but did not ingest, then runs the
// devices until ctx ends, re-reading the device list every PollInterval
// (and whenever the store commits events, for changes made in-process).
func (m *Manager) Run(ctx context.Context) error {
	m.ingestLeftovers(ctx)
	notify, stop := m.st.SubscribeConsumer()
	defer stop()
	tick := time.NewTicker(m.opt.PollInterval)
	defer tick.Stop()
	defer m.stopAll()
	for {
		if err := m.sync(ctx); err != nil && ctx.Err() == nil {
			m.opt.Log.Error("devices: reload", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-m.reload:
		case <-notify:
		}
	}
}

// ingestLeftovers ingests messages stored before a stop but not ingested.
func (m *Manager) ingestLeftovers(ctx context.Context) {
	for {
		msgs, err := m.st.UningestedMessages(ctx, 100)
		if err != nil {
			m.opt.Log.Error("devices: leftovers", "err", err)
			return
		}
		done := 0
		for i := range msgs {
			dev, err := m.st.Device(ctx, msgs[i].OrgID, msgs[i].DeviceID)
			if err != nil {
				m.opt.Log.Error("devices: leftover message", "message", msgs[i].ID, "err", err)
				continue
			}
			if _, err := ingestStored(ctx, m.st, dev, &msgs[i], deviceLocation(dev, m.opt.Location)); err != nil {
				m.opt.Log.Error("devices: leftover message", "message", msgs[i].ID, "err", err)
				continue
			}
			done++
		}
		if len(msgs) < 100 || done == 0 {
			return
		}
	}
}

// configKey is what, when changed, makes a device's runner restart.
func configKey(d *store.Device) string {
	return fmt.Sprintf("%d|%s|%s|%s|%s|%s|%d|%d|%s|%s|%s|%s|%v", d.OrgID, d.Name, d.Protocol, d.PortPath, d.USBSerial,
		d.TCPAddr, d.Baud, d.DataBits, d.Parity, d.StopBits, d.Station, d.Options, d.StrictFraming)
}

// sync starts runners for new or changed devices and stops those of
// removed or changed ones.
func (m *Manager) sync(ctx context.Context) error {
	devs, err := m.st.ActiveDevices(ctx)
	if err != nil {
		return err
	}
	want := map[int64]store.Device{}
	for _, d := range devs {
		want[d.ID] = d
	}
	m.mu.Lock()
	var stopping []*runner
	for id, r := range m.runners {
		if d, ok := want[id]; !ok || configKey(&d) != r.key {
			stopping = append(stopping, r)
			delete(m.runners, id)
			delete(m.states, id)
		}
	}
	m.mu.Unlock()
	for _, r := range stopping {
		r.stop()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, d := range want {
		if _, ok := m.runners[id]; ok {
			continue
		}
		r := newRunner(m, d)
		m.runners[id] = r
		m.states[id] = &State{DeviceID: id, OrgID: d.OrgID, Name: d.Name, Since: m.st.Now()}
		go r.run(ctx)
	}
	return nil
}

func (m *Manager) stopAll() {
	m.mu.Lock()
	rs := make([]*runner, 0, len(m.runners))
	for id, r := range m.runners {
		rs = append(rs, r)
		delete(m.runners, id)
		delete(m.states, id)
	}
	m.mu.Unlock()
	for _, r := range rs {
		r.stop()
	}
}

// deviceLocation is the device's "tz" option, else def.
func deviceLocation(d *store.Device, def *time.Location) *time.Location {
	if tz := d.OptionMap()["tz"]; tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc
		}
	}
	return def
}

// runner keeps one device running: it opens its port, runs its protocol,
// and reopens after a failure with backoff. A panic in a driver ends only
// that session.
type runner struct {
	m      *Manager
	dev    store.Device
	key    string
	loc    *time.Location
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	ctxMu  sync.Mutex
}

func newRunner(m *Manager, d store.Device) *runner {
	return &runner{m: m, dev: d, key: configKey(&d), loc: deviceLocation(&d, m.opt.Location),
		log: m.opt.Log.With("device", d.Name, "device_id", d.ID), done: make(chan struct{})}
}

func (r *runner) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	r.ctxMu.Lock()
	r.cancel = cancel
	r.ctxMu.Unlock()
	defer close(r.done)
	defer cancel()
	if r.dev.TCPAddr != "" {
		r.runTCP(ctx)
		return
	}
	backoff := r.m.opt.MinBackoff
	for ctx.Err() == nil {
		port, path, err := openSerial(&r.dev)
		if err != nil {
			r.fail(err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, r.m.opt.MaxBackoff)
			continue
		}
		backoff = r.m.opt.MinBackoff
		r.connected(path, true)
		r.log.Info("device connected", "port", path)
		err = r.session(ctx, port)
		if ctx.Err() != nil {
			return
		}
		r.connected(path, false)
		r.fail(fmt.Errorf("port %s: %w", path, err))
		r.log.Warn("device disconnected; reopening", "port", path, "err", err)
		if !sleep(ctx, r.m.opt.MinBackoff) {
			return
		}
	}
}

// session runs the device's protocol over an open port until it fails or
// ctx ends; the port is closed on return.
func (r *runner) session(ctx context.Context, port io.ReadWriteCloser) (err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-sctx.Done()
		port.Close() // unblocks a read in progress
	}()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("driver panicked: %v", p)
		}
	}()
	switch r.dev.Protocol {
	case store.ProtocolASTM:
		return r.runASTM(sctx, port)
	case store.ProtocolHL7:
		return r.runHL7(sctx, port)
	case store.ProtocolLine:
		return r.runLine(sctx, port)
	}
	return fmt.Errorf("unknown protocol %q", r.dev.Protocol)
}

func (r *runner) stop() {
	r.ctxMu.Lock()
	cancel := r.cancel
	r.ctxMu.Unlock()
	if cancel != nil {
		cancel()
	}
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.log.Error("device did not stop within 10 s")
	}
}

func (r *runner) connected(path string, up bool) {
	now := r.m.st.Now()
	r.m.update(r.dev.ID, func(s *State) {
		s.Connected, s.Path, s.Since = up, path, now
	})
	state := store.DeviceDisconnected
	if up {
		state = store.DeviceConnected
	}
	r.persist(state, path, "")
}

func (r *runner) fail(err error) {
	now := r.m.st.Now()
	up, path := false, ""
	r.m.update(r.dev.ID, func(s *State) {
		s.LastError, s.LastErrorAt = err.Error(), now
		up, path = s.Connected, s.Path
	})
	state := store.DeviceError
	if up {
		state = store.DeviceConnected // a message failed; the link is fine
	}
	r.persist(state, path, err.Error())
}

// persist records the state in the store, where the fleet view, the POCT
// API and its webhooks read it. A failure is logged, never fatal: the
// device keeps running.
func (r *runner) persist(state, path, lastError string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.m.st.SetDeviceState(ctx, r.dev.OrgID, r.dev.ID, state, path, lastError); err != nil {
		r.log.Warn("device state not stored", "err", err)
	}
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// storeCtx is the context for storing a message: a shutdown must not cut a
// write short between storing and acknowledging.
func storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// save stores raw bytes the device sent (or we sent) and counts them.
func (r *runner) save(ctx context.Context, m *store.DeviceMessage) error {
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	m.DeviceID = r.dev.ID
	if m.Protocol == "" {
		m.Protocol = r.dev.Protocol
	}
	if err := r.m.st.SaveDeviceMessage(sctx, r.dev.OrgID, m); err != nil {
		return fmt.Errorf("store message: %w", err)
	}
	if m.Direction == "in" {
		now := r.m.st.Now()
		r.m.update(r.dev.ID, func(s *State) { s.LastMessageAt = now; s.Messages++ })
	}
	return nil
}

// record stores an ingestion and reports a failed one in the state.
func (r *runner) record(ctx context.Context, msgID int64, in *store.Ingestion) error {
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	if err := r.m.st.RecordIngestion(sctx, r.dev.OrgID, msgID, in); err != nil {
		// Keep the message (its raw bytes are stored) as failed.
		failed := &store.Ingestion{Kind: in.Kind, Status: store.MessageFailed, Error: err.Error(), PatientRef: in.PatientRef, Raw: in.Raw}
		if err2 := r.m.st.RecordIngestion(sctx, r.dev.OrgID, msgID, failed); err2 != nil {
			return fmt.Errorf("record ingestion of message %d: %w", msgID, err2)
		}
		in = failed
	}
	if n := len(in.Warnings); n > 0 {
		now := r.m.st.Now()
		last := fmt.Sprintf("message %d: %s", msgID, in.Warnings[n-1])
		r.m.update(r.dev.ID, func(s *State) { s.Warnings += n; s.LastWarning, s.LastWarningAt = last, now })
		r.log.Warn("framing deviations accepted", "message", msgID, "count", n, "first", in.Warnings[0])
	}
	if in.Status == store.MessageFailed {
		r.fail(fmt.Errorf("message %d: %s", msgID, in.Error))
		r.log.Warn("message not ingested", "message", msgID, "err", in.Error)
	}
	return nil
}
