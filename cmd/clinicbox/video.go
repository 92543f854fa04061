package main

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/video"
)

// startVideo starts the media server on the configured ports.
func startVideo(cfg *serveConfig, st *store.Store, log *slog.Logger) (*video.Server, error) {
	vc := video.Config{
		MediaAddr:  ":" + strconv.Itoa(cfg.Video.MediaPort),
		PublicIPs:  cfg.Video.PublicIPs,
		PublicHost: cfg.Video.PublicHost,
		// A browser on the appliance itself (the front desk) reaches it
		// on loopback.
		LoopbackCandidates: true,
	}
	if cfg.Video.TURNPort != 0 {
		vc.TURN = &video.TURNConfig{Addr: ":" + strconv.Itoa(cfg.Video.TURNPort), Host: cfg.Video.PublicHost, RelayIP: relayIP()}
	}
	s, err := video.New(vc, video.StoreVisits{Store: st}, log)
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	udp, tcp, _ := s.TURNPorts()
	log.Info("video media server", "media_port", s.MediaPort(), "turn_udp", udp, "turn_tcp", tcp, "public_ips", cfg.Video.PublicIPs)
	return s, nil
}

// relayIP is the address TURN relays open on: the media server on this box
// talks to them from its LAN address.
func relayIP() net.IP {
	for _, ip := range lanAddrs() {
		if ip.To4() != nil {
			return ip
		}
	}
	return net.IPv4(127, 0, 0, 1)
}
