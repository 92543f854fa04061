package video

// Simulcast: a camera may send the same picture in up to three layers
// (quarter, half and full resolution, each its own SSRC, told apart by the
// RID header extension). The server receives all of them and forwards one
// per viewer, chosen by that viewer's download; it switches layer only at
// a keyframe and rewrites sequence numbers and timestamps, so the viewer
// sees one continuous stream whatever the layer.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pion/sdp/v3"
)

// The layers the server asks for, lowest quality first (the order of the
// offer's a=simulcast line, which browsers scale down 4×, 2×, 1×).
var simulcastRIDs = [...]string{"q", "h", "f"}

// minLiveFPS: a simulcast layer sending fewer pictures a second than this
// counts as silent when viewers pick layers (see upstream.measure).
const minLiveFPS = 3

const (
	maxLayers = len(simulcastRIDs)
	// defaultEstimate is a viewer's download before anything is known
	// (the congestion controller starts there too).
	defaultEstimate = 1_000_000
	// lossStepDown: a viewer reporting more than this fraction lost
	// (of 256; ≈ 10%) is moved down a layer.
	lossStepDown = 25
	// upHeadroom: moving up a layer needs its rate plus this share
	// (percent) in the estimate, so that a viewer near a boundary does not
	// flap between two layers.
	upHeadroom = 115
	// upTicks: measurements in a row (seconds) that must allow a higher
	// layer before a viewer moves up.
	upTicks = 2
)

// ridRank is the layer index of a RID offered, -1 for any other.
func ridRank(rid string) int {
	for i, r := range simulcastRIDs {
		if r == rid {
			return i
		}
	}
	return -1
}

// pickLayer chooses the best layer whose measured rate fits est. rates[i]
// is -1 for a layer that does not exist and 0 for one that is silent (the
// sender paused it, or it has not been measured yet). cur is the layer
// forwarded now (-1: none): going up needs headroom, staying does not.
// With no layer fitting, the lowest that sends; with none measured yet,
// the lowest that exists. -1 when there is no layer at all.
func pickLayer(rates [maxLayers]int64, est int, cur int) int {
	best, lowestLive, lowest := -1, -1, -1
	var floor int64 // a layer needs at least what the layers below it take
	for i, r := range rates {
		if r < 0 {
			continue
		}
		if lowest < 0 {
			lowest = i
		}
		if r == 0 {
			continue
		}
		if lowestLive < 0 {
			lowestLive = i
		}
		// A higher layer that the sender is only starting (or starving)
		// can measure less than a lower one for a while; it is still the
		// bigger picture.
		r = max(r, floor)
		floor = r
		need := r
		if i > cur {
			need = r * upHeadroom / 100
		}
		if need <= int64(est) {
			best = i
		}
	}
	switch {
	case best >= 0:
		return best
	case lowestLive >= 0:
		return lowestLive
	}
	return lowest
}

// rewriter maps the sequence numbers and timestamps of whichever layer is
// forwarded onto one stream: after a switch the first packet follows the
// last one sent (next sequence number, timestamp advanced by the wall time
// between them on the 90 kHz video clock).
type rewriter struct {
	started bool
	seqOff  uint16
	tsOff   uint32
	lastSeq uint16
	lastTS  uint32
	lastAt  time.Time
}

// switchTo starts forwarding a new layer whose first packet is seq/ts.
func (r *rewriter) switchTo(seq uint16, ts uint32, now time.Time) {
	if !r.started {
		return // the first layer keeps its own numbers
	}
	r.seqOff = r.lastSeq + 1 - seq
	gap := uint32(now.Sub(r.lastAt) * 90 / time.Millisecond)
	if gap == 0 {
		gap = 1 // a new frame: its timestamp must differ
	}
	r.tsOff = r.lastTS + gap - ts
}

