package video

import (
	"encoding/binary"
	"testing"
	"unicode/utf8"

	"github.com/pion/rtp"
)

// FuzzParseHeader: the forwarding path's RTP header reader agrees with
// pion's full parser on every packet both accept, and never reads past the
// packet.
func FuzzParseHeader(f *testing.F) {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: 7, Timestamp: 9, SSRC: 11, Marker: true,
		CSRC: []uint32{1, 2}}, Payload: []byte{1, 2, 3}}
	p.Header.SetExtension(3, []byte{0xaa, 0xbb})
	b, _ := p.Marshal()
	f.Add(b)
	f.Add([]byte{0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9, 0, 0, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		var h rtp.Header
		payload, ok := parseHeader(b, &h)
		if !ok {
			return
		}
		var full rtp.Packet
		if err := full.Unmarshal(b); err != nil {
			return // pion is stricter about some padding; we only forward what we parse
		}
		if h.SSRC != full.SSRC || h.SequenceNumber != full.SequenceNumber || h.Timestamp != full.Timestamp ||
			h.PayloadType != full.PayloadType || h.Marker != full.Marker {
			t.Fatalf("header %+v, pion %+v", h, full.Header)
		}
		if string(payload) != string(full.Payload) {
			t.Fatalf("payload %x, pion %x", payload, full.Payload)
		}
		if binary.BigEndian.Uint32(b[8:]) != h.SSRC {
			t.Fatal("ssrc")
		}
	})
}

// FuzzCleanName: a guest's name is short, printable text, never empty.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"Maria (interpreter)", "  a \n b  ", "", "\xff\xfe", string(make([]byte, 300))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := cleanName(s)
		if n == "" || !utf8.ValidString(n) || utf8.RuneCountInString(n) > 60 {
			t.Fatalf("cleanName(%q) = %q", s, n)
		}
	})
}

// FuzzKeyframeStart: the keyframe test reads any payload a sender sends
// without reading past it, for each codec.
func FuzzKeyframeStart(f *testing.F) {
	for _, b := range [][]byte{{0x10, 0x00}, {0x90, 0x80, 0x81, 0x23, 0x00}, {0x90, 0xe0, 0x12, 0x05, 0x40, 0x00},
		{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, {0x7c, 0x85}, {0x78, 0xff, 0xff}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		isKeyframeStart("video/vp8", b)
		isKeyframeStart("video/h264", b)
	})
}
