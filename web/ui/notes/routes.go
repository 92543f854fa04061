// Package notes is the documentation side of a visit: the note editor
// (answers saved as the clinician types, comments, sign-off, addenda, the
// patient's observations of the day beside it), the note-template builder
// for admins, and the printed visit summary and results report.
//
// The note's answers and comments are the rows the telehealth API's
// visit-note endpoints read and write: a note written here reads back there,
// and the reverse.
package notes

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
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

// Register adds the note pages to mux.
func Register(mux *http.ServeMux, d Deps) {
	h := &handlers{st: d.Store, pdfs: d.PDFs, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	staff := d.Auth.Require(store.RoleAdmin, store.RoleClinician, store.RoleFrontDesk)
	writer := d.Auth.Require(store.RoleAdmin, store.RoleClinician)
	admin := d.Auth.Require(store.RoleAdmin)
	page := func(mw func(http.Handler) http.Handler, fn http.HandlerFunc) http.Handler { return mw(fn) }

	// The note of a visit.
	mux.Handle("GET /appointments/{id}/note", page(staff, h.notePage))
	mux.Handle("POST /appointments/{id}/note", page(writer, h.saveAnswers))
	mux.Handle("POST /appointments/{id}/note/start", page(writer, h.startNote))
	mux.Handle("POST /appointments/{id}/note/comments", page(writer, h.addComment))
	mux.Handle("POST /appointments/{id}/note/sign", page(writer, h.signNote))
	mux.Handle("POST /appointments/{id}/note/addenda", page(writer, h.addAddendum))

	// Printed documents, at addresses an integrator can script with a staff session.
	mux.Handle("GET /appointments/{id}/summary.pdf", page(staff, h.summaryPDF))
	mux.Handle("GET /patients/{id}/results.pdf", page(staff, h.resultsPDF))

	// Note templates (admins).
	mux.Handle("GET /admin/note-templates", page(admin, h.templates))
	mux.Handle("POST /admin/note-templates/rooms", page(admin, h.setRoomTemplates))
	mux.Handle("GET /admin/note-templates/new", page(admin, h.newTemplateForm))
	mux.Handle("POST /admin/note-templates/new", page(admin, h.saveTemplate))
	mux.Handle("GET /admin/note-templates/{id}/edit", page(admin, h.editTemplateForm))
	mux.Handle("POST /admin/note-templates/{id}/edit", page(admin, h.saveTemplate))
}
