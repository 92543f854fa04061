package video

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// RoomKey names an appointment's room.
type RoomKey struct{ OrgID, AppointmentID int64 }

// Rooms holds the open rooms. Today they live in this process's memory; with
// more than one node, a room would live on the node its appointment is
// pinned to, behind this same interface.
type Rooms interface {
	// Open returns the room of key, making it with make when there is none.
	Open(key RoomKey, make func() *room) *room
	// Drop forgets r if it is still the room of key.
	Drop(key RoomKey, r *room)
	// Count is how many rooms are open.
	Count() int
}

type memRooms struct {
	mu    sync.Mutex
	rooms map[RoomKey]*room
}

func newMemRooms() *memRooms { return &memRooms{rooms: map[RoomKey]*room{}} }

func (m *memRooms) Open(key RoomKey, make func() *room) *room {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[key]
	if r == nil {
		r = make()
		m.rooms[key] = r
	}
	return r
}

func (m *memRooms) Drop(key RoomKey, r *room) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[key] == r {
		delete(m.rooms, key)
	}
}

func (m *memRooms) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rooms)
}

// participant is one open link (a browser tab) in a room.
type participant struct {
	id    string
	key   string // role and token: the same person across reconnects
	role  string // provider, patient, guest
	name  string
	since time.Time
	room  *room
	out   chan ServerMessage
	kick  func() // closes the WebSocket

	// guarded by room.mu
	admitted     bool
	left         bool
	peer         peer
	ups          []upTrack
	downs        map[upTrack]downTrack
	audio, video bool
	screen       bool
	quality      int
	reconnecting bool
}

// send queues a message for the participant's WebSocket; a browser that
// stops reading is disconnected rather than allowed to hold the room up.
func (p *participant) send(m ServerMessage) {
	select {
	case p.out <- m:
	default:
		p.kick()
	}
}

// peerEvents, called by the participant's peer connection.

func (p *participant) upTrackStarted(up upTrack) { p.room.upTrackStarted(p, up) }
func (p *participant) upTrackEnded(up upTrack)   { p.room.upTrackEnded(p, up) }
func (p *participant) signal(m ServerMessage)    { p.send(m) }
func (p *participant) connState(s string)        { p.room.connState(p, s) }

// sources is what a participant may send.
func (p *participant) sources() []string {
	if p.role == "provider" {
		return []string{"microphone", "camera", "screen"}
	}
	return []string{"microphone", "camera"}
}

func (p *participant) streamID(up upTrack) string {
	if up.source() == "screen" {
		return "s-" + p.id + "-screen"
	}
	return "s-" + p.id
}

// away is someone whose connection dropped and who may come back: the others
// see them as reconnecting until the grace period ends.
type away struct {
	id, name, role string
	admitted       bool
	timer          *time.Timer
}

// room is one appointment's call: who is connected, who waits in the lobby,
// and the forwarding between the admitted.
type room struct {
	srv  *Server
	key  RoomKey
	recs chan store.VideoChange

	mu       sync.Mutex
	parts    map[string]*participant // by id
	admitted map[string]bool         // participant keys let in during this visit
	away     map[string]*away        // by participant key
	ended    bool
	closed   bool
}

func newRoom(s *Server, key RoomKey) *room {
	r := &room{srv: s, key: key, recs: make(chan store.VideoChange, 32),
		parts: map[string]*participant{}, admitted: map[string]bool{}, away: map[string]*away{}}
	go r.recordLoop()
	return r
}

// recordLoop writes the video status changes in the order they happened,
// without holding the room while the database works.
func (r *room) recordLoop() {
	for c := range r.recs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.srv.visits.Record(ctx, r.key.OrgID, r.key.AppointmentID, c); err != nil {
			r.srv.log.Warn("video status", "appointment", r.key.AppointmentID, "change", c, "err", err)
		}
		cancel()
	}
}

// record must be called with r.mu held.
func (r *room) record(c store.VideoChange) {
	if r.closed {
		return
	}
	select {
	case r.recs <- c:
	default:
		r.srv.log.Error("video status queue full", "appointment", r.key.AppointmentID, "change", c)
	}
}

