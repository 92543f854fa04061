package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// CookieName is the session cookie's name.
const CookieName = "clinicbox_session"

// SessionStore is a gorilla/sessions Store whose cookie holds only a signed
// random id; the session itself is a row in the database.
type SessionStore struct {
	st       *store.Store
	codecs   []securecookie.Codec
	opts     sessions.Options
	Idle     time.Duration // a session unused this long has ended
	Absolute time.Duration // a session older than this has ended
}

// NewSessionStore makes a store whose cookies are signed with keys (the
// first is used to sign; all are accepted, so keys can be rotated).
func NewSessionStore(st *store.Store, secure bool, keys ...[]byte) *SessionStore {
	return &SessionStore{
		st:     st,
		codecs: securecookie.CodecsFromPairs(keys...),
		opts: sessions.Options{
			Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
		},
		Idle:     30 * time.Minute,
		Absolute: 12 * time.Hour,
	}
}

// Get returns the request's session (cached per request by gorilla).
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named in the request's cookie, or starts a new one.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.opts
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, s.codecs...); err != nil {
		return sess, nil // a stale or forged cookie is just no session
	}
	row, err := s.st.SessionByID(r.Context(), hashID(id))
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	if s.st.Now().Sub(row.LastSeenAt) > s.Idle {
		s.st.DeleteSession(context.WithoutCancel(r.Context()), row.ID)
		return sess, nil
	}
	if err := gob.NewDecoder(bytes.NewReader(row.Data)).Decode(&sess.Values); err != nil {
		return sess, nil
	}
	sess.ID = id
	sess.IsNew = false
	sess.Values[lastSeenKey] = row.LastSeenAt.Unix()
	sess.Values[createdKey] = row.CreatedAt.Unix()
	return sess, nil
}

const (
	lastSeenKey = "_last_seen"
	createdKey  = "_created"
)

// Save writes the session row and the cookie; MaxAge < 0 deletes both.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.st.DeleteSession(r.Context(), hashID(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" {
		sess.ID = store.NewToken(32)
	}
	created := time.Time{}
	if v, ok := sess.Values[createdKey].(int64); ok {
		created = time.Unix(v, 0)
	}
	values := map[any]any{}
	for k, v := range sess.Values {
		if k != lastSeenKey && k != createdKey {
			values[k] = v
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(values); err != nil {
		return err
	}
	userID, _ := sess.Values[userKey].(int64)
	start := created
	if start.IsZero() {
		start = s.st.Now()
	}
	row := &store.Session{
		ID: hashID(sess.ID), UserID: userID, Data: buf.Bytes(), RemoteAddr: clientIP(r),
		CreatedAt: created, ExpiresAt: start.Add(s.Absolute),
	}
	if err := s.st.SaveSession(r.Context(), row); err != nil {
		return err
	}
	encoded, err := securecookie.EncodeMulti(sess.Name(), sess.ID, s.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

// hashID is what the database keeps of a session id, so a copy of the
// database holds no usable session.
func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}
