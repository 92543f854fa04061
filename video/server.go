package video

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Config is the media server's configuration.
type Config struct {
	// MediaAddr is the one UDP port all media uses (and the ICE-TCP port,
	// the same number over TCP), e.g. ":8443" or "127.0.0.1:0".
	MediaAddr string
	// MediaConn, when set, is the media socket instead of one opened on
	// MediaAddr (a socket handed over by a service manager, or a test
	// that cuts one browser's path); ICE-TCP listens on its port.
	MediaConn net.PacketConn
	// NoTCP turns ICE over TCP off.
	NoTCP bool
	// PublicIPs are announced instead of the interfaces' addresses (a
	// clinic behind NAT with the media port forwarded).
	PublicIPs []string
	// PublicHost is the name browsers reach TURN at; default: the first
	// public IP, else the host browsers loaded the page from.
	PublicHost string
	// TURN, when set, runs the embedded TURN server.
	TURN *TURNConfig
	// RejoinGrace is how long someone whose connection dropped may come
	// back before the visit counts them as gone (LWBS, incomplete).
	RejoinGrace time.Duration
	// LoopbackCandidates offers 127.0.0.1 (tests, a browser on the box).
	LoopbackCandidates bool
	// BaselineRelay forwards the way a plain pion read-and-write relay
	// does: only for the load benchmark's comparison.
	BaselineRelay bool
}

// Server is the appliance's media server: signalling, rooms, forwarding.
type Server struct {
	cfg    Config
	log    *slog.Logger
	visits Visits
	rooms  Rooms
	media  *mediaEngine
	turn   *turnServer
	ids    atomic.Uint64
	probes chan struct{} // connection checks running at once
}

