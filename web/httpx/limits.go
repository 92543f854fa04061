package httpx

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// BodyDeadlines gives each request body a read deadline chosen by its path,
// so a client sending its body one byte every few seconds is cut off: short
// for sign-in and token routes (a few hundred bytes), long for uploads. A
// body read that trips it fails (the handler answers in its face's shape,
// usually 400) and is logged once with the route and address.
type BodyDeadlines struct {
	Short, Upload, Default time.Duration
	ShortPaths             []string // exact paths: sign-in, token routes
	UploadSuffixes         []string // path suffixes of upload routes
	Log                    *slog.Logger
}

// Wrap applies the deadlines to next.
func (b BodyDeadlines) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 && r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
			next.ServeHTTP(w, r)
			return
		}
		d := b.For(r.URL.Path)
		if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(d)); err == nil {
			r.Body = &deadlineBody{ReadCloser: r.Body, log: b.Log, r: r, d: d}
		}
		next.ServeHTTP(w, r)
	})
}

// For is the read deadline of a path's body.
func (b BodyDeadlines) For(path string) time.Duration {
	for _, p := range b.ShortPaths {
		if path == p {
			return b.Short
		}
	}
	for _, s := range b.UploadSuffixes {
		if strings.HasSuffix(path, s) {
			return b.Upload
		}
	}
	return b.Default
}

type deadlineBody struct {
	io.ReadCloser
	log    *slog.Logger
	r      *http.Request
	d      time.Duration
	logged bool
}

func (d *deadlineBody) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err != nil && !d.logged && errors.Is(err, os.ErrDeadlineExceeded) {
		d.logged = true
		if d.log != nil {
			d.log.Warn("slow request body cut off", "path", d.r.URL.Path, "ip", ClientIP(d.r), "deadline_s", d.d.Seconds())
		}
	}
	return n, err
}

// LimitPerClient wraps ln so that one client address holds at most max
// connections at once; further ones are closed at once (and logged, at
// most once a minute per address). Addresses in exempt (trusted reverse
// proxies, which carry every client) are not limited.
func LimitPerClient(ln net.Listener, max int, exempt []netip.Prefix, log *slog.Logger) net.Listener {
	return &perClient{Listener: ln, max: max, exempt: exempt, log: log, open: map[netip.Addr]int{}, logged: map[netip.Addr]time.Time{}}
}

type perClient struct {
	net.Listener
	max    int
	exempt []netip.Prefix
	log    *slog.Logger

	mu     sync.Mutex
	open   map[netip.Addr]int
	logged map[netip.Addr]time.Time
}

func (l *perClient) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil {
			return c, nil
		}
		a := ap.Addr().Unmap()
		if l.isExempt(a) {
			return c, nil
		}
		l.mu.Lock()
		if l.open[a] >= l.max {
			last := l.logged[a]
			now := time.Now()
			if now.Sub(last) > time.Minute {
				l.logged[a] = now
				if len(l.logged) > 10000 {
					clear(l.logged)
				}
			}
			l.mu.Unlock()
			c.Close()
			if now.Sub(last) > time.Minute && l.log != nil {
				l.log.Warn("connection refused: too many from one address", "ip", a.String(), "max", l.max)
			}
			continue
		}
		l.open[a]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() {
			l.mu.Lock()
			if l.open[a]--; l.open[a] <= 0 {
				delete(l.open, a)
			}
			l.mu.Unlock()
		}}, nil
	}
}

func (l *perClient) isExempt(a netip.Addr) bool {
	for _, p := range l.exempt {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
