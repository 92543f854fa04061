package auth

import (
	"net/http"
	"strings"
	"time"
)

// AccountKey is the Limiter key of an account: the e-mail as the store
// matches it, whether or not such an account exists.
func AccountKey(email string) string { return "account:" + strings.ToLower(strings.TrimSpace(email)) }

// AddressKey is the Limiter key of the request's client address.
func AddressKey(r *http.Request) string { return addressPrefix + clientIP(r) }

const addressPrefix = "address:"

// Allow reports whether every key may try now; if not, the longest wait.
func (a *Auth) Allow(keys ...string) (bool, time.Duration) {
	ok, wait := true, time.Duration(0)
	for _, k := range keys {
		if kok, kwait := a.Limiter.Allow(k); !kok {
			ok, wait = false, max(wait, kwait)
		}
	}
	return ok, wait
}

// Fail records a failed attempt under every key.
func (a *Auth) Fail(keys ...string) {
	for _, k := range keys {
		a.Limiter.Fail(k)
	}
}

// Succeed clears a key after a successful sign-in (the account's; the
// address keeps counting, or one valid account would reset a guesser).
func (a *Auth) Succeed(key string) { a.Limiter.Succeed(key) }

// FailureFloor is the least time a failed sign-in takes to answer, so that
// neither an unknown e-mail (one password hash) nor a real account (the
// hash and a write of the failure) can be told apart by timing.
var FailureFloor = 200 * time.Millisecond

// Equalise waits until FailureFloor has passed since start.
func Equalise(start time.Time) {
	if d := FailureFloor - time.Since(start); d > 0 {
		time.Sleep(d)
	}
}
