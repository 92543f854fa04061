package video

// This is the only file that knows pion/webrtc's types. The room logic sees
// a participant's connection as a peer, its incoming streams as upTracks and
// what it forwards to others as downTracks.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// peer is one participant's connection to the media server.
type peer interface {
	answer(sdp string) error
	addCandidate(c Candidate) error
	restartICE()
	// forward starts sending up to this participant, in the stream
	// streamID (the browser groups a participant's audio and video by it).
	forward(up upTrack, streamID string) (downTrack, error)
	close()
}

// upTrack is one stream a participant sends (their microphone, camera or
// screen).
type upTrack interface {
	source() string // microphone, camera, screen
	kind() string   // audio, video
	requestKeyframe()
	// forwarded counts the packets sent on to others.
	forwarded() uint64
}

// downTrack is one stream forwarded to a participant.
type downTrack interface {
	stop()
}

// peerEvents is how a peer tells its participant what happened.
type peerEvents interface {
	upTrackStarted(upTrack)
	upTrackEnded(upTrack)
	connState(state string) // connected, disconnected, failed, closed
	signal(msg ServerMessage)
}

// Candidate is an ICE candidate as browsers send it.
type Candidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// ICEServer is a STUN/TURN server handed to a browser.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// mediaEngine holds what every peer connection shares: the single UDP port,
// the ICE-TCP listener and the network settings.
type mediaEngine struct {
	log     *slog.Logger
	udp     net.PacketConn
	tcp     net.Listener
	udpMux  ice.UDPMux
	tcpMux  ice.TCPMux
	nat1to1 []string
	// loopback: offer 127.0.0.1 candidates (tests and a browser on the
	// appliance itself).
	loopback bool
	maxRate  int  // bits/s a video sender is never asked to exceed
	baseline bool // forward as a plain pion relay (benchmark comparison only)
}

func newMediaEngine(log *slog.Logger, udp net.PacketConn, tcp net.Listener, publicIPs []string, loopback bool) *mediaEngine {
	m := &mediaEngine{log: log, udp: udp, tcp: tcp, nat1to1: publicIPs, loopback: loopback, maxRate: 2_500_000}
	lf := pionLogs{log}
	m.udpMux = webrtc.NewICEUDPMux(lf.NewLogger("ice-udp"), udp)
	if tcp != nil {
		m.tcpMux = webrtc.NewICETCPMux(lf.NewLogger("ice-tcp"), tcp, 32)
	}
	return m
}

func (m *mediaEngine) close() {
	m.udpMux.Close()
	if m.tcpMux != nil {
		m.tcpMux.Close()
	}
}

// registerCodecs lists what the server forwards: Opus, VP8 and H.264
// (constrained baseline and high, packetization mode 1, what iPhones send).
func registerCodecs(me *webrtc.MediaEngine) error {
	videoFB := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
		{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	codecs := []struct {
		c    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
			ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8,
			ClockRate: 90000, RTCPFeedback: videoFB}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264,
			ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			RTCPFeedback: videoFB}, PayloadType: 102}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264,
			ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f",
			RTCPFeedback: videoFB}, PayloadType: 112}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := me.RegisterCodec(c.c, c.kind); err != nil {
			return err
		}
	}
	return nil
}

// registerInterceptors: pion's defaults without the statistics interceptor,
// which the server never reads and which costs time on every packet (the
// baseline relay keeps pion's defaults).
func registerInterceptors(me *webrtc.MediaEngine, reg *interceptor.Registry, defaults bool, lf logging.LoggerFactory) error {
	if defaults {
		return webrtc.RegisterDefaultInterceptorsWithOptions(me, reg, webrtc.WithInterceptorLoggerFactory(lf))
	}
	if err := webrtc.ConfigureNackWithOptions(me, reg, []nack.GeneratorOption{nack.WithGeneratorLoggerFactory(lf)},
		nack.WithResponderLoggerFactory(lf)); err != nil {
		return err
	}
	if err := webrtc.ConfigureRTCPReportsWithOptions(reg, []report.ReceiverOption{report.WithReceiverLoggerFactory(lf)},
		report.WithSenderLoggerFactory(lf)); err != nil {
		return err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return err
	}
	return webrtc.ConfigureTWCCSenderWithOptions(me, reg, twcc.WithLoggerFactory(lf))
}