// rewrite maps one packet of the layer forwarded.
func (r *rewriter) rewrite(seq uint16, ts uint32, now time.Time) (uint16, uint32) {
	seq += r.seqOff
	ts += r.tsOff
	// Remember the newest packet (a late one does not move it back).
	if !r.started || int16(seq-r.lastSeq) > 0 {
		r.lastSeq, r.lastTS, r.lastAt = seq, ts, now
	}
	r.started = true
	return seq, ts
}

// isKeyframeStart reports whether an RTP payload is the first packet of a
// keyframe, for the video codecs the server forwards.
func isKeyframeStart(mime string, p []byte) bool {
	switch mime {
	case "video/vp8":
		return vp8KeyframeStart(p)
	case "video/h264":
		return h264KeyframeStart(p)
	}
	return false
}

// vp8KeyframeStart reads the VP8 payload descriptor (RFC 7741 §4.2): the
// start of partition 0, whose payload header has the P bit clear.
func vp8KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	x, s, pid := p[0]&0x80 != 0, p[0]&0x10 != 0, p[0]&0x07
	if !s || pid != 0 {
		return false
	}
	off := 1
	if x {
		if len(p) < 2 {
			return false
		}
		ext := p[1]
		off = 2
		if ext&0x80 != 0 { // I: picture ID, 7 or 15 bits
			if len(p) <= off {
				return false
			}
			if p[off]&0x80 != 0 {
				off += 2
			} else {
				off++
			}
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			off++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX
			off++
		}
	}
	return len(p) > off && p[off]&0x01 == 0
}

// h264KeyframeStart: an IDR slice or a sequence parameter set (which
// browsers send just before the IDR), alone, in a STAP-A, or as the start
// of a FU-A (RFC 6184).
func h264KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	key := func(t byte) bool { return t == 5 || t == 7 }
	switch t := p[0] & 0x1f; t {
	case 24: // STAP-A: 16-bit sizes, then NAL units
		for off := 1; off+2 < len(p); {
			n := int(binary.BigEndian.Uint16(p[off:]))
			off += 2
			if n == 0 || off+n > len(p) {
				return false
			}
			if key(p[off] & 0x1f) {
				return true
			}
			off += n
		}
		return false
	case 28: // FU-A: the start fragment of a key NAL unit
		return len(p) > 1 && p[1]&0x80 != 0 && key(p[1]&0x1f)
	default:
		return key(t)
	}
}

