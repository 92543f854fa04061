package layout

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/a-h/templ"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

// Navigation keys for PageProps.Active.
const (
	NavBoard        = "board"
	NavAppointments = "appointments"
	NavPatients     = "patients"
	NavStations     = "stations"
	NavAdmin        = "admin"
	NavMonitoring   = "monitoring"
)

// PageProps is what the page frame needs.
type PageProps struct {
	Title   string      // the page's own title; " · Clinicbox" is appended
	User    *store.User // signed-in user; nil hides the navigation (sign-in page)
	Active  string      // Nav* key of the current section
	Flash   []Flash     // messages to show above the content
	Scripts []string    // extra deferred scripts (paths under /assets/)
	BodyID  string      // optional id on <body> for page-specific styles
	Crumbs  []Crumb     // breadcrumbs above the content; the last is the page itself
}

// Crumb is one step of the breadcrumbs; the current page has no Href.
type Crumb struct {
	Label string
	Href  string
}

// Flash kinds.
const (
	FlashOK    = "ok"
	FlashError = "error"
	FlashInfo  = "info"
)

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind    string
	Message string
}

const flashCookie = "clinicbox_flash"

// SetFlash queues a message for the next page this browser loads.
func SetFlash(w http.ResponseWriter, kind, msg string) {
	v := base64.RawURLEncoding.EncodeToString([]byte(kind + "\x00" + msg))
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// TakeFlash returns the queued messages and clears them.
func TakeFlash(w http.ResponseWriter, r *http.Request) []Flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(string(b), "\x00")
	if !ok || msg == "" || len(msg) > 500 {
		return nil
	}
	switch kind {
	case FlashOK, FlashError, FlashInfo:
	default:
		return nil
	}
	return []Flash{{Kind: kind, Message: msg}}
}

// Errors maps a field name to its validation message.
type Errors map[string]string

// String is every message as "field: message", sorted, for a flash line.
func (e Errors) String() string {
	parts := make([]string, 0, len(e))
	for k, m := range e {
		parts = append(parts, k+": "+m)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// FieldErrors returns the per-field messages of a *store.ValidationError in
// err's chain, or nil.
func FieldErrors(err error) Errors {
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		return Errors(ve.Fields)
	}
	return nil
}

// Field is a labelled text input or textarea.
type Field struct {
	Name         string // form field name; the input's id is "f-"+Name
	Label        string
	Value        string
	Type         string // text (default), email, password, date, time, number, search, tel
	Error        string // validation message shown next to the field
	Hint         string // help text under the label
	Required     bool
	Autocomplete string // e.g. "off", "email", "current-password"
	Placeholder  string
	Rows         int    // TextArea only (default 3)
	Min, Max     string // date/number limits
	Step         string
	Autofocus    bool
	TestID       string // data-testid; defaults to "field-"+Name
}

// ID is the input's element id.
func (f Field) ID() string { return "f-" + f.Name }

func (f Field) inputType() string {
	if f.Type == "" {
		return "text"
	}
	return f.Type
}

func (f Field) testID() string {
	if f.TestID != "" {
		return f.TestID
	}
	return "field-" + f.Name
}

// describedBy lists the ids of the hint and error, for aria-describedby.
func (f Field) describedBy() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID()+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, f.ID()+"-error")
	}
	return strings.Join(ids, " ")
}

func (f Field) rows() int {
	if f.Rows <= 0 {
		return 3
	}
	return f.Rows
}

// Option is one choice of a Select.
type Option struct {
	Value string
	Label string
}

// Select is a labelled <select>.
type Select struct {
	Name     string
	Label    string
	Options  []Option
	Selected string
	Error    string
	Hint     string
	Required bool
	TestID   string
}

// ID is the select's element id.
func (s Select) ID() string { return "f-" + s.Name }

func (s Select) field() Field {
	return Field{Name: s.Name, Hint: s.Hint, Error: s.Error, TestID: s.TestID}
}

// ButtonProps is a submit button other than the page's primary one.
type ButtonProps struct {
	Label     string
	Name      string // optional name/value sent with the form
	Value     string
	Secondary bool // quieter style
	Danger    bool // destructive action style
	TestID    string
}

func (b ButtonProps) class() string {
	switch {
	case b.Danger:
		return "btn btn-danger"
	case b.Secondary:
		return "btn btn-secondary"
	}
	return "btn"
}

// PostButtonProps is a one-button form that POSTs to Action.
type PostButtonProps struct {
	Action    string
	Label     string
	Fields    []KV // hidden fields sent with the button
	Secondary bool
	Danger    bool
	Small     bool
	TestID    string
	AriaLabel string // fuller label for screen readers ("Mark Anna Jensen arrived")
}

func (p PostButtonProps) class() string {
	c := ButtonProps{Secondary: p.Secondary, Danger: p.Danger}.class()
	if p.Small {
		c += " btn-small"
	}
	return c
}

// KV is a hidden form field's name and value.
type KV struct{ Name, Value string }