// pionPeer is a participant's peer connection.
type pionPeer struct {
	m      *mediaEngine
	pc     *webrtc.PeerConnection
	ev     peerEvents
	slots  map[string]string // mid → source, filled after the first offer
	recv   []*webrtc.RTPTransceiver
	srcs   []string
	bwe    atomic.Pointer[cc.BandwidthEstimator]
	remb   atomic.Uint64 // the last REMB this participant sent as a viewer, bits/s
	rembAt atomic.Int64  // when, Unix ns
	closed atomic.Bool

	mu          sync.Mutex
	negotiating bool // an offer is out, waiting for its answer
	pending     bool // another offer is needed after that
	restart     bool
	timer       *time.Timer
	ups         []*upstream
	downs       map[*downstream]*webrtc.RTPSender
}

// newPeer makes a connection that receives the given sources (microphone,
// camera, and screen for the clinician) and sends the first offer.
func (m *mediaEngine) newPeer(ev peerEvents, sources []string) (*pionPeer, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me); err != nil {
		return nil, fmt.Errorf("codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	// NACKs both ways, RTCP reports, TWCC feedback for what browsers send
	// (their own congestion control adapts their upload to it).
	if err := registerInterceptors(me, reg, m.baseline, pionLogs{m.log}); err != nil {
		return nil, fmt.Errorf("interceptors: %w", err)
	}
	// Send-side estimate of each participant's download, from the TWCC
	// feedback their browser returns: it caps what the senders are asked
	// for. No pacer: packets go out as they come.
	p := &pionPeer{m: m, ev: ev, downs: map[*downstream]*webrtc.RTPSender{}}
	ccf, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(1_000_000), gcc.SendSideBWEMaxBitrate(m.maxRate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	})
	if err != nil {
		return nil, fmt.Errorf("congestion control: %w", err)
	}
	ccf.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) { p.bwe.Store(&e) })
	reg.Add(ccf)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, reg); err != nil {
		return nil, fmt.Errorf("twcc: %w", err)
	}
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{m.log}}
	se.SetICEUDPMux(m.udpMux)
	if m.tcpMux != nil {
		se.SetICETCPMux(m.tcpMux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(m.loopback)
	if len(m.nat1to1) > 0 {
		se.SetNAT1To1IPs(m.nat1to1, webrtc.ICECandidateTypeHost)
	}
	se.SetICETimeouts(4*time.Second, 15*time.Second, time.Second)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire})
	if err != nil {
		return nil, fmt.Errorf("peer connection: %w", err)
	}
	p.pc = pc
	for _, src := range sources {
		kind := webrtc.RTPCodecTypeVideo
		if src == "microphone" {
			kind = webrtc.RTPCodecTypeAudio
		}
		tr, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			pc.Close()
			return nil, fmt.Errorf("transceiver: %w", err)
		}
		p.recv = append(p.recv, tr)
		p.srcs = append(p.srcs, src)
	}
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected, webrtc.PeerConnectionStateDisconnected,
			webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			ev.connState(s.String())
		}
	})
	go p.adaptLoop()
	p.negotiate(false)
	return p, nil
}

func (p *pionPeer) sourceOf(r *webrtc.RTPReceiver) string {
	for i, tr := range p.recv {
		if tr.Receiver() == r {
			return p.srcs[i]
		}
	}
	return ""
}