// offerSimulcast adds to the video sections of the given mids a request to
// receive three simulcast layers (RFC 8853): a=rid:<id> recv lines and
// a=simulcast:recv q;h;f. pion offers no simulcast of its own; a browser
// that cannot or will not send layers answers without them, and the
// stream is forwarded as one layer.
func offerSimulcast(offer string, mids []string) (string, error) {
	if len(mids) == 0 {
		return offer, nil
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return "", fmt.Errorf("parse own offer: %w", err)
	}
	found := false
	for _, m := range sd.MediaDescriptions {
		mid, _ := m.Attribute("mid")
		if m.MediaName.Media != "video" || !contains(mids, mid) {
			continue
		}
		if _, ok := m.Attribute("simulcast"); ok {
			continue
		}
		if !hasExtmap(m, sdp.SDESRTPStreamIDURI) {
			return "", errors.New("the offer lacks the RID header extension")
		}
		for _, rid := range simulcastRIDs {
			m.WithValueAttribute("rid", rid+" recv")
		}
		m.WithValueAttribute("simulcast", "recv "+strings.Join(simulcastRIDs[:], ";"))
		found = true
	}
	if !found {
		return offer, nil
	}
	b, err := sd.Marshal()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasExtmap(m *sdp.MediaDescription, uri string) bool {
	for _, a := range m.Attributes {
		if a.Key == "extmap" && strings.HasSuffix(a.Value, " "+uri) {
			return true
		}
	}
	return false
}

// vp8Rewriter keeps the VP8 picture ID and TL0PICIDX continuous across a
// layer switch, as the sequence numbers are: each layer counts its own,
// and a receiver takes a picture ID that goes back for an old frame.
type vp8Rewriter struct {
	started bool
	pidOff  uint16
	tl0Off  uint8
	lastPID uint16
	lastTL0 uint8
}

// vp8Fields finds the picture ID (its offset, and whether it has 15 bits)
// and the TL0PICIDX in a VP8 payload descriptor; -1 when absent.
func vp8Fields(p []byte) (pid int, long bool, tl0 int) {
	pid, tl0 = -1, -1
	if len(p) < 2 || p[0]&0x80 == 0 {
		return
	}
	ext, off := p[1], 2
	if ext&0x80 != 0 {
		if len(p) <= off {
			return -1, false, -1
		}
		pid, long = off, p[off]&0x80 != 0
		off++
		if long {
			off++
		}
	}
	if ext&0x40 != 0 {
		tl0 = off
	}
	if off >= len(p) || tl0 >= len(p) {
		return -1, false, -1
	}
	return pid, long, tl0
}

func (r *vp8Rewriter) readPID(p []byte, at int, long bool) uint16 {
	if long {
		return binary.BigEndian.Uint16(p[at:]) & 0x7fff
	}
	return uint16(p[at] & 0x7f)
}

// switchTo sets the offsets at the first packet (a keyframe) of a new
// layer, so that it follows the last picture sent.
func (r *vp8Rewriter) switchTo(p []byte) {
	if !r.started {
		return
	}
	pid, long, tl0 := vp8Fields(p)
	if pid >= 0 {
		r.pidOff = r.lastPID + 1 - r.readPID(p, pid, long)
	}
	if tl0 >= 0 {
		r.tl0Off = r.lastTL0 + 1 - p[tl0]
	}
}

// rewrite patches the descriptor of p (the viewer's own copy) in place.
func (r *vp8Rewriter) rewrite(p []byte) {
	pid, long, tl0 := vp8Fields(p)
	if pid >= 0 {
		v := r.readPID(p, pid, long) + r.pidOff
		if long {
			v &= 0x7fff
			binary.BigEndian.PutUint16(p[pid:], 0x8000|v)
		} else {
			v &= 0x7f
			p[pid] = byte(v)
		}
		bits := uint(7)
		if long {
			bits = 15
		}
		if !r.started || newer(v, r.lastPID, bits) {
			r.lastPID = v
		}
	}
	if tl0 >= 0 {
		v := p[tl0] + r.tl0Off
		p[tl0] = v
		if !r.started || newer(uint16(v), uint16(r.lastTL0), 8) {
			r.lastTL0 = v
		}
	}
	r.started = true
}

// newer: v comes after last in a counter of the given bits that wraps.
func newer(v, last uint16, bits uint) bool {
	d := (v - last) & (1<<bits - 1)
	return d != 0 && d < 1<<(bits-1)
}

// answerSimulcast drops, from an answer, the layers that it says it would
// receive: the server only ever offers to receive, and an answerer that
// echoes "recv" layers back (pion does) would otherwise make the server
// wait for layers that never come. What the answerer sends is kept.
func answerSimulcast(answer string) string {
	if !strings.Contains(answer, "recv") || !strings.Contains(answer, "a=rid:") {
		return answer
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(answer); err != nil {
		return answer // SetRemoteDescription reports it
	}
	changed := false
	for _, m := range sd.MediaDescriptions {
		kept := m.Attributes[:0]
		for _, a := range m.Attributes {
			if a.Key == "rid" && strings.HasSuffix(a.Value, " recv") || a.Key == "simulcast" && strings.HasPrefix(a.Value, "recv") {
				changed = true
				continue
			}
			kept = append(kept, a)
		}
		m.Attributes = kept
	}
	if !changed {
		return answer
	}
	b, err := sd.Marshal()
	if err != nil {
		return answer
	}
	return string(b)
}
