package video

import (
	"strings"
	"testing"
	"time"
)

func TestPickLayer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rates [maxLayers]int64
		est   int
		cur   int
		want  int
	}{
		{"all fit", [3]int64{100e3, 400e3, 1200e3}, 2_000_000, -1, 2},
		{"middle fits", [3]int64{100e3, 400e3, 1200e3}, 600_000, -1, 1},
		{"only low fits", [3]int64{100e3, 400e3, 1200e3}, 150_000, -1, 0},
		{"nothing fits: lowest live", [3]int64{100e3, 400e3, 1200e3}, 50_000, -1, 0},
		{"up needs headroom", [3]int64{100e3, 400e3, 1000e3}, 1_050_000, 1, 1},
		{"staying needs none", [3]int64{100e3, 400e3, 1000e3}, 1_050_000, 2, 2},
		{"paused top layer skipped", [3]int64{100e3, 400e3, 0}, 5_000_000, 2, 1},
		{"low layer missing", [3]int64{-1, 400e3, 1200e3}, 100_000, -1, 1},
		{"nothing measured yet: lowest that exists", [3]int64{-1, 0, 0}, 5_000_000, -1, 1},
		{"no layers", [3]int64{-1, -1, -1}, 5_000_000, -1, -1},
		{"a starting top layer is not the cheap one", [3]int64{300e3, 0, 2200}, 100_000, 0, 0},
		{"a starting top layer fits when the low one does", [3]int64{300e3, 0, 2200}, 400_000, 0, 2},
	} {
		if got := pickLayer(tc.rates, tc.est, tc.cur); got != tc.want {
			t.Errorf("%s: pickLayer(%v, %d, %d) = %d, want %d", tc.name, tc.rates, tc.est, tc.cur, got, tc.want)
		}
	}
}

// The viewer's stream continues across a switch: the next sequence
// number, and a timestamp advanced by the time between the packets.
func TestRewriterContinuesAcrossSwitch(t *testing.T) {
	var r rewriter
	t0 := time.Unix(1000, 0)
	r.switchTo(500, 90_000, t0)
	for i := uint16(0); i < 3; i++ {
		seq, ts := r.rewrite(500+i, 90_000+uint32(i/2)*3000, t0.Add(time.Duration(i)*10*time.Millisecond))
		if seq != 500+i {
			t.Fatalf("first layer renumbered: %d", seq)
		}
		_ = ts
	}
	// Switch to a layer with unrelated numbers, 40 ms after the last packet.
	at := t0.Add(60 * time.Millisecond)
	r.switchTo(65530, 7, at)
	seq, ts := r.rewrite(65530, 7, at)
	if seq != 503 {
		t.Errorf("first packet after the switch: seq %d, want 503", seq)
	}
	if want := uint32(90_000 + 3000 + 40*90); ts != want {
		t.Errorf("first packet after the switch: ts %d, want %d", ts, want)
	}
	// The new layer's own wrap-around carries through.
	seq, ts = r.rewrite(3, 7+3000, at.Add(33*time.Millisecond))
	if seq != 503+9 || ts != 90_000+3000+40*90+3000 {
		t.Errorf("after the new layer wraps: %d %d", seq, ts)
	}
	// A late packet does not move the last-sent mark back.
	r.rewrite(1, 7, at.Add(40*time.Millisecond))
	if r.lastSeq != 512 {
		t.Errorf("lastSeq = %d after a late packet", r.lastSeq)
	}
}