func (p *pionPeer) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	src := p.sourceOf(r)
	if src == "" {
		return // not a slot we offered: ignore it
	}
	if (src == "microphone") != (t.Kind() == webrtc.RTPCodecTypeAudio) {
		return
	}
	// A simulcast sender's layers arrive as one track each, on the same
	// receiver: they are one upstream to the room, and each viewer gets
	// the layer its download can take.
	idx := 0
	if rid := t.RID(); rid != "" {
		if idx = ridRank(rid); idx < 0 {
			return // a layer we did not offer
		}
	}
	l := &layer{rid: t.RID(), idx: idx, track: t, ssrc: uint32(t.SSRC())}
	p.mu.Lock()
	var up *upstream
	if l.rid != "" {
		for _, u := range p.ups {
			if u.recv == r && u.simulcast {
				up = u
			}
		}
	}
	isNew := up == nil
	if isNew {
		up = &upstream{peer: p, recv: r, src: src, mime: strings.ToLower(t.Codec().MimeType), kindV: t.Kind(),
			codec: t.Codec(), simulcast: l.rid != ""}
		p.ups = append(p.ups, up)
	}
	up.layers[idx].Store(l)
	up.running++
	p.mu.Unlock()
	if isNew {
		p.ev.upTrackStarted(up)
	} else {
		up.keyframe(idx) // a viewer may be waiting for this layer
	}
	up.run(l)
	p.mu.Lock()
	up.layers[idx].CompareAndSwap(l, nil)
	up.running--
	last := up.running == 0
	if last {
		p.ups = slices.DeleteFunc(p.ups, func(u *upstream) bool { return u == up })
	}
	p.mu.Unlock()
	if last {
		up.endSubs()
		p.ev.upTrackEnded(up)
	}
}

// negotiate sends an offer now, or after the answer to the one that is out.
// Offers always come from the server, so the two sides never offer at once.
func (p *pionPeer) negotiate(restart bool) {
	p.mu.Lock()
	if p.negotiating {
		p.pending = true
		p.restart = p.restart || restart
		p.mu.Unlock()
		return
	}
	p.negotiating = true
	p.mu.Unlock()
	if err := p.offer(restart); err != nil && !p.closed.Load() {
		p.m.log.Warn("video offer", "err", err)
		p.mu.Lock()
		p.negotiating = false
		p.mu.Unlock()
	}
}

// negotiateSoon batches the changes of one moment (a participant's audio
// and video arriving together) into one offer.
func (p *pionPeer) negotiateSoon() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		return
	}
	p.timer = time.AfterFunc(30*time.Millisecond, func() {
		p.mu.Lock()
		p.timer = nil
		p.mu.Unlock()
		p.negotiate(false)
	})
}

func (p *pionPeer) offer(restart bool) error {
	if p.closed.Load() {
		return nil
	}
	o, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(o); err != nil {
		return fmt.Errorf("set local: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(3 * time.Second):
	}
	slots := map[string]string{}
	for i, tr := range p.recv {
		slots[tr.Mid()] = p.srcs[i]
	}
	offer := p.pc.LocalDescription().SDP
	if p.pc.CurrentRemoteDescription() == nil && !p.m.baseline {
		// The first offer asks the cameras for simulcast layers; pion
		// repeats in later offers what the answer accepted.
		var cams []string
		for mid, src := range slots {
			if src == "camera" {
				cams = append(cams, mid)
			}
		}
		if o, err := offerSimulcast(offer, cams); err == nil {
			offer = o
		} else {
			p.m.log.Warn("video simulcast offer", "err", err)
		}
	}
	p.ev.signal(ServerMessage{Type: "offer", SDP: offer, Slots: slots})
	return nil
}

func (p *pionPeer) answer(sdp string) error {
	if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return errors.New("no offer is waiting for an answer")
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answerSimulcast(sdp)}); err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	p.mu.Lock()
	p.negotiating = false
	again, restart := p.pending, p.restart
	p.pending, p.restart = false, false
	p.mu.Unlock()
	if again {
		go p.negotiate(restart)
	}
	return nil
}

func (p *pionPeer) addCandidate(c Candidate) error {
	if c.Candidate == "" {
		return nil // end of candidates
	}
	return p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid,
		SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment})
}

func (p *pionPeer) restartICE() { go p.negotiate(true) }

func (p *pionPeer) close() {
	if p.closed.Swap(true) {
		return
	}
	p.pc.Close()
}

func (p *pionPeer) forward(u upTrack, streamID string) (downTrack, error) {
	up, ok := u.(*upstream)
	if !ok {
		return nil, errors.New("forward: not a pion track")
	}
	d := &downstream{up: up, peer: p, id: up.src, stream: streamID, codec: up.codec.RTPCodecCapability, cur: -1, target: -1}
	tr, err := p.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, fmt.Errorf("forward %s: %w", up.src, err)
	}
	sender := tr.Sender()
	p.mu.Lock()
	p.downs[d] = sender
	p.mu.Unlock()
	up.subscribe(d)
	go d.readRTCP(sender)
	p.negotiateSoon()
	return d, nil
}

