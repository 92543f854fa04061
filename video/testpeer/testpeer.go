package testpeer

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"github.com/clinicbox/clinicbox/video"
)

// Options configure a peer.
type Options struct {
	// URL is the signalling endpoint, wss://host/visit/{token}/ws.
	URL string
	// TLS for the WebSocket (tests trust their own server).
	TLS *tls.Config
	// Send: which of its own tracks the peer sends (microphone, camera).
	Audio, Video bool
	// RelayOnly uses only the TURN relay from the welcome message,
	// TURNTransport picks "udp" or "tcp" among its URLs.
	RelayOnly     bool
	TURNTransport string
	// Net replaces the network (tests that move the peer's address).
	Net transport.Net
	// OnRTP is called for every packet received (kind audio or video);
	// the packet is reused after the call returns.
	OnRTP func(kind string, p *rtp.Packet)
	// AcceptResent turns SRTP replay protection off, so that a packet the
	// server resends after a NACK reaches OnRTP even when the first copy
	// arrived (tests of NACK handling).
	AcceptResent bool
	// Simulcast sends the camera as three layers, RIDs q, h and f (low
	// to high), written with WriteLayer; needs Video.
	Simulcast bool
	// Light drops the interceptors (NACK, reports, statistics, TWCC): a
	// load generator's peers should cost as little as possible.
	Light bool
}

// Peer is one participant.
type Peer struct {
	opts    Options
	ws      *websocket.Conn
	ctx     context.Context
	cancel  context.CancelFunc
	Welcome video.ServerMessage

	msgs chan video.ServerMessage

	mu       sync.Mutex
	pc       *webrtc.PeerConnection
	audio    *webrtc.TrackLocalStaticRTP
	vid      *webrtc.TrackLocalStaticRTP
	layers   [3]*webrtc.TrackLocalStaticRTP
	vidSend  *webrtc.RTPSender
	layerPLI [3]atomic.Uint64
	remotes  []*webrtc.TrackRemote
	states   []webrtc.PeerConnectionState
	stateCh  chan webrtc.PeerConnectionState
	offers   atomic.Int64
	recvA    atomic.Uint64
	recvV    atomic.Uint64
	plis     atomic.Uint64
	remb     atomic.Uint64 // the last bitrate the server asked for (REMB), bits/s
	sentErrs atomic.Uint64
}

// Join connects to the visit and reads the welcome message.
func Join(ctx context.Context, o Options) (*Peer, error) {
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: o.TLS}}
	u := o.URL
	origin := strings.Replace(strings.Replace(u, "wss://", "https://", 1), "ws://", "http://", 1)
	origin = origin[:strings.Index(origin[8:], "/")+8]
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc,
		HTTPHeader: http.Header{"Origin": []string{origin}}})
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	p := &Peer{opts: o, ws: ws, msgs: make(chan video.ServerMessage, 256), stateCh: make(chan webrtc.PeerConnectionState, 16)}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	if err := wsjson.Read(ctx, ws, &p.Welcome); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("welcome: %w", err)
	}
	if p.Welcome.Type != "welcome" {
		ws.CloseNow()
		return nil, fmt.Errorf("expected welcome, got %q (%s)", p.Welcome.Type, p.Welcome.Message)
	}
	go p.readLoop()
	return p, nil
}

// Messages are the server's messages other than offers, which the peer
// answers itself.
func (p *Peer) Messages() <-chan video.ServerMessage { return p.msgs }

// WaitFor returns the next message of type typ, skipping others.
func (p *Peer) WaitFor(ctx context.Context, typ string) (video.ServerMessage, error) {
	for {
		select {
		case <-ctx.Done():
			return video.ServerMessage{}, fmt.Errorf("waiting for %q: %w", typ, ctx.Err())
		case m, ok := <-p.msgs:
			if !ok {
				return video.ServerMessage{}, fmt.Errorf("waiting for %q: connection closed", typ)
			}
			if m.Type == typ {
				return m, nil
			}
		}
	}
}

// Send sends a message to the server.
func (p *Peer) Send(ctx context.Context, m video.ClientMessage) error {
	return wsjson.Write(ctx, p.ws, m)
}

func (p *Peer) readLoop() {
	defer close(p.msgs)
	for {
		var m video.ServerMessage
		if err := wsjson.Read(p.ctx, p.ws, &m); err != nil {
			return
		}
		if m.Type == "offer" {
			if err := p.onOffer(m); err != nil {
				p.msgs <- video.ServerMessage{Type: "error", Message: "client: " + err.Error()}
			}
			continue
		}
		select {
		case p.msgs <- m:
		default: // a test that does not read them does not block the peer
		}
	}
}