// join adds p. A second tab with the same link replaces the first; someone
// admitted earlier in this visit comes back without waiting again (a
// browser's automatic rejoin after a network change).
func (r *room) join(p *participant) error {
	var replaced *participant
	var newPeer bool
	r.mu.Lock()
	if r.ended || r.closed {
		r.mu.Unlock()
		return errEnded
	}
	for _, q := range r.parts {
		if q.key == p.key {
			replaced = q
		}
	}
	if replaced != nil {
		r.removeLocked(replaced)
	}
	if a := r.away[p.key]; a != nil {
		a.timer.Stop()
		delete(r.away, p.key)
	}
	r.parts[p.id] = p
	p.audio, p.video = true, true
	if p.role == "provider" || r.admitted[p.key] {
		p.admitted = true
		newPeer = true
	} else if p.role == "patient" {
		r.record(store.VideoPatientWaiting)
	}
	state := "lobby"
	if p.admitted {
		state = "admitted"
	}
	p.send(ServerMessage{Type: "welcome", ID: p.id, Role: p.role, Name: p.name, State: state,
		ICEServers: r.srv.iceServers(p.id)})
	if p.admitted && p.role == "patient" {
		r.record(store.VideoAdmitted)
	}
	if p.role == "provider" {
		p.send(ServerMessage{Type: "chat-history", Chat: r.srv.chatHistory(r.key)})
	}
	r.announceLocked()
	r.mu.Unlock()
	if replaced != nil {
		replaced.send(ServerMessage{Type: "replaced"})
		r.closeLater(replaced)
	}
	if newPeer {
		r.connect(p)
	}
	return nil
}

// connect gives an admitted participant a peer connection and forwards to
// it everything the others already send.
func (r *room) connect(p *participant) {
	pe, err := r.srv.media.newPeer(p, p.sources())
	if err != nil {
		r.srv.log.Error("video peer", "err", err)
		p.send(ServerMessage{Type: "error", Message: "The media server could not start the call."})
		return
	}
	r.mu.Lock()
	if p.left || r.parts[p.id] != p {
		r.mu.Unlock()
		pe.close()
		return
	}
	p.peer = pe
	p.downs = map[upTrack]downTrack{}
	for _, q := range r.parts {
		if q == p || !q.admitted {
			continue
		}
		for _, up := range q.ups {
			if d, err := pe.forward(up, q.streamID(up)); err == nil {
				p.downs[up] = d
			} else {
				r.srv.log.Warn("video forward", "err", err)
			}
		}
	}
	r.mu.Unlock()
}

// admit lets a waiting participant in: one at a time, by the provider.
func (r *room) admit(by *participant, id string) error {
	r.mu.Lock()
	if by.role != "provider" {
		r.mu.Unlock()
		return fmt.Errorf("only the clinician can admit")
	}
	p := r.parts[id]
	if p == nil || p.left {
		r.mu.Unlock()
		return fmt.Errorf("that person is no longer waiting")
	}
	if p.admitted {
		r.mu.Unlock()
		return nil
	}
	p.admitted = true
	r.admitted[p.key] = true
	if p.role == "patient" {
		r.record(store.VideoAdmitted)
	}
	p.send(ServerMessage{Type: "admitted"})
	p.send(ServerMessage{Type: "chat-history", Chat: r.srv.chatHistory(r.key)})
	r.announceLocked()
	r.mu.Unlock()
	r.connect(p)
	return nil
}

// leave removes p. explicit: they hung up (or closed the lobby) on purpose,
// so no grace period is given.
func (r *room) leave(p *participant, explicit bool) {
	r.mu.Lock()
	if p.left || r.parts[p.id] != p {
		r.mu.Unlock()
		return
	}
	r.removeLocked(p)
	if !r.ended {
		if explicit {
			r.departedLocked(p.role, p.admitted)
		} else {
			a := &away{id: p.id, name: p.name, role: p.role, admitted: p.admitted}
			key := p.key
			a.timer = time.AfterFunc(r.srv.cfg.RejoinGrace, func() { r.graceOver(key, a) })
			r.away[key] = a
		}
	}
	r.announceLocked()
	r.mu.Unlock()
	r.closeLater(p)
}

// departedLocked records what someone's leaving means for the visit.
func (r *room) departedLocked(role string, admitted bool) {
	switch {
	case role == "patient" && !admitted:
		r.record(store.VideoLeftUnseen)
	case role == "patient" || role == "provider":
		if admitted && !r.stillInCall(role) {
			r.record(store.VideoDropped)
		}
	}
	r.maybeDropLocked()
}

// stillInCall: someone else with the role is still admitted (a second tab).
func (r *room) stillInCall(role string) bool {
	for _, q := range r.parts {
		if q.role == role && q.admitted {
			return true
		}
	}
	return false
}

func (r *room) graceOver(key string, a *away) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.away[key] != a {
		return // they came back
	}
	delete(r.away, key)
	if !r.ended {
		r.departedLocked(a.role, a.admitted)
	}
	r.announceLocked()
}

// maybeDropLocked forgets the room once nobody is in it or expected back.
func (r *room) maybeDropLocked() {
	if len(r.parts) > 0 || len(r.away) > 0 || r.closed {
		return
	}
	r.closed = true
	close(r.recs)
	r.srv.rooms.Drop(r.key, r)
}