// Pager describes one page of a list.
type Pager struct {
	Page    int // 1-based
	PerPage int
	Total   int
	Href    func(page int) string // link to another page
}

// Pages is the number of pages (at least 1).
func (p Pager) Pages() int {
	if p.PerPage <= 0 {
		return 1
	}
	return max(1, (p.Total+p.PerPage-1)/p.PerPage)
}

// Render writes a full page (or fragment) with the given status.
func Render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	return c.Render(r.Context(), w)
}

// Fail answers an error that is not a validation error as the error page,
// with the status httpx.Classify gives it: not found, forbidden, a refused
// change, or a logged 500 that reveals nothing. u is the signed-in user
// (nil: none).
func Fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, u *store.User, err error) {
	t := text.T(r.Context())
	p := httpx.Classify(err)
	msg, id := t.InternalError, "error-500"
	switch p.Status {
	case http.StatusNotFound:
		msg, id = t.NotFound, "error-404"
	case http.StatusForbidden:
		msg, id = t.Forbidden, "error-403"
	case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
		msg, id = cmp.Or(p.Msg, http.StatusText(p.Status)), fmt.Sprintf("error-%d", p.Status)
		// The store words its refusals in English for the APIs; a page
		// shows them in the reader's language.
		var ve *store.ValidationError
		var ce *store.ConflictError
		if (errors.As(err, &ve) && p.Msg == ve.Error()) || (errors.As(err, &ce) && p.Msg == ce.Msg) {
			msg = LocalMessage(r.Context(), err)
		}
	case httpx.StatusClientClosed:
	default:
		p.Status = http.StatusInternalServerError
		log.Error("page", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if err := Render(w, r, p.Status, ErrorPage(PageProps{Title: msg, User: u}, msg, id)); err != nil {
		log.Error("render", "path", r.URL.Path, "err", err)
	}
}

// Title is the document title for a page title.
func Title(ctx context.Context, t string) string {
	if t == "" {
		return text.T(ctx).AppName
	}
	return t + " · " + text.T(ctx).AppName
}

func navItems(ctx context.Context, u *store.User) []navItem {
	items := []navItem{
		{NavBoard, "/board", text.T(ctx).NavBoard},
		{NavAppointments, "/appointments", text.T(ctx).NavAppointments},
		{NavPatients, "/patients", text.T(ctx).NavPatients},
	}
	if u != nil && (u.Role == store.RoleAdmin || u.Role == store.RoleClinician) {
		items = append(items, navItem{NavStations, "/stations", text.T(ctx).NavStations})
		items = append(items, navItem{NavMonitoring, "/monitoring", i18n.T(ctx, "NavMonitoring")})
	}
	if u != nil && u.Role == store.RoleAdmin {
		items = append(items, navItem{NavAdmin, "/admin", text.T(ctx).NavAdmin})
	}
	return items
}

type navItem struct{ key, href, label string }

// LocalErrors is FieldErrors in the page's language, keyed by form field:
// a list entry's message ("reasons[3]") belongs to its field ("reasons"),
// and a known store message ("must be at most 500 characters") is shown
// from the catalogue ("FieldMsg.must be at most 500 characters").
func LocalErrors(ctx context.Context, err error) Errors {
	fe := FieldErrors(err)
	if fe == nil {
		return nil
	}
	out := make(Errors, len(fe))
	for k, msg := range fe {
		if i := strings.IndexAny(k, "[."); i > 0 {
			k = k[:i]
		}
		msg = Message(ctx, msg)
		if _, dup := out[k]; !dup {
			out[k] = msg
		}
	}
	return out
}

// crumbs is the page's breadcrumb trail; an admin sub-page that names none
// gets "Administration › its title".
func crumbs(ctx context.Context, p PageProps) []Crumb {
	if len(p.Crumbs) > 0 || p.Active != NavAdmin || p.Title == "" || p.Title == text.T(ctx).AdminTitle {
		return p.Crumbs
	}
	return []Crumb{{Label: text.T(ctx).AdminTitle, Href: "/admin"}, {Label: p.Title}}
}

// BadForm answers a form body that could not be read, on the error page:
// 413 when it is over its route's limit, 400 when it is malformed (a bare
// text answer would leave the browser on a blank page).
func BadForm(w http.ResponseWriter, r *http.Request, err error) {
	_, msg := FormError(r.Context(), err)
	Fail(w, r, slog.Default(), nil, &httpx.DecodeError{Msg: msg, Err: err})
}

// FormError is the status (413 over the limit, else 400) and the reader's
// words for a form body that could not be read: a person sees what to do,
// not the limit in bytes the APIs state.
func FormError(ctx context.Context, err error) (int, string) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return http.StatusRequestEntityTooLarge, i18n.T(ctx, "FormTooLarge", "Size", formSize(tooBig.Limit))
	}
	return http.StatusBadRequest, i18n.T(ctx, "FormUnreadable")
}

// formSize words a body limit as people do: 256 KB, 2 MB.
func formSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", (n+1023)>>10)
}
