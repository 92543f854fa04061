package video_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"

	"github.com/clinicbox/clinicbox/video"
	"github.com/clinicbox/clinicbox/video/testpeer"
)

// movingNet is a phone's network: one interface whose address can change
// (Wi-Fi to 4G). Sockets of the old address go silent, as they do when the
// phone leaves the Wi-Fi.
type movingNet struct {
	*stdnet.Net
	mu    sync.Mutex
	ip    net.IP
	gen   int
	conns []*movingConn
}

func (n *movingNet) iface() *transport.Interface {
	ifc := transport.NewInterface(net.Interface{Index: 1, MTU: 1500, Name: "wlan0", Flags: net.FlagUp | net.FlagRunning})
	n.mu.Lock()
	ifc.AddAddress(&net.IPNet{IP: n.ip, Mask: net.CIDRMask(8, 32)})
	n.mu.Unlock()
	return ifc
}

func (n *movingNet) Interfaces() ([]*transport.Interface, error) {
	return []*transport.Interface{n.iface()}, nil
}
func (n *movingNet) InterfaceByIndex(int) (*transport.Interface, error) {
	return n.iface(), nil
}
func (n *movingNet) InterfaceByName(string) (*transport.Interface, error) {
	return n.iface(), nil
}

func (n *movingNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	mc := &movingConn{UDPConn: c}
	n.conns = append(n.conns, mc)
	return mc, nil
}

// move gives the interface a new address and silences the old sockets.
func (n *movingNet) move(ip net.IP) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ip = ip
	for _, c := range n.conns {
		c.dead.Store(true)
	}
}

type movingConn struct {
	transport.UDPConn
	dead atomic.Bool
}

func (c *movingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.UDPConn.ReadFrom(b)
		if err != nil || !c.dead.Load() {
			return n, a, err
		}
	}
}

func (c *movingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	if c.dead.Load() {
		return len(b), nil
	}
	return c.UDPConn.WriteTo(b, a)
}

// The patient's address changes mid-call: the connection fails over to the
// new address by an ICE restart, and media flows again.
func TestICERestartAfterAddressChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx := ctxT(t, 30*time.Second)
	std, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	mn := &movingNet{Net: std, ip: net.IPv4(127, 0, 0, 2)}
	prov := e.join(t, e.appt.ProviderToken, true)
	pat := e.join(t, e.appt.PatientToken, true, func(o *testpeer.Options) { o.Net = mn })
	if err := prov.Send(ctx, video.ClientMessage{Type: "admit", ID: pat.Welcome.ID}); err != nil {
		t.Fatal(err)
	}
	if err := pat.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go pump(prov, stop)
	go pump(pat, stop)
	eventually(t, 10*time.Second, "media before the move", func() bool { _, v := pat.Received(); _, w := prov.Received(); return v > 20 && w > 20 })

	mn.move(net.IPv4(127, 0, 0, 3))
	// The provider sees the patient as reconnecting.
	eventually(t, 10*time.Second, "reconnecting shown", func() bool {
		m, err := prov.WaitFor(ctx, "participants")
		if err != nil {
			return false
		}
		for _, q := range m.Participants {
			if q.ID == pat.Welcome.ID && q.Reconnecting {
				return true
			}
		}
		return false
	})
	offers := pat.Offers()
	if err := pat.Send(ctx, video.ClientMessage{Type: "restart"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "restart offer answered", func() bool { return pat.Offers() > offers })
	_, v0 := pat.Received()
	_, w0 := prov.Received()
	eventually(t, 15*time.Second, "media after the restart", func() bool {
		_, v := pat.Received()
		_, w := prov.Received()
		return v > v0+20 && w > w0+20
	})
}

// With only the TURN relay allowed (a network that blocks everything but
// the TURN port), the call runs through the embedded TURN server, over UDP
// and over TCP.
func TestRelayOnlyThroughEmbeddedTURN(t *testing.T) {
	t.Parallel()
	for _, tr := range []string{"udp", "tcp"} {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, true)
			ctx := ctxT(t, 30*time.Second)
			prov := e.join(t, e.appt.ProviderToken, true)
			pat := e.join(t, e.appt.PatientToken, true, func(o *testpeer.Options) { o.RelayOnly, o.TURNTransport = true, tr })
			if len(pat.Welcome.ICEServers) != 1 || pat.Welcome.ICEServers[0].Username == "" || pat.Welcome.ICEServers[0].Credential == "" {
				t.Fatalf("ice servers = %+v", pat.Welcome.ICEServers)
			}
			if err := prov.Send(ctx, video.ClientMessage{Type: "admit", ID: pat.Welcome.ID}); err != nil {
				t.Fatal(err)
			}
			if err := pat.WaitConnected(ctx); err != nil {
				t.Fatal(err)
			}
			if !pat.SelectedRelay() {
				t.Fatal("the connection does not use the relay")
			}
			stop := make(chan struct{})
			defer close(stop)
			go pump(prov, stop)
			go pump(pat, stop)
			eventually(t, 10*time.Second, "media through the relay", func() bool {
				a, v := pat.Received()
				b, w := prov.Received()
				return a > 20 && v > 20 && b > 20 && w > 20
			})
		})
	}
}

// A full rejoin (the page's last resort after a failed ICE restart): an
// admitted patient whose connection dropped comes back within the grace
// period without waiting in the lobby again, and the call stays "on call".
func TestRejoinAfterDropSkipsTheLobby(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx := ctxT(t, 20*time.Second)
	prov := e.join(t, e.appt.ProviderToken, true)
	pat := e.join(t, e.appt.PatientToken, true)
	if err := prov.Send(ctx, video.ClientMessage{Type: "admit", ID: pat.Welcome.ID}); err != nil {
		t.Fatal(err)
	}
	if err := pat.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Second, "on call", func() bool { v, _ := e.videoStatus(t); return v == "on call" })
	pat.Close(false) // the connection drops; no "leave"
	again := e.join(t, e.appt.PatientToken, true)
	if again.Welcome.State != "admitted" {
		t.Fatalf("rejoin welcome = %+v, want admitted", again.Welcome)
	}
	if err := again.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go pump(prov, stop)
	eventually(t, 10*time.Second, "media after the rejoin", func() bool { a, v := again.Received(); return a > 20 && v > 20 })
	time.Sleep(600 * time.Millisecond) // longer than the grace period of the first connection
	if v, _ := e.videoStatus(t); v != "on call" {
		t.Errorf("video status after the rejoin = %q, want on call", v)
	}
}