// adaptLoop asks each sender forwarded here for no more than this
// participant's download can take (REMB to the sender).
func (p *pionPeer) adaptLoop() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for now := range t.C {
		if p.closed.Load() {
			return
		}
		p.mu.Lock()
		var videos []*downstream
		for d := range p.downs {
			if d.up.kindV == webrtc.RTPCodecTypeVideo {
				videos = append(videos, d)
			}
		}
		for _, u := range p.ups {
			if u.simulcast {
				u.measure(now)
			}
		}
		p.mu.Unlock()
		if len(videos) == 0 {
			continue
		}
		rate := defaultEstimate
		if e := p.bwe.Load(); e != nil {
			rate = (*e).GetTargetBitrate()
		}
		share := (rate - 64_000*len(videos)) / len(videos) // leave room for the audio
		if share < 100_000 {
			share = 100_000
		}
		for _, d := range videos {
			if d.up.simulcast {
				d.chooseLayer(share) // the sender's own congestion control sets each layer's rate
			} else {
				d.up.limit(p, share)
			}
		}
	}
}

// estimate is what this participant can download for one video: share of
// the send-side estimate, or less when its browser sent a lower REMB in
// the last five seconds.
func (p *pionPeer) estimate(share int) int {
	if at := p.rembAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < 5*time.Second {
		share = min(share, int(p.remb.Load()))
	}
	return share
}

// upstream reads one incoming stream and hands each packet to its
// subscribers without decoding it. A simulcast sender's stream has up to
// three layers (each its own SSRC); otherwise it has one, layers[0].
type upstream struct {
	peer      *pionPeer
	recv      *webrtc.RTPReceiver
	src       string
	mime      string
	kindV     webrtc.RTPCodecType
	codec     webrtc.RTPCodecParameters
	simulcast bool
	layers    [maxLayers]atomic.Pointer[layer]
	running   int // layers being read; guarded by peer.mu

	subs     atomic.Pointer[[]*downstream]
	subMu    sync.Mutex
	count    atomic.Uint64
	limitsMu sync.Mutex
	limits   map[*pionPeer]int
}

// layer is one SSRC of an upstream.
type layer struct {
	rid     string
	idx     int // 0 lowest quality
	track   *webrtc.TrackRemote
	ssrc    uint32
	bytes   atomic.Uint64
	rate    atomic.Int64  // bits/s over the last measurement; 0: silent
	frames  atomic.Uint64 // packets that end a frame (RTP marker)
	lastPLI atomic.Int64
	// measuring, by the sender's adaptLoop only
	lastBytes  uint64
	lastFrames uint64
	lastAt     time.Time
}

func (u *upstream) source() string    { return u.src }
func (u *upstream) forwarded() uint64 { return u.count.Load() }
func (u *upstream) kind() string {
	if u.kindV == webrtc.RTPCodecTypeAudio {
		return "audio"
	}
	return "video"
}

func (u *upstream) subscribe(d *downstream) {
	u.subMu.Lock()
	defer u.subMu.Unlock()
	var next []*downstream
	if cur := u.subs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, d)
	start := 0
	if u.simulcast {
		start = u.startLayer(d.peer)
		d.mu.Lock()
		d.target = start
		d.mu.Unlock()
	}
	u.subs.Store(&next)
	if u.kindV == webrtc.RTPCodecTypeVideo {
		// The new viewer needs a picture to start from.
		if u.simulcast {
			u.keyframe(start)
		} else if l := u.layers[0].Load(); l != nil {
			l.lastPLI.Store(0)
			u.keyframe(0)
		}
	}
}

func (u *upstream) unsubscribe(d *downstream) {
	u.subMu.Lock()
	defer u.subMu.Unlock()
	cur := u.subs.Load()
	if cur == nil {
		return
	}
	next := make([]*downstream, 0, len(*cur))
	for _, x := range *cur {
		if x != d {
			next = append(next, x)
		}
	}
	u.subs.Store(&next)
	u.limitsMu.Lock()
	delete(u.limits, d.peer)
	u.limitsMu.Unlock()
}

