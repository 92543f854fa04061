package video

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// ClientMessage is what a browser sends over the signalling WebSocket.
type ClientMessage struct {
	Type      string     `json:"type"` // answer, candidate, restart, admit, chat, state, leave, end
	SDP       string     `json:"sdp,omitempty"`
	Candidate *Candidate `json:"candidate,omitempty"`
	ID        string     `json:"id,omitempty"`   // admit: whom
	Text      string     `json:"text,omitempty"` // chat
	Audio     *bool      `json:"audio,omitempty"`
	Video     *bool      `json:"video,omitempty"`
	Screen    *bool      `json:"screen,omitempty"`
	Quality   *int       `json:"quality,omitempty"` // 0 (none) .. 4 (good)
}

// ServerMessage is what the server sends.
type ServerMessage struct {
	Type         string            `json:"type"` // welcome, admitted, offer, participants, chat, chat-history, error, ended, replaced
	ID           string            `json:"id,omitempty"`
	Role         string            `json:"role,omitempty"`
	Name         string            `json:"name,omitempty"`
	State        string            `json:"state,omitempty"` // welcome: lobby or admitted
	ICEServers   []ICEServer       `json:"iceServers,omitempty"`
	SDP          string            `json:"sdp,omitempty"`
	Slots        map[string]string `json:"slots,omitempty"` // offer: mid → microphone, camera, screen
	Participants []ParticipantInfo `json:"participants,omitempty"`
	Waiting      []ParticipantInfo `json:"waiting,omitempty"` // to the clinician only
	Chat         []ChatLine        `json:"chat,omitempty"`
	Message      string            `json:"message,omitempty"`
}

// ParticipantInfo describes someone in the room.
type ParticipantInfo struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Role         string `json:"role"`
	Audio        bool   `json:"audio"`
	Video        bool   `json:"video"`
	Screen       bool   `json:"screen"`
	Quality      int    `json:"quality"`
	Reconnecting bool   `json:"reconnecting"`
	Since        string `json:"since,omitempty"`
}

// ChatLine is one chat message.
type ChatLine struct {
	Role string `json:"role"`
	Name string `json:"name"`
	Text string `json:"text"`
	At   string `json:"at"` // RFC 3339
}

var (
	errEnded       = errors.New("this visit has ended")
	errNotAdmitted = errors.New("not admitted yet: the clinician lets you in")
)

// ServeHTTP is the signalling endpoint, GET /visit/{token}/ws: the visit
// link's token is the credential and decides the role.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, err := s.visits.Resolve(r.Context(), r.PathValue("token"))
	switch {
	case errors.Is(err, ErrLinkNotFound):
		http.Error(w, "visit link not found", http.StatusNotFound)
		return
	case errors.Is(err, ErrLinkExpired):
		http.Error(w, "visit link expired", http.StatusGone)
		return
	case err != nil:
		s.log.Error("video link", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !v.Open {
		http.Error(w, errEnded.Error(), http.StatusConflict)
		return
	}
	name := v.Name
	if v.Role == "guest" {
		name = cleanName(r.URL.Query().Get("name"))
	}
	c, err := websocket.Accept(w, r, nil) // same-origin only (the default)
	if err != nil {
		return
	}
	c.SetReadLimit(256 << 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &participant{id: s.newID(), key: v.Role + ":" + v.Token, role: v.Role, name: name, since: time.Now(),
		out: make(chan ServerMessage, 256)}
	p.kick = cancel
	key := RoomKey{v.OrgID, v.AppointmentID}
	var rm *room
	for {
		rm = s.rooms.Open(key, func() *room { return newRoom(s, key) })
		p.room = rm
		err = rm.join(p)
		if !errors.Is(err, errEnded) || rm.ended {
			break
		}
		// The room closed between Open and join (its last member just
		// left): a fresh one is made.
	}
	if err != nil {
		c.Close(websocket.StatusNormalClosure, err.Error())
		return
	}
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-p.out:
				wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
				err := wsjson.Write(wctx, c, m)
				wcancel()
				if err != nil {
					return
				}
				if m.Type == "ended" || m.Type == "replaced" {
					c.Close(websocket.StatusNormalClosure, m.Type)
					return
				}
			}
		}
	}()
	explicit := s.readLoop(ctx, c, p)
	rm.leave(p, explicit)
	cancel()
	c.CloseNow()
}

// readLoop handles the browser's messages until it leaves; true when it
// said so (hung up) rather than vanished.
func (s *Server) readLoop(ctx context.Context, c *websocket.Conn, p *participant) bool {
	rm := p.room
	for {
		var m ClientMessage
		_, data, err := c.Read(ctx)
		if err != nil {
			return false
		}
		if err := json.Unmarshal(data, &m); err != nil {
			p.send(ServerMessage{Type: "error", Message: "not a JSON message"})
			continue
		}
		if m.Type == "leave" {
			return true
		}
		if err := s.handle(rm, p, m); err != nil {
			p.send(ServerMessage{Type: "error", Message: err.Error()})
		}
	}
}

func (s *Server) handle(rm *room, p *participant, m ClientMessage) error {
	switch m.Type {
	case "answer", "candidate", "restart":
		rm.mu.Lock()
		pe := p.peer
		rm.mu.Unlock()
		if pe == nil {
			return errNotAdmitted // the lobby: no media until admitted
		}
		switch m.Type {
		case "answer":
			return pe.answer(m.SDP)
		case "candidate":
			if m.Candidate == nil {
				return errors.New("candidate: missing")
			}
			if err := pe.addCandidate(*m.Candidate); err != nil {
				s.log.Debug("video candidate", "err", err)
			}
			return nil
		default:
			pe.restartICE()
			return nil
		}
	case "offer":
		return errors.New("offers come from the server")
	case "admit":
		return rm.admit(p, m.ID)
	case "chat":
		return rm.chat(p, m.Text)
	case "state":
		rm.setState(p, m)
		return nil
	case "end":
		return rm.end(p)
	}
	return errors.New("unknown message type")
}

// cleanName is a guest's self-given name, short and printable.
func cleanName(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if !utf8.ValidString(s) {
		s = ""
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60])
	}
	if s == "" {
		return "Guest"
	}
	return s
}