// removeLocked takes p out of the room and stops everything forwarded from
// and to it. Its peer is closed by closeLater, outside the lock.
func (r *room) removeLocked(p *participant) {
	p.left = true
	delete(r.parts, p.id)
	for _, q := range r.parts {
		for _, up := range p.ups {
			if d := q.downs[up]; d != nil {
				d.stop()
				delete(q.downs, up)
			}
		}
	}
	p.ups = nil
}

func (r *room) closeLater(p *participant) {
	r.mu.Lock()
	pe := p.peer
	p.peer = nil
	r.mu.Unlock()
	if pe != nil {
		pe.close()
	}
	p.kick()
}

// end finishes the visit for everyone (the clinician's "End visit").
func (r *room) end(by *participant) error {
	r.mu.Lock()
	if by.role != "provider" {
		r.mu.Unlock()
		return fmt.Errorf("only the clinician can end the visit")
	}
	r.ended = true
	r.record(store.VideoEnded)
	var all []*participant
	for _, q := range r.parts {
		all = append(all, q)
	}
	for _, q := range all {
		q.send(ServerMessage{Type: "ended"})
		r.removeLocked(q)
	}
	for k, a := range r.away {
		a.timer.Stop()
		delete(r.away, k)
	}
	r.maybeDropLocked()
	r.mu.Unlock()
	for _, q := range all {
		r.closeLater(q)
	}
	return nil
}

func (r *room) upTrackStarted(p *participant, up upTrack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.left || !p.admitted {
		return
	}
	p.ups = append(p.ups, up)
	for _, q := range r.parts {
		if q == p || !q.admitted || q.peer == nil {
			continue
		}
		d, err := q.peer.forward(up, p.streamID(up))
		if err != nil {
			r.srv.log.Warn("video forward", "err", err)
			continue
		}
		q.downs[up] = d
	}
}

func (r *room) upTrackEnded(p *participant, up upTrack) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, u := range p.ups {
		if u == up {
			p.ups = append(p.ups[:i], p.ups[i+1:]...)
			break
		}
	}
	for _, q := range r.parts {
		if d := q.downs[up]; d != nil {
			d.stop()
			delete(q.downs, up)
		}
	}
}

func (r *room) connState(p *participant, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.left {
		return
	}
	rec := s == "disconnected" || s == "failed"
	if rec != p.reconnecting {
		p.reconnecting = rec
		r.announceLocked()
	}
}

// setState records what a participant reports about itself (muted, camera
// off, screen shared, network quality).
func (r *room) setState(p *participant, m ClientMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.Audio != nil {
		p.audio = *m.Audio
	}
	if m.Video != nil {
		p.video = *m.Video
	}
	if m.Screen != nil && p.role == "provider" {
		p.screen = *m.Screen
	}
	if m.Quality != nil && *m.Quality >= 0 && *m.Quality <= 4 {
		p.quality = *m.Quality
	}
	r.announceLocked()
}

// chat keeps a message with the visit and shows it to everyone in the call.
func (r *room) chat(p *participant, text string) error {
	r.mu.Lock()
	ok := p.admitted && !p.left
	r.mu.Unlock()
	if !ok {
		return errNotAdmitted
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	line, err := r.srv.visits.AddChat(ctx, r.key.OrgID, r.key.AppointmentID, p.role, p.name, text)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.parts {
		if q.admitted {
			q.send(ServerMessage{Type: "chat", Chat: []ChatLine{line}})
		}
	}
	return nil
}

// announceLocked tells everyone admitted who is in the call, and the
// clinician who waits in the lobby.
func (r *room) announceLocked() {
	var in []ParticipantInfo
	var waiting []ParticipantInfo
	for _, q := range r.parts {
		info := ParticipantInfo{ID: q.id, Name: q.name, Role: q.role, Audio: q.audio, Video: q.video,
			Screen: q.screen, Quality: q.quality, Reconnecting: q.reconnecting, Since: q.since.UTC().Format(time.RFC3339)}
		if q.admitted {
			in = append(in, info)
		} else {
			waiting = append(waiting, info)
		}
	}
	for _, a := range r.away {
		if a.admitted {
			in = append(in, ParticipantInfo{ID: a.id, Name: a.name, Role: a.role, Reconnecting: true})
		}
	}
	sort.Slice(in, func(i, j int) bool { return in[i].ID < in[j].ID })
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].Since < waiting[j].Since })
	for _, q := range r.parts {
		if !q.admitted {
			continue
		}
		m := ServerMessage{Type: "participants", Participants: in}
		if q.role == "provider" {
			m.Waiting = waiting
			if m.Waiting == nil {
				m.Waiting = []ParticipantInfo{}
			}
		}
		q.send(m)
	}
}
