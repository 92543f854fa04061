package web

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store/storetest"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// logBuffer is a slog destination tests read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestForwardedFor(t *testing.T) {
	proxies, err := ParseTrustedProxies("10.0.0.1, 192.168.0.0/16,::1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"no trusted proxies: the peer", nil, "10.0.0.1:5000", []string{"203.0.113.9"}, "10.0.0.1"},
		{"a trusted proxy: its client", proxies, "10.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"an untrusted peer's header is ignored", proxies, "198.51.100.7:5000", []string{"203.0.113.9"}, "198.51.100.7"},
		{"the right-most untrusted hop, not what the client wrote", proxies, "10.0.0.1:5000", []string{"1.2.3.4, 203.0.113.9, 192.168.1.1"}, "203.0.113.9"},
		{"several headers are one list", proxies, "10.0.0.1:5000", []string{"1.2.3.4", "203.0.113.9"}, "203.0.113.9"},
		{"only proxies: the left-most", proxies, "10.0.0.1:5000", []string{"192.168.1.2, 192.168.1.1"}, "192.168.1.2"},
		{"garbage stops the chain: the peer", proxies, "10.0.0.1:5000", []string{"not-an-address"}, "10.0.0.1"},
		{"no header: the peer", proxies, "10.0.0.1:5000", nil, "10.0.0.1"},
		{"IPv6 proxy", proxies, "[::1]:5000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv4-mapped client", proxies, "10.0.0.1:5000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := forwardedFor(tt.trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = httpx.ClientIP(r) }))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tt.want {
				t.Errorf("client %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0", "10.0.0.0/33", "proxy.example"} {
		if _, err := ParseTrustedProxies(bad); err == nil {
			t.Errorf("--trusted-proxies %q accepted", bad)
		}
	}
}

// Behind a trusted proxy every use of the client address sees the client:
// the request log, and sign-in's per-address backoff, so one guessing
// client does not slow down the clinic behind the same proxy.
func TestTrustedProxyEndToEnd(t *testing.T) {
	st := storetest.Open(t)
	logs := &logBuffer{}
	proxy := netip.MustParsePrefix("10.0.0.1/32")
	h := New(Deps{Store: st, Log: slog.New(slog.NewTextHandler(logs, nil)), PublicURL: "http://x",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, TrustedProxies: []netip.Prefix{proxy}})
	attempt := 0
	signin := func(client string) int {
		// A new e-mail each time: only the per-address count grows.
		attempt++
		r := httptest.NewRequest("POST", "/signin", strings.NewReader(fmt.Sprintf("email=nobody%d%%40example.org&password=wrong", attempt)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "10.0.0.1:4000"
		r.Header.Set("X-Forwarded-For", client)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	signin("203.0.113.9")
	if !strings.Contains(logs.String(), "ip=203.0.113.9") {
		t.Fatalf("the log does not name the forwarded client:\n%s", logs)
	}
	// One client fails until its address backs off...
	var last int
	for range 25 {
		last = signin("203.0.113.9")
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("25 failures from one client behind the proxy: %d, want 429", last)
	}
	// ...and another client behind the same proxy is not slowed down.
	if code := signin("203.0.113.10"); code == http.StatusTooManyRequests {
		t.Fatalf("another client behind the proxy: %d", code)
	}
}

// Every cookie is HttpOnly, and Secure when the appliance serves HTTPS:
// the flash cookie too, which its setter does not mark Secure itself.
func TestCookieFlags(t *testing.T) {
	for _, secure := range []bool{true, false} {
		h := cookieFlags(secure, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			layout.SetFlash(w, "ok", "Saved")
			http.SetCookie(w, &http.Cookie{Name: "plain", Value: "1"})
			http.SetCookie(w, &http.Cookie{Name: "already", Value: "1", Secure: true, HttpOnly: true})
			w.WriteHeader(http.StatusSeeOther)
		}))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
		cookies := w.Result().Cookies()
		if len(cookies) != 3 {
			t.Fatalf("%d cookies", len(cookies))
		}
		for _, c := range cookies {
			if !c.HttpOnly || c.Secure != (secure || c.Name == "already") {
				t.Errorf("secure %v: cookie %s: HttpOnly %v Secure %v", secure, c.Name, c.HttpOnly, c.Secure)
			}
		}
		for _, v := range w.Header()["Set-Cookie"] {
			if n := strings.Count(strings.ToLower(v), "; secure"); n > 1 {
				t.Errorf("Secure twice: %s", v)
			}
		}
	}
}

// The flash cookie of a real page action through New comes out Secure.
func TestFlashCookieSecure(t *testing.T) {
	st := storetest.Open(t)
	h := New(Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: "https://x",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, SecureCookies: true})
	// Signing out sets the flash message ("signed out") on the redirect.
	r := httptest.NewRequest("POST", "/signout", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	flash := false
	for _, c := range w.Result().Cookies() {
		flash = flash || c.Name == "clinicbox_flash"
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s: Secure %v HttpOnly %v", c.Name, c.Secure, c.HttpOnly)
		}
	}
	if !flash {
		t.Errorf("sign-out (%d) set no flash cookie: %v", w.Code, w.Header()["Set-Cookie"])
	}
}

func TestBodyDeadlineFor(t *testing.T) {
	b := bodyDeadlines(nil)
	for path, want := range map[string]time.Duration{
		"/signin":                             b.Short,
		"/api/v1/integrationAuth":             b.Short,
		"/fhir/R4/auth/token":                 b.Short,
		"/api/v1/instrumentResults":           b.Upload,
		"/api/poct/v1/encounters/e/documents": b.Upload,
		"/qapi/v1/appointments/a/attachments": b.Upload,
		"/qapi/v1/patients":                   b.Default,
	} {
		if got := b.For(path); got != want {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
}

// A body that trickles in is cut at its route's deadline, the handler sees
// a read error, and the cut is logged once with the route.
func TestBodyDeadlineCuts(t *testing.T) {
	logs := &logBuffer{}
	readErr := make(chan error, 1)
	b := httpx.BodyDeadlines{Short: 300 * time.Millisecond, Upload: time.Minute, Default: time.Minute,
		ShortPaths: []string{"/signin"}, Log: slog.New(slog.NewTextHandler(logs, nil))}
	srv := httptest.NewServer(b.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		readErr <- err
		w.WriteHeader(http.StatusBadRequest)
	})))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /signin HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
	err = <-readErr
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read error %v, want a deadline", err)
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Errorf("answer %q", line)
	}
	if l := logs.String(); !strings.Contains(l, "slow request body cut off") || !strings.Contains(l, "path=/signin") || strings.Count(l, "cut off") != 1 {
		t.Errorf("log:\n%s", l)
	}
}

// One address holds at most max connections; more are closed at once and
// logged; an exempt address (a trusted proxy) is not limited; a closed
// connection frees its place.
func TestLimitPerClient(t *testing.T) {
	logs := &logBuffer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := httpx.LimitPerClient(ln, 2, []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")}, slog.New(slog.NewTextHandler(logs, nil)))
	defer lim.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := lim.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closedAtOnce := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
	}
	dial("127.0.0.1")
	dial("127.0.0.1")
	first := <-accepted
	<-accepted
	if !closedAtOnce(dial("127.0.0.1")) {
		t.Fatal("a third connection from one address was not closed")
	}
	if !closedAtOnce(dial("127.0.0.1")) {
		t.Fatal("a fourth connection from one address was not closed")
	}
	if n := strings.Count(logs.String(), "too many from one address"); n != 1 {
		t.Errorf("%d log lines for refusals from one address within a minute, want 1:\n%s", n, logs)
	}
	for range 3 {
		dial("127.0.0.3") // the trusted proxy: not limited
		<-accepted
	}
	dial("127.0.0.2") // another client
	<-accepted
	// The server closing one of the first address's connections frees a place.
	first.Close()
	dial("127.0.0.1")
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("a place freed by a closed connection was not given to the next one")
	}
}
