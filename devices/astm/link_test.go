package astm_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/devices/astm/astmtest"
)

// peer plays the instrument on the far end of a net.Pipe, byte by byte.
type peer struct {
	t    *testing.T
	conn net.Conn
	in   chan byte
	clk  *astmtest.Clock
}

func newPeer(t *testing.T, conn net.Conn, clk *astmtest.Clock) *peer {
	p := &peer{t: t, conn: conn, in: make(chan byte, 1<<16), clk: clk}
	go func() {
		defer close(p.in)
		buf := make([]byte, 512)
		for {
			n, err := conn.Read(buf)
			for _, b := range buf[:n] {
				p.in <- b
			}
			if err != nil {
				return
			}
		}
	}()
	return p
}

func (p *peer) write(b ...byte) {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("peer write: %v", err)
	}
}

// frame sends one correct frame.
func (p *peer) frame(fn int, text string, final bool) {
	p.t.Helper()
	p.write(astm.AppendFrame(nil, astm.Frame{Number: fn, Text: []byte(text), Final: final})...)
}

// badFrame sends a frame whose text was damaged after the checksum was made.
func (p *peer) badFrame(fn int, text string, final bool) {
	p.t.Helper()
	b := astm.AppendFrame(nil, astm.Frame{Number: fn, Text: []byte(text), Final: final})
	b[2] ^= 0x20
	p.write(b...)
}

func (p *peer) next() byte {
	p.t.Helper()
	select {
	case b, ok := <-p.in:
		if !ok {
			p.t.Fatal("peer: link closed")
		}
		return b
	case <-time.After(5 * time.Second):
		p.t.Fatal("peer: nothing received within 5 s")
	}
	return 0
}

func (p *peer) expect(want byte) {
	p.t.Helper()
	if got := p.next(); got != want {
		p.t.Fatalf("peer: got %q, want %q", got, want)
	}
}

// readFrame reads one frame the host sent, STX through LF, and decodes it.
func (p *peer) readFrame() (astm.Frame, []byte) {
	p.t.Helper()
	raw := []byte{p.next()}
	if raw[0] != astm.STX {
		p.t.Fatalf("peer: got %q, want STX", raw[0])
	}
	for raw[len(raw)-1] != astm.LF {
		raw = append(raw, p.next())
	}
	f, err := astm.DecodeFrame(raw)
	if err != nil {
		p.t.Fatalf("peer: host sent a bad frame %q: %v", raw, err)
	}
	return f, raw
}

// advance lets the d timer the link is waiting on elapse.
func (p *peer) advance(d time.Duration) {
	p.t.Helper()
	p.await(d)
	p.clk.Advance(d)
}

// await blocks until the link has started a timer of d.
func (p *peer) await(d time.Duration) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.clk.AwaitTimer(ctx, d); err != nil {
		p.t.Fatal(err)
	}
}

var epoch = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

func newLink(t *testing.T, cfg astm.Config) (*astm.Link, *peer) {
	t.Helper()
	host, inst := net.Pipe()
	clk := astmtest.NewClock(epoch)
	cfg.Clock = clk
	l := astm.NewLink(host, cfg)
	t.Cleanup(func() {
		host.Close()
		inst.Close()
		l.Close()
	})
	return l, newPeer(t, inst, clk)
}

type received struct {
	tr  *astm.Transfer
	err error
}

func receiveAsync(l *astm.Link) <-chan received {
	ch := make(chan received, 1)
	go func() {
		tr, err := l.Receive(context.Background())
		ch <- received{tr, err}
	}()
	return ch
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("no result within 5 s")
	}
	var zero T
	return zero
}

const (
	rec1 = "H|\\^&|||CX300\rP|1||PAT-1\r"
	rec2 = "O|1|S1||^^^GLU\rR|1|^^^GLU|5,8|mmol/L\rL|1|N\r"
)

