package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSignInRevealsNothing: an unknown e-mail and a real account answer
// the same statuses at the same attempts, with the same message; after the
// backoff the right password works (no wall). That both cost the same
// password derivation (so the same time) is counted, not timed, by the
// store's TestAuthenticateSameWorkForUnknownEmail: a wall-clock comparison
// here failed whenever the machine was busy.
func TestSignInRevealsNothing(t *testing.T) {
	// Not parallel: the sign-in backoff is a time window, and attempts slowed
	// by tests beside it outlived it (attempt 6 answered 401, not 429).
	e := newEnv(t)
	type answer struct {
		status int
		msg    string
	}
	try := func(b *browser, email, pw string) answer {
		r := b.post("/signin", url.Values{"email": {email}, "password": {pw}})
		msg := ""
		if i := strings.Index(r.body, "Too many failed"); i >= 0 {
			msg = "too many"
		} else if strings.Contains(r.body, "Wrong") || strings.Contains(r.body, "wrong") {
			msg = "wrong"
		}
		return answer{r.status, msg}
	}
	// Each from its own address (the per-address count stays out of it).
	real, unknown := e.browser(), e.browser()
	var realAns, unknownAns []answer
	for range 7 {
		realAns = append(realAns, try(real, "front@test.example", "wrong"))
		unknownAns = append(unknownAns, try(unknown, "nobody@test.example", "wrong"))
	}
	for i := range realAns {
		r, u := realAns[i], unknownAns[i]
		if r.status != u.status || r.msg != u.msg {
			t.Errorf("attempt %d: real account %d %q, unknown e-mail %d %q", i+1, r.status, r.msg, u.status, u.msg)
		}
	}
	if realAns[4].status != http.StatusUnauthorized || realAns[5].status != http.StatusTooManyRequests {
		t.Errorf("statuses %v: want 401 for five failures, then 429 while backing off", realAns)
	}
	// A backoff, not a wall: after the wait the right password works.
	time.Sleep(2100 * time.Millisecond)
	if a := try(real, "front@test.example", password); a.status != http.StatusSeeOther {
		t.Fatalf("the right password after the wait: %d", a.status)
	}
}