// requestKeyframe asks every layer for a keyframe.
func (u *upstream) requestKeyframe() {
	for i := range u.layers {
		u.keyframe(i)
	}
}

// keyframe sends a PLI for one layer to the sender, at most one per 300 ms
// and layer: a burst of viewers' requests is one request upstream.
func (u *upstream) keyframe(idx int) {
	if u.kindV != webrtc.RTPCodecTypeVideo || idx < 0 || idx >= maxLayers {
		return
	}
	l := u.layers[idx].Load()
	if l == nil {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastPLI.Load()
	if now-last < int64(300*time.Millisecond) || !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	u.peer.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}}) //nolint:errcheck // a lost request is repeated by the viewer
}

// measure updates each layer's bitrate (the sender's adaptLoop, every
// second): viewers pick layers by it.
func (u *upstream) measure(now time.Time) {
	for i := range u.layers {
		l := u.layers[i].Load()
		if l == nil {
			continue
		}
		b, f := l.bytes.Load(), l.frames.Load()
		if !l.lastAt.IsZero() {
			if dt := now.Sub(l.lastAt).Seconds(); dt > 0 {
				r := int64(float64(b-l.lastBytes) * 8 / dt)
				if old := l.rate.Load(); old > 0 && r > 0 {
					r = (old + r) / 2 // smooth the keyframes' bursts
				}
				if u.simulcast && float64(f-l.lastFrames)/dt < minLiveFPS {
					// A layer the sender's encoder has no bandwidth for
					// still answers our keyframe requests, one picture
					// each, at a keyframe's bytes: counted as live, it
					// draws viewers up onto a still picture and more
					// requests, whose keyframes starve the layer they
					// watched (a frozen picture on a weak uplink).
					r = 0
				}
				l.rate.Store(r)
			}
		}
		l.lastBytes, l.lastFrames, l.lastAt = b, f, now
	}
}

// rates are the layers' measured bitrates (-1: no such layer).
func (u *upstream) rates() [maxLayers]int64 {
	var r [maxLayers]int64
	for i := range u.layers {
		r[i] = -1
		if l := u.layers[i].Load(); l != nil {
			r[i] = l.rate.Load()
		}
	}
	return r
}

// startLayer is the layer a new viewer starts on: what its estimate allows
// when the layers' rates are known, else the lowest (a picture soonest).
func (u *upstream) startLayer(viewer *pionPeer) int {
	return pickLayer(u.rates(), viewer.estimate(defaultEstimate), -1)
}

// limit records what one viewer can take and asks the sender for the
// smallest of those.
func (u *upstream) limit(viewer *pionPeer, rate int) {
	u.limitsMu.Lock()
	if u.limits == nil {
		u.limits = map[*pionPeer]int{}
	}
	u.limits[viewer] = rate
	least := u.peer.m.maxRate
	for _, r := range u.limits {
		least = min(least, r)
	}
	u.limitsMu.Unlock()
	l := u.layers[0].Load()
	if l == nil {
		return
	}
	u.peer.pc.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverEstimatedMaximumBitrate{Bitrate: float32(least), //nolint:errcheck // sent again next second
		SSRCs: []uint32{l.ssrc}}})
}

// run forwards one layer until it ends. The packet is parsed once, into a
// header reused for every packet, and written to each viewer as it is:
// no per-packet allocation on this path.
func (u *upstream) run(l *layer) {
	if u.peer.m.baseline && !u.simulcast {
		u.runBaseline(l)
		return
	}
	buf := make([]byte, 1500)
	var h rtp.Header
	for {
		n, _, err := l.track.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) && !u.peer.closed.Load() {
				u.peer.m.log.Debug("video track read", "err", err)
			}
			return
		}
		l.bytes.Add(uint64(n))
		payload, ok := parseHeader(buf[:n], &h)
		if !ok {
			continue
		}
		if h.Marker {
			l.frames.Add(1)
		}
		subs := u.subs.Load()
		if subs == nil {
			continue
		}
		if !u.simulcast {
			for _, d := range *subs {
				d.write(&h, payload)
			}
			continue
		}
		for _, d := range *subs {
			d.writeLayer(l.idx, &h, payload)
		}
	}
}