func (p *Peer) newPC() (*webrtc.PeerConnection, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	if p.opts.Simulcast {
		if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
			return nil, err
		}
	}
	reg := &interceptor.Registry{}
	if !p.opts.Light {
		if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
			return nil, err
		}
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	se.SetICETimeouts(2*time.Second, 6*time.Second, 500*time.Millisecond)
	if p.opts.Net != nil {
		se.SetNet(p.opts.Net)
	}
	if p.opts.AcceptResent {
		se.DisableSRTPReplayProtection(true)
	}
	cfg := webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle}
	if p.opts.RelayOnly {
		// pion's active ICE-TCP candidates ignore the relay-only policy.
		se.DisableActiveTCP(true)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
		for _, s := range p.Welcome.ICEServers {
			var urls []string
			for _, u := range s.URLs {
				if strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "transport="+p.opts.TURNTransport) {
					urls = append(urls, u)
				}
			}
			cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
		}
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(cfg)
	if err != nil {
		return nil, err
	}
	if p.opts.Audio {
		p.audio, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "me")
		if _, err := pc.AddTrack(p.audio); err != nil {
			return nil, err
		}
	}
	if p.opts.Video && p.opts.Simulcast {
		if err := p.addLayers(pc); err != nil {
			return nil, err
		}
	} else if p.opts.Video {
		p.vid, _ = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "me")
		s, err := pc.AddTrack(p.vid)
		if err != nil {
			return nil, err
		}
		go func() {
			for {
				pkts, _, err := s.ReadRTCP()
				if err != nil {
					return
				}
				for _, k := range pkts {
					switch k := k.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						p.plis.Add(1)
					case *rtcp.ReceiverEstimatedMaximumBitrate:
						p.remb.Store(uint64(k.Bitrate))
					}
				}
			}
		}()
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		p.mu.Lock()
		p.remotes = append(p.remotes, t)
		p.mu.Unlock()
		kind := t.Kind().String()
		ctr := &p.recvA
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			ctr = &p.recvV
		}
		buf := make([]byte, 1500)
		var pkt rtp.Packet
		for {
			n, _, err := t.Read(buf)
			if err != nil {
				return
			}
			ctr.Add(1)
			if p.opts.OnRTP != nil && pkt.Unmarshal(buf[:n]) == nil {
				p.opts.OnRTP(kind, &pkt)
			}
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.mu.Lock()
		p.states = append(p.states, s)
		p.mu.Unlock()
		select {
		case p.stateCh <- s:
		default:
		}
	})
	return pc, nil
}

func (p *Peer) onOffer(m video.ServerMessage) error {
	p.mu.Lock()
	pc := p.pc
	p.mu.Unlock()
	if pc == nil {
		var err error
		if pc, err = p.newPC(); err != nil {
			return err
		}
		p.mu.Lock()
		p.pc = pc
		p.mu.Unlock()
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
		return fmt.Errorf("remote offer: %w", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	done := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return err
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	p.offers.Add(1)
	return p.Send(p.ctx, video.ClientMessage{Type: "answer", SDP: pc.LocalDescription().SDP})
}

// WaitConnected waits for the peer connection to be connected.
func (p *Peer) WaitConnected(ctx context.Context) error {
	for {
		p.mu.Lock()
		pc := p.pc
		p.mu.Unlock()
		if pc != nil && pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not connected: %w", ctx.Err())
		case <-p.stateCh:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// States are the connection states seen, in order.
func (p *Peer) States() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.states))
	for i, s := range p.states {
		out[i] = s.String()
	}
	return out
}

// HasPeerConnection reports whether the server ever made an offer.
func (p *Peer) HasPeerConnection() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pc != nil
}

// Received counts the packets received per kind.
func (p *Peer) Received() (audio, video uint64) { return p.recvA.Load(), p.recvV.Load() }

// PLIs counts the keyframe requests that reached this peer as a sender.
func (p *Peer) PLIs() uint64 { return p.plis.Load() }

// REMB is the last bitrate the server asked this peer's camera for (0:
// none yet).
func (p *Peer) REMB() uint64 { return p.remb.Load() }

// SendNACK asks the server to resend packets of the video it forwards here.
func (p *Peer) SendNACK(seqs ...uint16) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.remotes {
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			nack := &rtcp.TransportLayerNack{MediaSSRC: uint32(t.SSRC())}
			for _, s := range seqs {
				nack.Nacks = append(nack.Nacks, rtcp.NackPair{PacketID: s})
			}
			return p.pc.WriteRTCP([]rtcp.Packet{nack})
		}
	}
	return errors.New("no video received yet")
}

// Offers counts the server's offers answered.
func (p *Peer) Offers() int64 { return p.offers.Load() }

// SelectedRelay reports whether the connection runs through a TURN relay.
func (p *Peer) SelectedRelay() bool {
	p.mu.Lock()
	pc := p.pc
	p.mu.Unlock()
	if pc == nil {
		return false
	}
	for _, s := range pc.GetSenders() {
		if s.Transport() == nil {
			continue
		}
		pair, err := s.Transport().ICETransport().GetSelectedCandidatePair()
		if err == nil && pair != nil {
			return pair.Local.Typ == webrtc.ICECandidateTypeRelay
		}
	}
	return false
}

// WriteAudio and WriteVideo send a packet on the peer's own tracks.
func (p *Peer) WriteAudio(pkt *rtp.Packet) error { return p.write(p.audio, pkt) }