func TestReceiver(t *testing.T) {
	long := "H|\\^&\r" + strings.Repeat("R|1|^^^GLU|5,8|mmol/L\r", 300) + "L|1|N\r"
	tests := []struct {
		name     string
		busy     []bool // answers of Config.Busy, in order
		maxMsg   int
		strict   bool
		wantDev  []string // deviations the tolerant receiver notes
		script   func(p *peer)
		wantText string
		wantErr  error
		wantRaw  string // substring of the raw capture (or of AbortError.Raw)
	}{
		{
			name: "two frames",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(2, rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name: "bad checksum NAKed then resent",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.badFrame(1, rec1, false)
				p.expect(astm.NAK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(2, rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name: "duplicate frame ACKed and discarded",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(1, rec1, false) // our ACK was "lost"
				p.expect(astm.ACK)
				p.frame(2, rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name:   "strict: frame out of sequence NAKed",
			strict: true,
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(3, rec1, false)
				p.expect(astm.NAK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(2, rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name:   "strict: same number, other bytes taken as a re-send",
			strict: true,
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(1, "X|1\r", false)
				p.expect(astm.ACK)
				p.frame(2, rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name: "tolerant: frame out of sequence accepted and noted",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(3, rec1, false)
				p.expect(astm.ACK)
				p.frame(4, rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
			wantDev:  []string{"frame number 3 where 1 was expected; accepted (checksum right)"},
		},
		{
			name: "tolerant: numbering restarts at 1 mid-transfer",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				for i, r := range strings.SplitAfter(rec1+rec2, "\r")[:5] {
					n := i + 1
					if i >= 3 {
						n = i - 2 // 1, 2, 3, 1, 2
					}
					p.frame(n, r, i == 4)
					p.expect(astm.ACK)
				}
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
			wantDev:  []string{"frame number 1 where 4 was expected; accepted (checksum right)"},
		},
		{
			name: "tolerant: same number and same bytes counts once",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(2, rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name: "tolerant: same number, other bytes is a new frame",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(1, rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
			wantDev:  []string{"frame number 1 repeated with different bytes; accepted as a new frame (checksum right)"},
		},
		{
			name: "tolerant: bad checksum still NAKed",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.badFrame(5, rec1, false)
				p.expect(astm.NAK)
				p.frame(5, rec1+rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
			wantDev:  []string{"frame number 5 where 1 was expected; accepted (checksum right)"},
		},
		{
			name: "busy NAK then accepted",
			busy: []bool{true, false},
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.NAK)
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, rec1+rec2, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name: "missing LF, noise before ENQ",
			script: func(p *peer) {
				p.write('x', astm.LF, astm.ACK)
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				f := astm.AppendFrame(nil, astm.Frame{Number: 1, Text: []byte(rec1)})
				p.write(f[:len(f)-1]...) // no LF
				p.expect(astm.ACK)
				f = astm.AppendFrame(nil, astm.Frame{Number: 2, Text: []byte(rec2), Final: true})
				p.write(f[:len(f)-2]...) // no CR LF
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name: "frame numbers wrap 7 to 0",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				for i := 1; i <= 10; i++ {
					p.frame(i%8, string(rune('a'+i)), i == 10)
					p.expect(astm.ACK)
				}
				p.write(astm.EOT)
			},
			wantText: "bcdefghijk",
		},
		{
			name: "whole message in one frame of thousands of bytes",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, long, true)
				p.expect(astm.ACK)
				p.write(astm.EOT)
			},
			wantText: long,
		},
		{
			name: "every record its own frame ending CR ETB",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				for i, r := range strings.SplitAfter(rec1+rec2, "\r")[:5] {
					p.frame(i+1, r, false)
					p.expect(astm.ACK)
				}
				p.write(astm.EOT)
			},
			wantText: rec1 + rec2,
		},
		{
			name: "receiver timeout discards the partial message",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.advance(30 * time.Second)
			},
			wantErr: astm.ErrReceiveTimeout,
			wantRaw: rec1,
		},
		{
			name: "incoming data extends the receiver timer",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.await(30 * time.Second)
				p.clk.Advance(20 * time.Second)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				// The timer fires at 30 s, finds data 10 s old and
				// re-arms for the 20 s left.
				p.clk.Advance(10 * time.Second)
				p.advance(20 * time.Second)
			},
			wantErr: astm.ErrReceiveTimeout,
		},
		{
			name: "sender gives up after a NAK",
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.badFrame(1, rec1, false)
				p.expect(astm.NAK)
				p.write(astm.EOT)
			},
			wantErr: astm.ErrSenderAborted,
		},
		{
			name:   "message too large",
			maxMsg: 30,
			script: func(p *peer) {
				p.write(astm.ENQ)
				p.expect(astm.ACK)
				p.frame(1, rec1, false)
				p.expect(astm.ACK)
				p.frame(2, rec2, true)
				p.expect(astm.NAK)
				p.write(astm.EOT)
			},
			wantErr: astm.ErrMessageTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := astm.Config{MaxMessage: tt.maxMsg, Strict: tt.strict}
			if tt.busy != nil {
				answers := tt.busy
				cfg.Busy = func() bool {
					b := answers[0]
					answers = answers[1:]
					return b
				}
			}
			l, p := newLink(t, cfg)
			res := receiveAsync(l)
			tt.script(p)
			r := wait(t, res)
			if tt.wantErr != nil {
				var abort *astm.AbortError
				if !errors.As(r.err, &abort) || !errors.Is(r.err, tt.wantErr) {
					t.Fatalf("err = %v, want an AbortError for %v", r.err, tt.wantErr)
				}
				if !strings.Contains(string(abort.Raw), tt.wantRaw) {
					t.Errorf("abort raw %q does not hold %q", abort.Raw, tt.wantRaw)
				}
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if string(r.tr.Text) != tt.wantText {
				t.Errorf("text = %q, want %q", r.tr.Text, tt.wantText)
			}
			if r.tr.Raw[0] != astm.ENQ || r.tr.Raw[len(r.tr.Raw)-1] != astm.EOT {
				t.Errorf("raw should run from ENQ to EOT: %q", r.tr.Raw)
			}
			if !slices.Equal(r.tr.Deviations, tt.wantDev) {
				t.Errorf("deviations = %q, want %q", r.tr.Deviations, tt.wantDev)
			}
			got, dev := astm.UnframeReport(r.tr.Raw, tt.strict)
			if !bytes.Equal(got, r.tr.Text) {
				t.Errorf("UnframeReport(raw) = %q, want the text", got)
			}
			if !slices.Equal(dev, tt.wantDev) {
				t.Errorf("UnframeReport deviations = %q, want %q", dev, tt.wantDev)
			}
		})
	}
}

func TestReceiverContinuesAfterAbort(t *testing.T) {
	l, p := newLink(t, astm.Config{})
	res := receiveAsync(l)
	p.write(astm.ENQ)
	p.expect(astm.ACK)
	p.badFrame(1, rec1, true)
	p.expect(astm.NAK)
	p.write(astm.EOT)
	if r := wait(t, res); !errors.Is(r.err, astm.ErrSenderAborted) {
		t.Fatalf("first message: err = %v", r.err)
	}
	res = receiveAsync(l)
	p.write(astm.ENQ)
	p.expect(astm.ACK)
	p.frame(1, rec1, true)
	p.expect(astm.ACK)
	p.write(astm.EOT)
	if r := wait(t, res); r.err != nil || string(r.tr.Text) != rec1 {
		t.Fatalf("second message: %v, %+v", r.err, r.tr)
	}
}

func TestReceiveStopsOnContext(t *testing.T) {
	l, _ := newLink(t, astm.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Receive(ctx)
		done <- err
	}()
	cancel()
	if err := wait(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestReceiveReportsClosedPort(t *testing.T) {
	host, inst := net.Pipe()
	l := astm.NewLink(host, astm.Config{Clock: astmtest.NewClock(epoch)})
	defer l.Close()
	inst.Close()
	_, err := l.Receive(context.Background())
	var abort *astm.AbortError
	if err == nil || errors.As(err, &abort) {
		t.Fatalf("err = %v, want a read error", err)
	}
}

func sendAsync(l *astm.Link, text string) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- l.Send(context.Background(), []byte(text)) }()
	return ch
}

func TestSender(t *testing.T) {
	short := rec1 + rec2
	long := strings.Repeat("R|1|^^^GLU|5,8|mmol/L\r", 15) // 330 bytes: two frames
	tests := []struct {
		name    string
		text    string
		script  func(t *testing.T, p *peer)
		wantErr error
	}{
		{
			name: "two frames",
			text: long,
			script: func(t *testing.T, p *peer) {
				p.expect(astm.ENQ)
				p.write(astm.ACK)
				f, _ := p.readFrame()
				if f.Number != 1 || f.Final || len(f.Text) != 240 {
					t.Errorf("frame 1: %+v", f)
				}
				p.write(astm.ACK)
				f, _ = p.readFrame()
				if f.Number != 2 || !f.Final || string(f.Text) != long[240:] {
					t.Errorf("frame 2: %+v", f)
				}
				p.write(astm.ACK)
				p.expect(astm.EOT)
			},
		},
		{
			name: "NAKed frame resent",
			text: short,
			script: func(t *testing.T, p *peer) {
				p.expect(astm.ENQ)
				p.write(astm.ACK)
				_, first := p.readFrame()
				p.write(astm.NAK)
				_, again := p.readFrame()
				if !bytes.Equal(first, again) {
					t.Errorf("resent frame differs: %q vs %q", first, again)
				}
				p.write('?') // anything but ACK or EOT counts as NAK
				p.readFrame()
				p.write(astm.ACK)
				p.expect(astm.EOT)
			},
		},
		{
			name: "six failed attempts then EOT",
			text: short,
			script: func(t *testing.T, p *peer) {
				p.expect(astm.ENQ)
				p.write(astm.ACK)
				for range 6 {
					p.readFrame()
					p.write(astm.NAK)
				}
				p.expect(astm.EOT)
			},
			wantErr: astm.ErrTooManyAttempts,
		},
		{
			name: "busy: NAK to ENQ, bid again after 10 s",
			text: short,
			script: func(t *testing.T, p *peer) {
				p.expect(astm.ENQ)
				p.write(astm.NAK)
				p.advance(10 * time.Second)
				p.expect(astm.ENQ)
				if got := p.clk.Now().Sub(epoch); got < 10*time.Second {
					t.Errorf("bid again after %v, want >= 10s", got)
				}
				p.write(astm.ACK)
				p.readFrame()
				p.write(astm.ACK)
				p.expect(astm.EOT)
			},
		},
		{
			name: "no reply to ENQ within 15 s",
			text: short,
			script: func(t *testing.T, p *peer) {
				p.expect(astm.ENQ)
				p.advance(15 * time.Second)
				p.expect(astm.EOT)
			},
			wantErr: astm.ErrReplyTimeout,
		},
		{
			name: "no reply to a frame within 15 s",
			text: short,
			script: func(t *testing.T, p *peer) {
				p.expect(astm.ENQ)
				p.write(astm.ACK)
				p.readFrame()
				p.await(15 * time.Second) // the stale one from the ENQ
				p.advance(15 * time.Second)
				p.expect(astm.EOT)
			},
			wantErr: astm.ErrReplyTimeout,
		},
		{
			name: "receiver interrupt before the last frame",
			text: long,
			script: func(t *testing.T, p *peer) {
				p.expect(astm.ENQ)
				p.write(astm.ACK)
				p.readFrame()
				p.write(astm.EOT)
				p.expect(astm.EOT)
			},
			wantErr: astm.ErrInterrupted,
		},
		{
			name: "receiver interrupt on the last frame is success",
			text: short,
			script: func(t *testing.T, p *peer) {
				p.expect(astm.ENQ)
				p.write(astm.ACK)
				p.readFrame()
				p.write(astm.EOT)
				p.expect(astm.EOT)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, p := newLink(t, astm.Config{})
			res := sendAsync(l, tt.text)
			tt.script(t, p)
			err := wait(t, res)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Send err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestSenderContention: host and instrument bid at the same time. The
// instrument wins: the host receives its message, waits 20 s, then sends,
// and the instrument's message comes out of the next Receive.
func TestSenderContention(t *testing.T) {
	l, p := newLink(t, astm.Config{})
	res := sendAsync(l, rec1+rec2)

	p.expect(astm.ENQ)
	p.write(astm.ENQ) // contention
	// The instrument waits 1 s and bids again; the host must answer.
	p.write(astm.ENQ)
	p.expect(astm.ACK)
	p.frame(1, "H|\\^&\rR|1|^^^CRP|>200\rL|1|N\r", true)
	p.expect(astm.ACK)
	p.write(astm.EOT)

	p.advance(20 * time.Second)
	p.expect(astm.ENQ)
	if got := p.clk.Now().Sub(epoch); got < 20*time.Second {
		t.Errorf("host bid again after %v, want >= 20s", got)
	}
	p.write(astm.ACK)
	f, _ := p.readFrame()
	if string(f.Text) != rec1+rec2 {
		t.Errorf("host sent %q", f.Text)
	}
	p.write(astm.ACK)
	p.expect(astm.EOT)
	if err := wait(t, res); err != nil {
		t.Fatal(err)
	}

	tr, err := l.Receive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(tr.Text) != "H|\\^&\rR|1|^^^CRP|>200\rL|1|N\r" {
		t.Errorf("queued message = %q", tr.Text)
	}
}

// TestSenderYieldsToPendingBid: an ENQ that arrived while the host was idle
// is served before the host bids.
func TestSenderYieldsToPendingBid(t *testing.T) {
	l, p := newLink(t, astm.Config{})
	p.write(astm.ENQ) // the link's reader holds it until someone looks
	res := sendAsync(l, rec1)
	if p.next() == astm.ENQ {
		// The bid had not reached the state machine yet when Send looked:
		// this is plain contention, and the instrument bids again.
		p.write(astm.ENQ)
		p.expect(astm.ACK)
	}
	p.frame(1, rec2, true)
	p.expect(astm.ACK)
	p.write(astm.EOT)
	p.advance(20 * time.Second)
	p.expect(astm.ENQ)
	p.write(astm.ACK)
	p.readFrame()
	p.write(astm.ACK)
	p.expect(astm.EOT)
	if err := wait(t, res); err != nil {
		t.Fatal(err)
	}
	tr, err := l.Receive(context.Background())
	if err != nil || string(tr.Text) != rec2 {
		t.Fatalf("queued: %v %+v", err, tr)
	}
}

// TestSendReceiveRoundTrip runs two Links against each other.
func TestSendReceiveRoundTrip(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	host := astm.NewLink(a, astm.Config{})
	inst := astm.NewLink(b, astm.Config{})
	defer host.Close()
	defer inst.Close()
	text := "H|\\^&\r" + strings.Repeat("P|1||ID\rO|1|S||^^^GLU\r", 40) + "L|1|N\r"
	res := receiveAsync(host)
	if err := inst.Send(context.Background(), []byte(text)); err != nil {
		t.Fatal(err)
	}
	r := wait(t, res)
	if r.err != nil || string(r.tr.Text) != text {
		t.Fatalf("got %v %q", r.err, r.tr.Text)
	}
}

// TestReceiverCommit: the final frame is acknowledged only once Commit has
// the message; a failing Commit NAKs it, and its retransmission is judged
// afresh rather than ACKed as a duplicate.
func TestReceiverCommit(t *testing.T) {
	var commits [][]byte
	fail := true
	l, p := newLink(t, astm.Config{Commit: func(raw []byte) error {
		commits = append(commits, raw)
		if fail {
			fail = false
			return errors.New("disk full")
		}
		return nil
	}})
	res := receiveAsync(l)
	p.write(astm.ENQ)
	p.expect(astm.ACK)
	p.frame(1, rec1, false) // ETB: no commit
	p.expect(astm.ACK)
	p.frame(2, rec2, true)
	p.expect(astm.NAK) // commit failed
	p.frame(2, rec2, true)
	p.expect(astm.ACK)
	p.write(astm.EOT)
	r := wait(t, res)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if string(r.tr.Text) != rec1+rec2 {
		t.Errorf("text = %q", r.tr.Text)
	}
	if len(commits) != 2 {
		t.Fatalf("%d commits, want 2", len(commits))
	}
	last := commits[1]
	if last[0] != astm.ENQ || !bytes.HasSuffix(astm.Unframe(last), []byte(rec2)) {
		t.Errorf("commit got %q", last)
	}
	if string(astm.Unframe(last)) != rec1+rec2 {
		t.Errorf("committed capture unframes to %q", astm.Unframe(last))
	}
}