// runBaseline forwards the way a plain pion relay does (the benchmark's
// comparison): each packet read into a new rtp.Packet, its header copied
// per viewer and written with its extensions.
func (u *upstream) runBaseline(l *layer) {
	for {
		pkt, _, err := l.track.ReadRTP()
		if err != nil {
			return
		}
		subs := u.subs.Load()
		if subs == nil {
			continue
		}
		for _, d := range *subs {
			d.mu.Lock()
			w := d.writer
			h := pkt.Header.Clone()
			h.SSRC, h.PayloadType = d.ssrc, d.pt
			d.mu.Unlock()
			if w != nil {
				if _, err := w.WriteRTP(&h, pkt.Payload); err == nil {
					u.count.Add(1)
				}
			}
		}
	}
}

func (u *upstream) endSubs() {
	u.subMu.Lock()
	u.subs.Store(nil)
	u.subMu.Unlock()
}

// parseHeader reads the fixed RTP header and skips CSRCs and header
// extensions, which are the sender's connection's own (their ids mean
// nothing on the viewer's connection). It returns the payload.
func parseHeader(b []byte, h *rtp.Header) ([]byte, bool) {
	if len(b) < 12 || b[0]>>6 != 2 {
		return nil, false
	}
	cc := int(b[0] & 0x0f)
	off := 12 + 4*cc
	if len(b) < off {
		return nil, false
	}
	if b[0]&0x10 != 0 {
		if len(b) < off+4 {
			return nil, false
		}
		off += 4 + 4*int(binary.BigEndian.Uint16(b[off+2:]))
		if len(b) < off {
			return nil, false
		}
	}
	end := len(b)
	h.Padding = b[0]&0x20 != 0
	if h.Padding {
		pad := int(b[end-1])
		if pad == 0 || off+pad > end {
			return nil, false
		}
		end -= pad // padding is the sender's business; the viewer's packet needs none
		h.Padding = false
	}
	h.Version = 2
	h.Marker = b[1]&0x80 != 0
	h.PayloadType = b[1] & 0x7f
	h.SequenceNumber = binary.BigEndian.Uint16(b[2:])
	h.Timestamp = binary.BigEndian.Uint32(b[4:])
	h.SSRC = binary.BigEndian.Uint32(b[8:])
	return b[off:end], true
}

// downstream is one forwarded track on a viewer's connection (a
// webrtc.TrackLocal written from the sender's packets).
type downstream struct {
	up     *upstream
	peer   *pionPeer
	id     string
	stream string
	codec  webrtc.RTPCodecCapability

	mu     sync.Mutex
	ssrc   uint32
	pt     uint8
	writer webrtc.TrackLocalWriter
	out    rtp.Header // reused for every packet
	// simulcast: the layer forwarded and the one wanted (switched to at
	// its next keyframe), and the rewriting that makes the layers one
	// continuous stream for the viewer.
	cur, target int
	rw          rewriter
	vp8         vp8Rewriter
	buf         []byte // the viewer's copy of a VP8 payload, its descriptor rewritten
	switches    int

	loss atomic.Uint32 // the viewer's last reported fraction lost, /256
	ups  int           // measurements in a row with room for a higher layer (adaptLoop only)
}

func (d *downstream) ID() string                { return d.id }
func (d *downstream) RID() string               { return "" }
func (d *downstream) StreamID() string          { return d.stream }
func (d *downstream) Kind() webrtc.RTPCodecType { return d.up.kindV }

