package video

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/pion/turn/v4"
)

// TURNConfig configures the embedded TURN server.
type TURNConfig struct {
	// Addr is the TURN port, UDP and TCP (e.g. ":3478").
	Addr string
	// TLSAddr is TURN over TLS (e.g. ":5349"); empty: off.
	TLSAddr string
	// TLS serves TURNS with the appliance's own certificate.
	TLS *tls.Config
	// Host is the name or address browsers use to reach TURN.
	Host string
	// RelayIP is the address relays are opened on. Only the media server
	// on this same box talks to a relay, so it is one of the appliance's
	// own addresses and never needs a firewall rule.
	RelayIP net.IP
	// CredentialLifetime is how long a call's TURN credential works.
	CredentialLifetime time.Duration
}

type turnServer struct {
	cfg    TURNConfig
	secret string
	srv    *turn.Server
	tlsSrv *turn.Server
	udp    net.PacketConn
	tcp    net.Listener
	tls    net.Listener
}

func startTURN(cfg TURNConfig, log *slog.Logger) (*turnServer, error) {
	if cfg.CredentialLifetime == 0 {
		cfg.CredentialLifetime = 3 * time.Hour
	}
	if cfg.RelayIP == nil {
		cfg.RelayIP = net.IPv4(127, 0, 0, 1)
	}
	b := make([]byte, 32)
	rand.Read(b)
	t := &turnServer{cfg: cfg, secret: base64.RawStdEncoding.EncodeToString(b)}
	var err error
	if t.udp, t.tcp, err = listenUDPAndTCP("udp4", "tcp4", cfg.Addr); err != nil {
		return nil, fmt.Errorf("turn port: %w", err)
	}
	sc := t.serverConfig()
	sc.PacketConnConfigs = []turn.PacketConnConfig{{PacketConn: t.udp, RelayAddressGenerator: t.relay(), PermissionHandler: ownPeer}}
	sc.ListenerConfigs = []turn.ListenerConfig{{Listener: t.tcp, RelayAddressGenerator: t.relay(), PermissionHandler: ownPeer}}
	if t.srv, err = turn.NewServer(sc); err != nil {
		t.closeListeners()
		return nil, fmt.Errorf("turn: %w", err)
	}
	log.Info("TURN server", "udp", t.udp.LocalAddr().String(), "tcp", t.tcp.Addr().String())
	if cfg.TLSAddr != "" && cfg.TLS != nil {
		if err := t.startTLS(cfg.TLSAddr, cfg.TLS); err != nil {
			t.close()
			return nil, err
		}
	}
	return t, nil
}

// startTLS adds TURN over TLS, with the certificate the HTTPS port serves.
func (t *turnServer) startTLS(addr string, cfg *tls.Config) error {
	var err error
	if t.tls, err = tls.Listen("tcp", addr, cfg); err != nil {
		return fmt.Errorf("turns port: %w", err)
	}
	sc := t.serverConfig()
	sc.ListenerConfigs = []turn.ListenerConfig{{Listener: t.tls, RelayAddressGenerator: t.relay(), PermissionHandler: ownPeer}}
	if t.tlsSrv, err = turn.NewServer(sc); err != nil {
		t.tls.Close()
		t.tls = nil
		return fmt.Errorf("turns: %w", err)
	}
	return nil
}

func (t *turnServer) serverConfig() turn.ServerConfig {
	return turn.ServerConfig{Realm: "clinicbox", AuthHandler: turn.LongTermTURNRESTAuthHandler(t.secret, nil)}
}

func (t *turnServer) relay() turn.RelayAddressGenerator {
	return &turn.RelayAddressGeneratorStatic{RelayAddress: t.cfg.RelayIP, Address: t.cfg.RelayIP.String()}
}

// ownPeer lets relays reach only the appliance itself: the embedded TURN
// server is no open relay into the clinic's network or the internet.
func ownPeer(_ net.Addr, peer net.IP) bool { return isOwnAddress(peer) }

func isOwnAddress(ip net.IP) bool {
	if ip.IsLoopback() {
		return true
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

func (t *turnServer) closeListeners() {
	t.udp.Close()
	t.tcp.Close()
	if t.tls != nil {
		t.tls.Close()
	}
}

func (t *turnServer) close() {
	t.srv.Close()
	if t.tlsSrv != nil {
		t.tlsSrv.Close()
	}
}

func (t *turnServer) ports() (udp, tcp, tls int) {
	udp = t.udp.LocalAddr().(*net.UDPAddr).Port
	tcp = t.tcp.Addr().(*net.TCPAddr).Port
	if t.tls != nil {
		tls = t.tls.Addr().(*net.TCPAddr).Port
	}
	return
}

// iceServers hands one participant a credential that expires with the
// call's lifetime (the TURN REST scheme: expiry:user, HMAC of the secret).
func (t *turnServer) iceServers(user string) []ICEServer {
	name, pass, err := turn.GenerateLongTermTURNRESTCredentials(t.secret, user, t.cfg.CredentialLifetime)
	if err != nil {
		return nil
	}
	udp, tcp, tlsPort := t.ports()
	host := t.cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	urls := []string{
		"turn:" + net.JoinHostPort(host, strconv.Itoa(udp)) + "?transport=udp",
		"turn:" + net.JoinHostPort(host, strconv.Itoa(tcp)) + "?transport=tcp",
	}
	if tlsPort != 0 {
		urls = append(urls, "turns:"+net.JoinHostPort(host, strconv.Itoa(tlsPort))+"?transport=tcp")
	}
	return []ICEServer{{URLs: urls, Username: name, Credential: pass}}
}
