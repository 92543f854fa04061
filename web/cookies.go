package web

import (
	"net/http"
	"strings"
)

// cookieFlags makes every cookie the appliance sets HttpOnly (no page
// script reads a cookie) and, when it serves HTTPS, Secure: one place, so a
// cookie added later (a flash message, a language choice) cannot forget.
func cookieFlags(secure bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&cookieWriter{ResponseWriter: w, secure: secure}, r)
	})
}

type cookieWriter struct {
	http.ResponseWriter
	secure bool
	done   bool
}

func (c *cookieWriter) fix() {
	if c.done {
		return
	}
	c.done = true
	h := c.ResponseWriter.Header()
	for i, v := range h["Set-Cookie"] {
		attrs := strings.ToLower(v)
		if !strings.Contains(attrs, "; httponly") {
			v += "; HttpOnly"
		}
		if c.secure && !strings.Contains(attrs, "; secure") {
			v += "; Secure"
		}
		h["Set-Cookie"][i] = v
	}
}

func (c *cookieWriter) WriteHeader(code int) {
	c.fix()
	c.ResponseWriter.WriteHeader(code)
}

func (c *cookieWriter) Write(b []byte) (int, error) {
	c.fix()
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush, deadlines and Hijack.
func (c *cookieWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