// Bind picks the sender's codec among what the viewer accepted: the server
// forwards, it does not transcode.
func (d *downstream) Bind(t webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	want := d.up.codec
	var pick *webrtc.RTPCodecParameters
	for _, c := range t.CodecParameters() {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			pick = &c
			break
		}
		if pick == nil {
			pick = &c
		}
	}
	if pick == nil {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("viewer does not accept %s", want.MimeType)
	}
	d.mu.Lock()
	d.ssrc, d.pt, d.writer = uint32(t.SSRC()), uint8(pick.PayloadType), t.WriteStream()
	target := d.target
	d.mu.Unlock()
	// Packets reach the viewer from now on: the picture starts at the next
	// keyframe, so ask for one now rather than when the viewer notices.
	if d.up.simulcast {
		d.up.keyframe(target)
	} else {
		d.up.keyframe(0)
	}
	return *pick, nil
}

func (d *downstream) Unbind(webrtc.TrackLocalContext) error {
	d.mu.Lock()
	d.writer = nil
	d.mu.Unlock()
	return nil
}

func (d *downstream) write(h *rtp.Header, payload []byte) {
	d.mu.Lock()
	w := d.writer
	if w == nil {
		d.mu.Unlock()
		return
	}
	o := &d.out
	o.Version, o.Padding, o.Marker = 2, false, h.Marker
	o.PayloadType, o.SequenceNumber, o.Timestamp, o.SSRC = d.pt, h.SequenceNumber, h.Timestamp, d.ssrc
	o.Extension, o.Extensions, o.ExtensionProfile = false, o.Extensions[:0], 0
	o.CSRC = o.CSRC[:0]
	_, err := w.WriteRTP(o, payload)
	d.mu.Unlock()
	if err == nil {
		d.up.count.Add(1)
	}
}

// writeLayer forwards a packet of a simulcast layer: the current layer's
// packets go on, renumbered; the wanted layer takes over at the first
// packet of a keyframe; everything else is dropped.
func (d *downstream) writeLayer(idx int, h *rtp.Header, payload []byte) {
	d.mu.Lock()
	w := d.writer
	if w == nil {
		d.mu.Unlock()
		return
	}
	if idx != d.cur {
		// The wanted layer's keyframe, or the first keyframe of any layer
		// when the viewer has no picture yet (the sooner the better).
		if idx != d.target && d.cur >= 0 || !isKeyframeStart(d.up.mime, payload) {
			d.mu.Unlock()
			return
		}
		d.rw.switchTo(h.SequenceNumber, h.Timestamp, time.Now())
		if d.up.mime == "video/vp8" {
			d.vp8.switchTo(payload)
		}
		d.cur = idx
		d.switches++
	}
	seq, ts := d.rw.rewrite(h.SequenceNumber, h.Timestamp, time.Now())
	if d.up.mime == "video/vp8" {
		d.buf = append(d.buf[:0], payload...)
		d.vp8.rewrite(d.buf)
		payload = d.buf
	}
	o := &d.out
	o.Version, o.Padding, o.Marker = 2, false, h.Marker
	o.PayloadType, o.SequenceNumber, o.Timestamp, o.SSRC = d.pt, seq, ts, d.ssrc
	o.Extension, o.Extensions, o.ExtensionProfile = false, o.Extensions[:0], 0
	o.CSRC = o.CSRC[:0]
	_, err := w.WriteRTP(o, payload)
	d.mu.Unlock()
	if err == nil {
		d.up.count.Add(1)
	}
}

// chooseLayer picks the simulcast layer for this viewer from its share of
// the estimated download (the viewer's TWCC-driven estimate, its REMB when
// it sends one, and its loss reports), and asks that layer for a keyframe
// to switch on.
func (d *downstream) chooseLayer(share int) {
	est := d.peer.estimate(share)
	d.mu.Lock()
	cur, target := d.cur, d.target
	d.mu.Unlock()
	rates := d.up.rates()
	if lost := d.loss.Load(); lost > lossStepDown && cur >= 0 && rates[cur] > 0 {
		// More than a tenth lost: the current layer is too much already.
		est = min(est, int(rates[cur])*8/10)
	}
	best := pickLayer(rates, est, cur)
	if best < 0 {
		return
	}
	// Down at once; up only when the estimate has room on upTicks
	// measurements in a row, so a noisy estimate does not flap between
	// layers (each switch costs the sender a keyframe).
	switch {
	case cur >= 0 && best > cur && best > target:
		if d.ups++; d.ups < upTicks {
			best = max(cur, target) // not yet
		} else {
			d.ups = 0
		}
	case best <= cur:
		d.ups = 0
	}
	if best != target {
		d.mu.Lock()
		d.target = best
		d.mu.Unlock()
	}
	if best != cur {
		d.up.keyframe(best) // repeated each second until the switch happens
	}
}

