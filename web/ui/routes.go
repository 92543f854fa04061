package ui

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/a-h/templ"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/live"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// Deps is what the pages need.
type Deps struct {
	Store     *store.Store
	Auth      *auth.Auth
	Live      *live.Hub
	Log       *slog.Logger
	PublicURL string
	Version   string
	Notes     Notes // the visit note's editor (web/ui/notes, wired in by web); nil: the page has none
}

// Notes is the visit-note editor as the appointment page embeds it.
type Notes interface {
	// Section is the compact editor of the appointment's note.
	Section(ctx context.Context, r *http.Request, apptID int64) (templ.Component, error)
	// Script is the script the editor needs.
	Script() string
}

type handlers struct {
	publicURL string
	st        *store.Store
	auth      *auth.Auth
	live      *live.Hub
	log       *slog.Logger
	notes     Notes
}

// Handler serves the clinician pages.
type Handler struct{ h *handlers }

// New returns the clinician pages. Pages that a role may not open answer
// the 403 page.
func New(d Deps) *Handler {
	h := &handlers{publicURL: d.PublicURL, st: d.Store, auth: d.Auth, live: d.Live, log: d.Log, notes: d.Notes}
	if h.log == nil {
		h.log = slog.Default()
	}
	h.auth.Forbidden = http.HandlerFunc(h.forbidden)
	return &Handler{h}
}

// Routes is the pages' whole route table (httpx.Register serves it). Each
// page's guard signs the user in and checks the role.
func (p *Handler) Routes() []httpx.Route {
	h := p.h
	staff := h.auth.Require(store.RoleAdmin, store.RoleClinician, store.RoleFrontDesk)
	clinical := h.auth.Require(store.RoleAdmin, store.RoleClinician)
	return layout.BoundForms([]httpx.Route{
		// Any path no other route matches: the 404 page.
		{Pattern: "/", Guard: i18n.Middleware, Handler: h.notFound},
		{Method: "GET", Pattern: "/{$}", Handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/board", http.StatusSeeOther)
		}},

		// Signing in and out.
		{Method: "GET", Pattern: "/signin", Handler: h.signInForm},
		{Method: "POST", Pattern: "/signin", Handler: h.signIn},
		{Method: "POST", Pattern: "/signout", Handler: h.signOut},
		{Method: "POST", Pattern: "/account/signout-all", Guard: staff, Handler: h.signOutEverywhere},

		// The waiting-room board.
		{Method: "GET", Pattern: "/board", Guard: staff, Handler: h.board},
		{Method: "GET", Pattern: "/board/events", Guard: staff, Handler: h.boardEvents},

		// Appointments.
		{Method: "GET", Pattern: "/appointments", Guard: staff, Handler: h.appointments},
		{Method: "GET", Pattern: "/appointments/new", Guard: staff, Handler: h.newAppointmentForm},
		{Method: "POST", Pattern: "/appointments/new", Guard: staff, Handler: h.createAppointment},
		{Method: "GET", Pattern: "/appointments/{id}/edit", Guard: staff, Handler: h.editAppointmentForm},
		{Method: "POST", Pattern: "/appointments/{id}/edit", Guard: staff, Handler: h.updateAppointment},
		{Method: "GET", Pattern: "/appointments/{id}", Guard: staff, Handler: h.appointment},
		{Method: "GET", Pattern: "/appointments/{id}/confirm", Guard: staff, Handler: h.confirmAction},
		{Method: "POST", Pattern: "/appointments/{id}/cancel", Guard: staff, Handler: h.cancelAppointment},
		{Method: "POST", Pattern: "/appointments/{id}/status", Guard: staff, Handler: h.setAppointmentStatus},
		{Method: "POST", Pattern: "/appointments/{id}/reinstate", Guard: staff, Handler: h.reinstateAppointment},
		{Method: "GET", Pattern: "/appointments/{id}/qr.png", Guard: staff, Handler: h.appointmentQR},
		{Method: "GET", Pattern: "/appointments/{id}/send", Guard: staff, Handler: h.sendLinkForm},
		{Method: "POST", Pattern: "/appointments/{id}/send", Guard: staff, Handler: h.sendLink},
		{Method: "POST", Pattern: "/appointments/{id}/reissue", Guard: staff, Handler: h.reissueLink},
		{Method: "GET", Pattern: "/appointments/{id}/open", Guard: clinical, Handler: h.openAsProvider},
		{Method: "GET", Pattern: "/appointments/{id}/attachments/{uuid}", Guard: clinical, Handler: h.attachment},

		// Patients.
		{Method: "GET", Pattern: "/patients", Guard: staff, Handler: h.patients},
		{Method: "GET", Pattern: "/patients/new", Guard: staff, Handler: h.newPatientForm},
		{Method: "POST", Pattern: "/patients/new", Guard: staff, Handler: h.createPatient},
		{Method: "GET", Pattern: "/patients/{id}", Guard: staff, Handler: h.patient},
		{Method: "GET", Pattern: "/patients/{id}/edit", Guard: staff, Handler: h.editPatientForm},
		{Method: "POST", Pattern: "/patients/{id}/edit", Guard: staff, Handler: h.updatePatient},

		// The signed-in user's own settings.
		{Method: "GET", Pattern: "/account", Guard: staff, Handler: h.account},
		{Method: "POST", Pattern: "/account", Guard: staff, Handler: h.saveAccount},
	}, maxForm)
}