func TestKeyframeStart(t *testing.T) {
	for _, tc := range []struct {
		name string
		mime string
		p    []byte
		want bool
	}{
		{"vp8 key, no extension", "video/vp8", []byte{0x10, 0x00, 0x9d}, true},
		{"vp8 delta", "video/vp8", []byte{0x10, 0x01}, false},
		{"vp8 key continuation", "video/vp8", []byte{0x00, 0x00}, false},
		{"vp8 key, partition 1", "video/vp8", []byte{0x11, 0x00}, false},
		{"vp8 key, 15-bit picture id", "video/vp8", []byte{0x90, 0x80, 0x81, 0x23, 0x00}, true},
		{"vp8 delta, 15-bit picture id", "video/vp8", []byte{0x90, 0x80, 0x81, 0x23, 0x01}, false},
		{"vp8 key, 7-bit id, tl0picidx, tid", "video/vp8", []byte{0x90, 0xe0, 0x12, 0x05, 0x40, 0x00}, true},
		{"vp8 truncated descriptor", "video/vp8", []byte{0x90, 0x80, 0x81}, false},
		{"vp8 empty", "video/vp8", nil, false},
		{"h264 idr", "video/h264", []byte{0x65, 0x88}, true},
		{"h264 sps", "video/h264", []byte{0x67, 0x42}, true},
		{"h264 non-idr slice", "video/h264", []byte{0x41, 0x9a}, false},
		{"h264 stap-a sps pps idr", "video/h264", []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, true},
		{"h264 stap-a of non-key units", "video/h264", []byte{0x78, 0, 2, 0x06, 0x05, 0, 2, 0x41, 0x9a}, false},
		{"h264 stap-a bad size", "video/h264", []byte{0x78, 0, 9, 0x67}, false},
		{"h264 fu-a idr start", "video/h264", []byte{0x7c, 0x85, 0x88}, true},
		{"h264 fu-a idr middle", "video/h264", []byte{0x7c, 0x05, 0x88}, false},
		{"opus is never a keyframe", "audio/opus", []byte{0x10, 0x00}, false},
	} {
		if got := isKeyframeStart(tc.mime, tc.p); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

const pionOffer = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\na=recvonly\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n" +
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\na=recvonly\r\n"

func TestOfferSimulcast(t *testing.T) {
	got, err := offerSimulcast(pionOffer, []string{"1"})
	if err != nil {
		t.Fatal(err)
	}
	video := got[strings.Index(got, "m=video"):]
	for _, want := range []string{"a=rid:q recv\r\n", "a=rid:h recv\r\n", "a=rid:f recv\r\n", "a=simulcast:recv q;h;f\r\n"} {
		if !strings.Contains(video, want) {
			t.Errorf("video section lacks %q:\n%s", want, video)
		}
	}
	if audio := got[:strings.Index(got, "m=video")]; strings.Contains(audio, "a=rid") {
		t.Errorf("audio section got layers:\n%s", audio)
	}
	// Not a camera: unchanged. Already simulcast: unchanged.
	if same, _ := offerSimulcast(pionOffer, nil); same != pionOffer {
		t.Error("an offer without cameras changed")
	}
	if again, _ := offerSimulcast(got, []string{"1"}); strings.Count(again, "a=simulcast") != 1 {
		t.Errorf("simulcast asked twice:\n%s", again)
	}
	// Without the RID extension the layers could not be told apart.
	if _, err := offerSimulcast(strings.Replace(pionOffer, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n", "", 1), []string{"1"}); err == nil {
		t.Error("no error without the RID extension")
	}
}

// A switch to a layer whose VP8 picture IDs are behind continues the
// viewer's picture IDs (15 bits, wrapping) and TL0PICIDX.
func TestVP8RewriterContinuesPictureIDs(t *testing.T) {
	pkt := func(pid uint16, tl0 byte) []byte {
		return []byte{0x90, 0xc0, 0x80 | byte(pid>>8), byte(pid), tl0, 0x00}
	}
	read := func(p []byte) (uint16, byte) { return (uint16(p[2])<<8 | uint16(p[3])) & 0x7fff, p[4] }
	var r vp8Rewriter
	for i := uint16(0); i < 3; i++ {
		p := pkt(32766+i, byte(250+i))
		r.switchTo(p)
		r.rewrite(p)
		if pid, tl0 := read(p); pid != (32766+i)&0x7fff || tl0 != byte(250+i) {
			t.Fatalf("first layer changed: %d %d", pid, tl0)
		}
	}
	// Last sent: picture 0 (wrapped), TL0 252. The new layer is at 100, 7.
	p := pkt(100, 7)
	r.switchTo(p)
	r.rewrite(p)
	if pid, tl0 := read(p); pid != 1 || tl0 != 253 {
		t.Errorf("after the switch: picture %d, TL0 %d; want 1, 253", pid, tl0)
	}
	if p[2]&0x80 == 0 {
		t.Error("the 15-bit marker was lost")
	}
	p = pkt(101, 8)
	r.rewrite(p)
	if pid, tl0 := read(p); pid != 2 || tl0 != 254 {
		t.Errorf("next: picture %d, TL0 %d; want 2, 254", pid, tl0)
	}
	// Without the extension fields nothing is touched.
	plain := []byte{0x10, 0x00, 0x9d}
	r.rewrite(plain)
	if plain[0] != 0x10 || plain[1] != 0 || plain[2] != 0x9d {
		t.Errorf("plain descriptor changed: %x", plain)
	}
}

func TestAnswerSimulcastDropsEchoedRecvLayers(t *testing.T) {
	ans := "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n" +
		"a=rid:q recv\r\na=rid:h recv\r\na=simulcast:recv q;h\r\na=rid:q send\r\na=rid:h send\r\na=simulcast:send q;h\r\na=sendonly\r\n"
	got := answerSimulcast(ans)
	if strings.Contains(got, " recv") || strings.Contains(got, "simulcast:recv") {
		t.Errorf("recv layers kept:\n%s", got)
	}
	for _, want := range []string{"a=rid:q send", "a=rid:h send", "a=simulcast:send q;h", "a=sendonly"} {
		if !strings.Contains(got, want) {
			t.Errorf("lost %q:\n%s", want, got)
		}
	}
	// A browser's answer (send layers only) and a plain one stay as they are.
	plain := strings.Replace(ans, "a=rid:q recv\r\na=rid:h recv\r\na=simulcast:recv q;h\r\n", "", 1)
	if answerSimulcast(plain) != plain {
		t.Error("a send-only answer changed")
	}
}

// TestMeasureCountsOnlyMovingLayers: a simulcast layer that only answers
// keyframe requests (a picture or two a second, each a keyframe's bytes)
// measures as silent, so no viewer is moved up onto it; a layer sending a
// moving picture measures its rate; a camera without simulcast keeps its
// rate whatever its frame rate (a slide or a still screen).
func TestMeasureCountsOnlyMovingLayers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		simulcast bool
		bytes     uint64 // in the one-second window
		frames    uint64
		wantLive  bool
	}{
		{"moving layer", true, 50_000, 30, true},
		{"slow but moving", true, 20_000, 5, true},
		{"keyframes on request only", true, 60_000, 1, false},
		{"nothing", true, 0, 0, false},
		{"one layer, still picture", false, 60_000, 1, true},
	} {
		u := &upstream{simulcast: tc.simulcast}
		l := &layer{}
		u.layers[0].Store(l)
		t0 := time.Unix(1000, 0)
		u.measure(t0)
		l.bytes.Add(tc.bytes)
		l.frames.Add(tc.frames)
		u.measure(t0.Add(time.Second))
		r := u.rates()[0]
		if live := r > 0; live != tc.wantLive {
			t.Errorf("%s: rate %d, want live=%v", tc.name, r, tc.wantLive)
		}
		if tc.wantLive && r != int64(tc.bytes*8) {
			t.Errorf("%s: rate %d, want %d", tc.name, r, tc.bytes*8)
		}
	}
}