// WriteVideo sends a video packet.
func (p *Peer) WriteVideo(pkt *rtp.Packet) error { return p.write(p.vid, pkt) }

func (p *Peer) write(t *webrtc.TrackLocalStaticRTP, pkt *rtp.Packet) error {
	if t == nil {
		return errors.New("track not sent")
	}
	err := t.WriteRTP(pkt)
	if err != nil {
		p.sentErrs.Add(1)
	}
	return err
}

// RequestKeyframes sends a PLI for every video track received.
func (p *Peer) RequestKeyframes() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pkts []rtcp.Packet
	for _, t := range p.remotes {
		if t.Kind() == webrtc.RTPCodecTypeVideo {
			pkts = append(pkts, &rtcp.PictureLossIndication{MediaSSRC: uint32(t.SSRC())})
		}
	}
	if len(pkts) == 0 {
		return errors.New("no video received yet")
	}
	return p.pc.WriteRTCP(pkts)
}

// Close hangs up: "leave" when polite, else the connection just drops.
func (p *Peer) Close(polite bool) {
	if polite {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		p.Send(ctx, video.ClientMessage{Type: "leave"}) //nolint:errcheck // hanging up anyway
		cancel()
	}
	p.cancel()
	p.ws.CloseNow()
	p.mu.Lock()
	pc := p.pc
	p.mu.Unlock()
	if pc != nil {
		pc.Close()
	}
}

// Debug is a one-line summary for test failures.
func (p *Peer) Debug() string {
	a, v := p.Received()
	b, _ := json.Marshal(map[string]any{"audio": a, "video": v, "plis": p.PLIs(), "offers": p.Offers(), "states": p.States()})
	return string(b)
}

// SimulcastRIDs are the layers a Simulcast peer sends, low to high.
var SimulcastRIDs = [3]string{"q", "h", "f"}

func (p *Peer) addLayers(pc *webrtc.PeerConnection) error {
	var layers [3]*webrtc.TrackLocalStaticRTP
	for i, rid := range SimulcastRIDs {
		t, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			"video", "me", webrtc.WithRTPStreamID(rid))
		if err != nil {
			return err
		}
		layers[i] = t
	}
	s, err := pc.AddTrack(layers[0])
	if err != nil {
		return err
	}
	for _, t := range layers[1:] {
		if err := s.AddEncoding(t); err != nil {
			return err
		}
	}
	p.mu.Lock()
	p.layers, p.vidSend = layers, s
	p.mu.Unlock()
	for i, rid := range SimulcastRIDs {
		go func() {
			for {
				pkts, _, err := s.ReadSimulcastRTCP(rid)
				if err != nil {
					return
				}
				for _, k := range pkts {
					switch k := k.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						p.layerPLI[i].Add(1)
						p.plis.Add(1)
					case *rtcp.ReceiverEstimatedMaximumBitrate:
						p.remb.Store(uint64(k.Bitrate))
					}
				}
			}
		}()
	}
	return nil
}

// LayerPLIs counts the keyframe requests that reached each simulcast layer
// (q, h, f).
func (p *Peer) LayerPLIs() [3]uint64 {
	var out [3]uint64
	for i := range out {
		out[i] = p.layerPLI[i].Load()
	}
	return out
}

// WriteLayer sends a packet on simulcast layer i (0 q, 1 h, 2 f), with the
// MID and RID header extensions a browser puts on them.
func (p *Peer) WriteLayer(i int, pkt *rtp.Packet) error {
	p.mu.Lock()
	s, pc, t := p.vidSend, p.pc, p.layers[i]
	p.mu.Unlock()
	if s == nil || pc == nil {
		return errors.New("not sending simulcast")
	}
	var midID, ridID int
	for _, e := range s.GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = e.ID
		case sdp.SDESRTPStreamIDURI:
			ridID = e.ID
		}
	}
	if midID == 0 || ridID == 0 {
		return errors.New("the MID and RID header extensions were not negotiated")
	}
	var mid string
	for _, tr := range pc.GetTransceivers() {
		if tr.Sender() == s {
			mid = tr.Mid()
		}
	}
	pkt.Header.Extension = true
	pkt.Header.ExtensionProfile = 0xBEDE
	pkt.Header.Extensions = pkt.Header.Extensions[:0]
	if err := pkt.Header.SetExtension(uint8(midID), []byte(mid)); err != nil {
		return err
	}
	if err := pkt.Header.SetExtension(uint8(ridID), []byte(SimulcastRIDs[i])); err != nil {
		return err
	}
	return p.write(t, pkt)
}

// SendREMB tells the server, as a browser's bandwidth estimate does, that
// this peer can download no more than bitrate bits/s.
func (p *Peer) SendREMB(bitrate float32) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ssrcs []uint32
	for _, t := range p.remotes {
		ssrcs = append(ssrcs, uint32(t.SSRC()))
	}
	if len(ssrcs) == 0 {
		return errors.New("nothing received yet")
	}
	return p.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: bitrate, SSRCs: ssrcs}})
}