// New starts the media server: it listens on the media port (UDP and TCP)
// and, if configured, the TURN ports.
func New(cfg Config, visits Visits, log *slog.Logger) (*Server, error) {
	if cfg.RejoinGrace == 0 {
		cfg.RejoinGrace = 45 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	udp, tcp, err := listenMedia(cfg)
	if err != nil {
		return nil, err
	}
	if uc, ok := udp.(*net.UDPConn); ok {
		// Every call shares this socket: a deep buffer rides out the
		// moments the server is not scheduled (the kernel caps it at
		// net.core.rmem_max / wmem_max).
		uc.SetReadBuffer(8 << 20)
		uc.SetWriteBuffer(8 << 20)
	}
	s := &Server{cfg: cfg, log: log, visits: visits, rooms: newMemRooms(), probes: make(chan struct{}, 16)}
	s.media = newMediaEngine(log, udp, tcp, cfg.PublicIPs, cfg.LoopbackCandidates)
	s.media.baseline = cfg.BaselineRelay
	if cfg.TURN != nil {
		s.turn, err = startTURN(*cfg.TURN, log)
		if err != nil {
			s.media.close()
			return nil, err
		}
	}
	return s, nil
}

func tcpAddrFor(addr string, udp net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return net.JoinHostPort(host, strconv.Itoa(udp.(*net.UDPAddr).Port))
}

// MediaPort is the UDP (and ICE-TCP) port in use.
func (s *Server) MediaPort() int { return s.media.udp.LocalAddr().(*net.UDPAddr).Port }

// TURNPorts are the TURN ports in use (0 when off).
func (s *Server) TURNPorts() (udp, tcp, tls int) {
	if s.turn == nil {
		return 0, 0, 0
	}
	return s.turn.ports()
}

// StartTURNS adds TURN over TLS on port (0: off), with the HTTPS port's
// TLS configuration (and so its certificate, reloaded with it).
func (s *Server) StartTURNS(port int, cfg *tls.Config) error {
	if port == 0 || s.turn == nil {
		return nil
	}
	return s.turn.startTLS(":"+strconv.Itoa(port), cfg)
}

// Close stops listening and ends every call.
func (s *Server) Close() error {
	s.media.close()
	if s.turn != nil {
		s.turn.close()
	}
	return nil
}

func (s *Server) newID() string { return "p" + strconv.FormatUint(s.ids.Add(1), 10) }

func (s *Server) iceServers(user string) []ICEServer {
	if s.turn == nil {
		return nil
	}
	return s.turn.iceServers(user)
}

func (s *Server) chatHistory(key RoomKey) []ChatLine {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lines, err := s.visits.Chat(ctx, key.OrgID, key.AppointmentID)
	if err != nil {
		s.log.Warn("video chat history", "err", err)
	}
	if lines == nil {
		lines = []ChatLine{}
	}
	return lines
}

// Visit is what a visit link grants.
type Visit struct {
	OrgID, AppointmentID int64
	Role                 string // provider, patient, guest
	Token                string
	Name                 string // shown to the others
	Open                 bool   // the visit has not ended
}

// Errors of Visits.Resolve.
var (
	ErrLinkNotFound = errors.New("visit link not found")
	ErrLinkExpired  = errors.New("visit link expired")
)

// Visits is what the media server needs from the clinic model.
type Visits interface {
	Resolve(ctx context.Context, token string) (Visit, error)
	Record(ctx context.Context, orgID, apptID int64, c store.VideoChange) error
	AddChat(ctx context.Context, orgID, apptID int64, role, name, text string) (ChatLine, error)
	Chat(ctx context.Context, orgID, apptID int64) ([]ChatLine, error)
}

// LinkLifetime is how long after an appointment's planned end its links
// work (the visit pages use the same rule).
const LinkLifetime = 24 * time.Hour

// StoreVisits reads visits from the store.
type StoreVisits struct{ Store *store.Store }

// Resolve finds the visit of a link token.
func (v StoreVisits) Resolve(ctx context.Context, token string) (Visit, error) {
	a, role, err := v.Store.AppointmentByToken(ctx, token)
	if errors.Is(err, store.ErrNotFound) {
		return Visit{}, ErrLinkNotFound
	}
	if err != nil {
		return Visit{}, err
	}
	if v.Store.Now().After(a.End().Add(LinkLifetime)) {
		return Visit{}, ErrLinkExpired
	}
	out := Visit{OrgID: a.OrgID, AppointmentID: a.ID, Role: role, Token: token, Open: a.Open()}
	switch role {
	case "provider":
		out.Name = "Clinician"
		if a.ProviderID != 0 {
			if u, err := v.Store.User(ctx, a.OrgID, a.ProviderID); err == nil && u.Name != "" {
				out.Name = u.Name
			}
		}
	case "patient":
		out.Name = "Patient"
		if p, err := v.Store.Patient(ctx, a.OrgID, a.PatientID); err == nil {
			out.Name = p.DisplayName()
		}
	}
	return out, nil
}

// Record applies a change of the call to the appointment.
func (v StoreVisits) Record(ctx context.Context, orgID, apptID int64, c store.VideoChange) error {
	_, err := v.Store.RecordVideo(ctx, orgID, apptID, c)
	return err
}

// AddChat keeps a chat line with the visit.
func (v StoreVisits) AddChat(ctx context.Context, orgID, apptID int64, role, name, text string) (ChatLine, error) {
	m := &store.ChatMessage{AppointmentID: apptID, AuthorRole: role, AuthorName: name, Body: text}
	if err := v.Store.AddVisitChat(ctx, orgID, m); err != nil {
		var ve *store.ValidationError
		if errors.As(err, &ve) {
			return ChatLine{}, fmt.Errorf("chat message %s", ve.Fields["body"])
		}
		return ChatLine{}, err
	}
	return chatLine(*m), nil
}

// Chat lists the visit's chat.
func (v StoreVisits) Chat(ctx context.Context, orgID, apptID int64) ([]ChatLine, error) {
	ms, err := v.Store.VisitChat(ctx, orgID, apptID)
	if err != nil {
		return nil, err
	}
	out := make([]ChatLine, len(ms))
	for i, m := range ms {
		out[i] = chatLine(m)
	}
	return out, nil
}

func chatLine(m store.ChatMessage) ChatLine {
	return ChatLine{Role: m.AuthorRole, Name: m.AuthorName, Text: m.Body, At: m.CreatedAt.UTC().Format(time.RFC3339)}
}

// listenMedia opens the media port over UDP and, unless turned off, the same
// port number over TCP, for networks that block UDP. When the port is left
// to the kernel (":0", as in tests), the number it picks for UDP may already
// be taken over TCP, so it tries a few fresh numbers before giving up.
func listenMedia(cfg Config) (net.PacketConn, net.Listener, error) {
	if cfg.MediaConn != nil {
		if cfg.NoTCP {
			return cfg.MediaConn, nil, nil
		}
		host, _, _ := net.SplitHostPort(cfg.MediaConn.LocalAddr().String())
		port := cfg.MediaConn.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, nil, fmt.Errorf("media port (TCP): %w", err)
		}
		return cfg.MediaConn, tcp, nil
	}
	if cfg.NoTCP {
		udp, err := net.ListenPacket("udp", cfg.MediaAddr)
		if err != nil {
			return nil, nil, fmt.Errorf("media port: %w", err)
		}
		return udp, nil, nil
	}
	udp, tcp, err := listenUDPAndTCP("udp", "tcp", cfg.MediaAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("media port: %w", err)
	}
	return udp, tcp, nil
}

// listenUDPAndTCP opens addr over UDP and the same port number over TCP
// (the media port, the TURN port). When the port is left to the kernel
// (":0", as in tests), the number it picks for UDP may already be taken
// over TCP, so it tries a few fresh numbers before giving up.
func listenUDPAndTCP(udpNet, tcpNet, addr string) (net.PacketConn, net.Listener, error) {
	kernelPicks := strings.HasSuffix(addr, ":0")
	for attempt := 0; ; attempt++ {
		udp, err := net.ListenPacket(udpNet, addr)
		if err != nil {
			return nil, nil, err
		}
		tcp, err := net.Listen(tcpNet, tcpAddrFor(addr, udp.LocalAddr()))
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		if !kernelPicks || attempt == 9 {
			return nil, nil, fmt.Errorf("the same port over TCP: %w", err)
		}
	}
}
