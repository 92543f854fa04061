package web

import (
	"net/http"
	"strings"
)

// The Content-Security-Policy of every answer: only our own scripts, styles,
// images and connections, no inline script or event handler, no plugins, no
// framing. The visit pages (/visit/...) hold the video call, which also
// needs the camera and microphone streams shown in <video> elements
// (media from blob: and mediastream:) and the signalling WebSocket on this
// host (wss: / ws: to self, spelled out for browsers whose 'self' does not
// cover WebSocket schemes).
const (
	cspBase = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
		"connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	permissionsBase  = "camera=(), microphone=(), display-capture=(), geolocation=(), payment=(), usb=(), serial=()"
	permissionsVisit = "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=(), serial=()"
)

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if isVisitPage(r.URL.Path) {
			h.Set("Content-Security-Policy", visitCSP(r))
			h.Set("Permissions-Policy", permissionsVisit)
		} else {
			h.Set("Content-Security-Policy", cspBase)
			h.Set("Permissions-Policy", permissionsBase)
		}
		next.ServeHTTP(w, r)
	})
}

// isVisitPage: the patient's and provider's visit pages, where the call runs.
func isVisitPage(path string) bool { return strings.HasPrefix(path, "/visit/") }

// visitCSP is the policy of a visit page: the base policy plus media
// streams and the signalling WebSocket of this host.
func visitCSP(r *http.Request) string {
	connect := "connect-src 'self'"
	if host := r.Host; validHost(host) {
		if r.TLS != nil {
			connect += " wss://" + host
		} else {
			connect += " ws://" + host
		}
	}
	return strings.Replace(strings.Replace(cspBase, "connect-src 'self'", connect, 1),
		"media-src 'self'", "media-src 'self' blob: mediastream:", 1)
}

// validHost guards the header against a Host that is not a plain host[:port].
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}
