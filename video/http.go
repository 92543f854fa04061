package video

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// The visit link's other video endpoints, beside the signalling WebSocket
// (ServeHTTP): the TURN credentials and the connection check.

// ServeICE answers GET /visit/{token}/ice: the STUN/TURN servers and a
// short-lived credential for this link's browser.
func (s *Server) ServeICE(w http.ResponseWriter, r *http.Request) {
	v, ok := s.resolveJSON(w, r)
	if !ok {
		return
	}
	servers := s.iceServers(v.Role + "-check")
	if servers == nil {
		servers = []ICEServer{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"iceServers": servers})
}

// ServeProbe answers POST /visit/{token}/probe, {"sdp": offer} → {"sdp":
// answer}: a data-channel-only connection that shows the page whether it
// reaches the media port (or TURN).
func (s *Server) ServeProbe(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.resolveJSON(w, r); !ok {
		return
	}
	s.Probe(w, r)
}

// Probe is the connection check without a visit link (the admin
// self-test, behind a staff session).
func (s *Server) Probe(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SDP string `json:"sdp"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&in); err != nil || in.SDP == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"message": "body must be {\"sdp\": \"<offer>\"}"}})
		return
	}
	select {
	case s.probes <- struct{}{}:
		defer func() { <-s.probes }()
	default:
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": map[string]string{"message": "too many connection checks at once; try again in a moment"}})
		return
	}
	answer, err := s.media.probe(in.SDP, 20*time.Second)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"message": err.Error()}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"sdp": answer})
}

// ServeCheckICE answers the admin self-test: the TURN servers with a fresh
// credential (behind a staff session, no visit link).
func (s *Server) ServeCheckICE(w http.ResponseWriter, r *http.Request) {
	servers := s.iceServers("selftest")
	if servers == nil {
		servers = []ICEServer{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"iceServers": servers})
}

// Ports are the ports in use: media (UDP, and TCP for ICE-TCP) and TURN.
func (s *Server) Ports() (media, turnUDP, turnTCP, turnTLS int) {
	u, t, l := s.TURNPorts()
	return s.MediaPort(), u, t, l
}

func (s *Server) resolveJSON(w http.ResponseWriter, r *http.Request) (Visit, bool) {
	v, err := s.visits.Resolve(r.Context(), r.PathValue("token"))
	switch {
	case errors.Is(err, ErrLinkNotFound):
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{"message": "visit link not found"}})
	case errors.Is(err, ErrLinkExpired):
		writeJSON(w, http.StatusGone, map[string]any{"error": map[string]string{"message": "visit link expired"}})
	case err != nil:
		s.log.Error("video link", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"message": "internal error"}})
	default:
		return v, true
	}
	return v, false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
