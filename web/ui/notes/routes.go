package notes

import (
	"log/slog"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// PDFs renders the printed documents; cmd wires in reports.PDF (web does
// not import reports).
type PDFs interface {
	VisitSummary(s *store.VisitSummary, lang string) ([]byte, error)
	Results(org *store.Org, p *store.Patient, from, to time.Time, loc *time.Location, obs []store.Observation, lang string, printedAt time.Time) ([]byte, error)
}

// Deps is what the note pages need.
type Deps struct {
	Store *store.Store
	Auth  *auth.Auth
	PDFs  PDFs // nil: the PDF addresses answer 503 and sign-off attaches no summary
	Log   *slog.Logger
}

type handlers struct {
	st   *store.Store
	pdfs PDFs
	log  *slog.Logger
}

// Handler serves the visit-note pages.
type Handler struct {
	h    *handlers
	auth *auth.Auth
}

// New returns the visit-note pages.
func New(d Deps) *Handler {
	h := &handlers{st: d.Store, pdfs: d.PDFs, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	return &Handler{h: h, auth: d.Auth}
}

// Routes is the pages' route table (httpx.Register serves it).
func (p *Handler) Routes() []httpx.Route {
	h := p.h
	staff := p.auth.Require(store.RoleAdmin, store.RoleClinician, store.RoleFrontDesk)
	writer := p.auth.Require(store.RoleAdmin, store.RoleClinician)
	return layout.BoundForms([]httpx.Route{
		// The note of a visit.
		{Method: "GET", Pattern: "/appointments/{id}/note", Guard: staff, Handler: h.notePage},
		{Method: "POST", Pattern: "/appointments/{id}/note", Guard: writer, Handler: h.saveAnswers},
		{Method: "POST", Pattern: "/appointments/{id}/note/start", Guard: writer, Handler: h.startNote},
		{Method: "POST", Pattern: "/appointments/{id}/note/comments", Guard: writer, Handler: h.addComment},
		{Method: "POST", Pattern: "/appointments/{id}/note/sign", Guard: writer, Handler: h.signNote},
		{Method: "POST", Pattern: "/appointments/{id}/note/addenda", Guard: writer, Handler: h.addAddendum},

		// Printed documents, at addresses an integrator can script with a staff session.
		{Method: "GET", Pattern: "/appointments/{id}/summary.pdf", Guard: staff, Handler: h.summaryPDF},
		{Method: "GET", Pattern: "/patients/{id}/results.pdf", Guard: staff, Handler: h.resultsPDF},
	}, maxForm)
}
