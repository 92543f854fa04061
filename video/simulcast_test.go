package video_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/video/testpeer"
)

// layerSizes are the simulcast layers' payload sizes at 50 packets/s:
// about 16, 48 and 80 kbit/s, so that even the congestion controller's
// floor (100 kbit/s, where a loaded test machine can push it) has room
// for the high layer, and only the REMB below decides.
var layerSizes = [3]int{40, 120, 200}

// pumpLayers sends the three layers like a camera's encoder: each layer
// its own sequence numbers and timestamps, one packet per frame, a
// keyframe at the start and whenever a keyframe request reached that
// layer. Byte 2 of each payload names the layer, so a viewer can tell
// which one it gets.
func pumpLayers(p *testpeer.Peer, stop <-chan struct{}) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var seen [3]uint64
	key := [3]bool{true, true, true}
	var pkts [3]rtp.Packet
	for i := range pkts {
		pkts[i] = rtp.Packet{Header: rtp.Header{Version: 2, Marker: true, SequenceNumber: uint16(20000 * i),
			Timestamp: uint32(1_000_000 * i)}, Payload: make([]byte, layerSizes[i])}
	}
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		plis := p.LayerPLIs()
		for i := range pkts {
			if plis[i] != seen[i] {
				seen[i], key[i] = plis[i], true
			}
			pk := &pkts[i]
			pk.SequenceNumber++
			pk.Timestamp += 1800
			pk.Payload[0] = 0x10 // VP8: start of partition 0
			pk.Payload[1] = 0x01 // inter frame
			if key[i] {
				pk.Payload[1] = 0x00 // keyframe
				key[i] = false
			}
			pk.Payload[2] = byte(i)
			p.WriteLayer(i, pk) //nolint:errcheck // before the connection is up
		}
	}
}

// viewerLog keeps what one viewer received of the video.
type viewerLog struct {
	mu    sync.Mutex
	ssrcs map[uint32]bool
	seqs  map[uint16]uint32 // sequence number → timestamp
	order []uint8           // layer of each packet, in arrival order
	first bool
	base  uint16 // the first sequence number, for unwrapping
}

func (v *viewerLog) onRTP(kind string, p *rtp.Packet) {
	if kind != "video" || len(p.Payload) < 3 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seqs == nil {
		v.seqs, v.ssrcs = map[uint16]uint32{}, map[uint32]bool{}
	}
	v.ssrcs[p.SSRC] = true
	v.seqs[p.SequenceNumber] = p.Timestamp
	v.order = append(v.order, p.Payload[2])
}

func (v *viewerLog) layer() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.order) == 0 {
		return -1
	}
	return int(v.order[len(v.order)-1])
}

// continuous checks that the viewer got one stream: one SSRC, every
// sequence number from the first to the last (no gap at a switch), and
// timestamps that never go back. It returns the layers in the order seen.
func (v *viewerLog) continuous(t *testing.T, who string) []uint8 {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.ssrcs) != 1 {
		t.Errorf("%s: %d SSRCs, want one stream", who, len(v.ssrcs))
	}
	// Unwrap from the lowest sequence number received (a test of a few
	// seconds never wraps twice).
	var list []int
	for s := range v.seqs {
		list = append(list, int(s))
	}
	sort.Ints(list)
	if len(list) > 1 && list[len(list)-1]-list[0] > 30000 { // wrapped: shift the low ones up
		for i, s := range list {
			if s < 30000 {
				list[i] = s + 65536
			}
		}
		sort.Ints(list)
	}
	for i := 1; i < len(list); i++ {
		if list[i] != list[i-1]+1 {
			t.Errorf("%s: sequence numbers jump from %d to %d", who, list[i-1], list[i])
		}
		a, b := v.seqs[uint16(list[i-1])], v.seqs[uint16(list[i])]
		if d := int32(b - a); d < 0 || d > 90000 {
			t.Errorf("%s: timestamp goes from %d to %d between %d and %d", who, a, b, list[i-1], list[i])
		}
	}
	var layers []uint8
	for _, l := range v.order {
		if len(layers) == 0 || layers[len(layers)-1] != l {
			layers = append(layers, l)
		}
	}
	return layers
}

// A camera sends three simulcast layers; of two viewers, the one whose
// browser reports a low download (REMB) is moved to the low layer at a
// keyframe, the other keeps the high one; each sees one continuous stream,
// and a keyframe request goes to the layer that viewer gets.
func TestSimulcastLayerPerViewer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx := ctxT(t, 40*time.Second)
	var patLog, guestLog viewerLog
	prov := e.join(t, e.appt.ProviderToken, true, func(o *testpeer.Options) { o.Simulcast = true })
	if err := prov.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go pumpLayers(prov, stop)

	pat := e.join(t, e.appt.PatientToken, false, func(o *testpeer.Options) { o.OnRTP = patLog.onRTP })
	guest := e.join(t, e.guest, false, func(o *testpeer.Options) { o.OnRTP = guestLog.onRTP })
	for _, v := range []*testpeer.Peer{pat, guest} {
		if err := prov.Send(ctx, video.ClientMessage{Type: "admit", ID: v.Welcome.ID}); err != nil {
			t.Fatal(err)
		}
		if err := v.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
	}
	show := func() string {
		return fmt.Sprintf("patient on layer %d, guest on layer %d, PLIs per layer %v", patLog.layer(), guestLog.layer(), prov.LayerPLIs())
	}
	// Both start with the high layer: their estimate has room for it.
	eventually(t, 15*time.Second, "both viewers on the high layer", func() bool { return patLog.layer() == 2 && guestLog.layer() == 2 })

	// The guest's download drops: its browser says 30 kbit/s.
	remb := make(chan struct{})
	go func() {
		tk := time.NewTicker(300 * time.Millisecond)
		defer tk.Stop()
		for {
			guest.SendREMB(30_000) //nolint:errcheck // repeated
			select {
			case <-remb:
				return
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	defer close(remb)
	eventually(t, 15*time.Second, "the constrained viewer on the low layer", func() bool { return guestLog.layer() == 0 })
	_, before := pat.Received()
	time.Sleep(1500 * time.Millisecond)
	if _, after := pat.Received(); after <= before || patLog.layer() != 2 {
		t.Fatalf("the other viewer lost the high layer: %s", show())
	}
	if guestLog.layer() != 0 {
		t.Fatalf("the constrained viewer left the low layer: %s", show())
	}

	// A keyframe request reaches the sender of the layer each viewer gets.
	plis := prov.LayerPLIs()
	eventually(t, 5*time.Second, "the guest's PLI at the low layer", func() bool {
		guest.RequestKeyframes() //nolint:errcheck // repeated
		return prov.LayerPLIs()[0] > plis[0]
	})
	plis = prov.LayerPLIs()
	eventually(t, 5*time.Second, "the patient's PLI at the high layer", func() bool {
		pat.RequestKeyframes() //nolint:errcheck // repeated
		return prov.LayerPLIs()[2] > plis[2]
	})

	time.Sleep(300 * time.Millisecond) // NACKed packets, if any, arrive
	if layers := guestLog.continuous(t, "guest"); len(layers) < 2 || layers[len(layers)-1] != 0 || !containsLayer(layers, 2) {
		t.Errorf("guest's layers in order: %v, want a switch from 2 down to 0", layers)
	}
	patLog.continuous(t, "patient")
}

func containsLayer(ls []uint8, l uint8) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}