// layerNow is the layer forwarded to this viewer and the one wanted.
func (d *downstream) layerNow() (cur, target, switches int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur, d.target, d.switches
}

// readRTCP passes the viewer's keyframe requests on to the sender (for a
// simulcast stream, to the layer the viewer gets), and keeps what the
// viewer says about its download (REMB, loss). NACKs are answered by the
// NACK responder from its buffer of sent packets.
func (d *downstream) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch k := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if d.up.simulcast {
					cur, target, _ := d.layerNow()
					d.up.keyframe(cur)
					if target != cur {
						d.up.keyframe(target)
					}
				} else {
					d.up.keyframe(0)
				}
			case *rtcp.ReceiverEstimatedMaximumBitrate:
				d.peer.remb.Store(uint64(k.Bitrate))
				d.peer.rembAt.Store(time.Now().UnixNano())
			case *rtcp.ReceiverReport:
				d.mu.Lock()
				ssrc := d.ssrc
				d.mu.Unlock()
				for _, r := range k.Reports {
					if r.SSRC == ssrc {
						d.loss.Store(uint32(r.FractionLost))
					}
				}
			}
		}
	}
}

func (d *downstream) stop() {
	d.up.unsubscribe(d)
	p := d.peer
	p.mu.Lock()
	s, ok := p.downs[d]
	delete(p.downs, d)
	p.mu.Unlock()
	if !ok || p.closed.Load() {
		return
	}
	if err := p.pc.RemoveTrack(s); err == nil {
		p.negotiateSoon()
	}
}

// probe answers a connection check: a data-channel-only offer, so a page
// (the patient's check-in, the admin self-test) learns whether it can reach
// the media port or the TURN server. It carries no media, so it cannot be
// used to get past the lobby. The connection closes itself after life.
func (m *mediaEngine) probe(offer string, life time.Duration) (string, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return "", fmt.Errorf("not an SDP offer")
	}
	if len(sd.MediaDescriptions) != 1 || sd.MediaDescriptions[0].MediaName.Media != "application" {
		return "", errors.New("a connection check carries a data channel only")
	}
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{m.log}}
	se.SetICEUDPMux(m.udpMux)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if m.tcpMux != nil {
		se.SetICETCPMux(m.tcpMux)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(types)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(m.loopback)
	if len(m.nat1to1) > 0 {
		se.SetNAT1To1IPs(m.nat1to1, webrtc.ICECandidateTypeHost)
	}
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", err
	}
	time.AfterFunc(life, func() { pc.Close() })
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		pc.Close()
		return "", fmt.Errorf("offer: %w", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		pc.Close()
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		pc.Close()
		return "", err
	}
	select {
	case <-gathered:
	case <-time.After(3 * time.Second):
	}
	return pc.LocalDescription().SDP, nil
}

// pionLogs sends pion's log lines to the server's log: its errors as
// warnings (a closed connection's last reads are reported as errors), the
// rest at debug level.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ l *slog.Logger }

func (p pionLogger) Trace(string)              {}
func (p pionLogger) Tracef(string, ...any)     {}
func (p pionLogger) Debug(m string)            { p.l.Debug(m) }
func (p pionLogger) Debugf(f string, a ...any) { p.l.Debug(fmt.Sprintf(f, a...)) }
func (p pionLogger) Info(m string)             { p.l.Debug(m) }
func (p pionLogger) Infof(f string, a ...any)  { p.l.Debug(fmt.Sprintf(f, a...)) }
func (p pionLogger) Warn(m string)             { p.l.Debug(m) }
func (p pionLogger) Warnf(f string, a ...any)  { p.l.Debug(fmt.Sprintf(f, a...)) }
func (p pionLogger) Error(m string)            { p.l.Warn(m) }
func (p pionLogger) Errorf(f string, a ...any) { p.l.Warn(fmt.Sprintf(f, a...)) }
