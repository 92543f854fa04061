// Package auth signs clinicians in and out: server-side sessions (a
// gorilla/sessions store kept in SQLite, so signing out really ends a
// session), idle time-out, and the middleware that puts the signed-in user
// into the request.
package auth
