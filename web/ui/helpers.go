package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// maxForm bounds a form body; no clinician form comes near it.
const maxForm = 64 << 10

// user is the signed-in user (Require guarantees one).
func user(r *http.Request) *store.User { return auth.UserFrom(r.Context()) }

// props builds the page frame's props, taking any queued flash message.
func (h *handlers) props(w http.ResponseWriter, r *http.Request, title, active string) layout.PageProps {
	return layout.PageProps{Title: title, User: user(r), Active: active, Flash: layout.TakeFlash(w, r)}
}

// render writes a page; a failure after the header is only logged.
func (h *handlers) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	if err := layout.Render(w, r, status, c); err != nil {
		h.log.Error("render", "path", r.URL.Path, "err", err)
	}
}

// fail answers an error that is not a validation error (layout.Fail).
func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	layout.Fail(w, r, h.log, user(r), err)
}

// forbidden is the 403 page for a role that may not open a page.
func (h *handlers) forbidden(w http.ResponseWriter, r *http.Request) {
	h.fail(w, r, store.ErrForbidden)
}

// notFound is the 404 page for a path no route matches. API paths keep
// a plain answer: their clients do not read HTML.
func (h *handlers) notFound(w http.ResponseWriter, r *http.Request) {
	for _, api := range []string{"/qapi/", "/api/", "/fhir/", "/integrations/"} {
		if strings.HasPrefix(r.URL.Path, api) {
			http.NotFound(w, r)
			return
		}
	}
	if u, _ := h.auth.CurrentUser(w, r); u != nil {
		r = r.WithContext(h.auth.WithUser(r.Context(), u))
	}
	h.fail(w, r, store.ErrNotFound)
}

// parseForm reads a bounded form body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	return r.ParseForm()
}

// pathID is the {id} of the route as an integer (0 when malformed, which
// no row has, so it reads as not found).
func pathID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// localPath returns p when it is a path on this site, else def. It keeps
// redirects after sign-in or an action from leaving the appliance.
func localPath(p, def string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return def
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return def
	}
	if strings.ContainsAny(p, "\r\n\t") || strings.Contains(p, "\\") {
		return def
	}
	return p
}

// redirect sends the browser on with a 303 (the POST-redirect-GET pattern).
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// clinicLocation is the time zone a page shows times in when no waiting
// room says otherwise: the first room's, else the server's.
func clinicLocation(rooms []store.WaitingRoom) *time.Location {
	if len(rooms) > 0 {
		return rooms[0].Location()
	}
	return time.Local
}

// parseDay parses YYYY-MM-DD in loc; ok is false for anything else.
func parseDay(s string, loc *time.Location) (time.Time, bool) {
	d, err := time.ParseInLocation("2006-01-02", s, loc)
	if err != nil {
		return time.Time{}, false
	}
	return d, true
}

// dayRange is [midnight, next midnight) of the calendar day in loc.
func dayRange(day string, loc *time.Location) (time.Time, time.Time) {
	d, _ := time.ParseInLocation("2006-01-02", day, loc)
	return d, d.AddDate(0, 0, 1)
}

func statusLabel(ctx context.Context, s string) string {
	if l, ok := text.T(ctx).StatusLabel[s]; ok {
		return l
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
