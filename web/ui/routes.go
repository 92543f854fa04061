// Package ui is the clinician pages: templ components and their handlers.
// Pages render on the server and work without JavaScript; the board adds
// live updates when the script runs.
package ui

import (
	"log/slog"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/live"
)

// Deps is what the pages need.
type Deps struct {
	Store     *store.Store
	Auth      *auth.Auth
	Live      *live.Hub
	Log       *slog.Logger
	PublicURL string
	Version   string
}

type handlers struct {
	publicURL string
	st        *store.Store
	auth      *auth.Auth
	live      *live.Hub
	log       *slog.Logger
}

// Register adds every clinician page to mux.
func Register(mux *http.ServeMux, d Deps) {
	h := &handlers{publicURL: d.PublicURL, st: d.Store, auth: d.Auth, live: d.Live, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	staff := h.auth.Require(store.RoleAdmin, store.RoleClinician, store.RoleFrontDesk)
	admin := h.auth.Require(store.RoleAdmin)
	clinical := h.auth.Require(store.RoleAdmin, store.RoleClinician)
	page := func(mw func(http.Handler) http.Handler, fn http.HandlerFunc) http.Handler { return mw(fn) }

	h.auth.Forbidden = http.HandlerFunc(h.forbidden)
	mux.Handle("/", i18n.Middleware(http.HandlerFunc(h.notFound)))

	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/board", http.StatusSeeOther)
	})

	// Signing in and out.
	mux.HandleFunc("GET /signin", h.signInForm)
	mux.HandleFunc("POST /signin", h.signIn)
	mux.HandleFunc("POST /signout", h.signOut)
	mux.Handle("POST /account/signout-all", page(staff, h.signOutEverywhere))

	// The waiting-room board.
	mux.Handle("GET /board", page(staff, h.board))
	mux.Handle("GET /board/events", page(staff, h.boardEvents))

	// Appointments.
	mux.Handle("GET /appointments", page(staff, h.appointments))
	mux.Handle("GET /appointments/new", page(staff, h.newAppointmentForm))
	mux.Handle("POST /appointments/new", page(staff, h.createAppointment))
	mux.Handle("GET /appointments/{id}/edit", page(staff, h.editAppointmentForm))
	mux.Handle("POST /appointments/{id}/edit", page(staff, h.updateAppointment))
	mux.Handle("GET /appointments/{id}", page(staff, h.appointment))
	mux.Handle("GET /appointments/{id}/confirm", page(staff, h.confirmAction))
	mux.Handle("POST /appointments/{id}/cancel", page(staff, h.cancelAppointment))
	mux.Handle("POST /appointments/{id}/status", page(staff, h.setAppointmentStatus))
	mux.Handle("POST /appointments/{id}/reinstate", page(staff, h.reinstateAppointment))
	mux.Handle("GET /appointments/{id}/qr.png", page(staff, h.appointmentQR))
	mux.Handle("GET /appointments/{id}/send", page(staff, h.sendLinkForm))
	mux.Handle("POST /appointments/{id}/send", page(staff, h.sendLink))
	mux.Handle("POST /appointments/{id}/reissue", page(staff, h.reissueLink))
	mux.Handle("GET /appointments/{id}/open", page(clinical, h.openAsProvider))
	mux.Handle("GET /appointments/{id}/attachments/{uuid}", page(clinical, h.attachment))

	// Patients.
	mux.Handle("GET /patients", page(staff, h.patients))
	mux.Handle("GET /patients/new", page(staff, h.newPatientForm))
	mux.Handle("POST /patients/new", page(staff, h.createPatient))
	mux.Handle("GET /patients/{id}", page(staff, h.patient))
	mux.Handle("GET /patients/{id}/edit", page(staff, h.editPatientForm))
	mux.Handle("POST /patients/{id}/edit", page(staff, h.updatePatient))

	// Administration (admins only).
	mux.Handle("GET /admin", page(admin, h.adminIndex))
	mux.Handle("GET /admin/users", page(admin, h.adminUsers))
	mux.Handle("GET /admin/users/new", page(admin, h.newUserForm))
	mux.Handle("POST /admin/users/new", page(admin, h.createUser))
	mux.Handle("GET /admin/users/{id}/edit", page(admin, h.editUserForm))
	mux.Handle("POST /admin/users/{id}/edit", page(admin, h.updateUser))
	mux.Handle("POST /admin/users/{id}/password", page(admin, h.resetPassword))
	mux.Handle("POST /admin/users/{id}/signout-all", page(admin, h.signOutUserEverywhere))
	mux.Handle("GET /admin/rooms", page(admin, h.adminRooms))
	mux.Handle("GET /admin/rooms/new", page(admin, h.newRoomForm))
	mux.Handle("POST /admin/rooms/new", page(admin, h.createRoom))
	mux.Handle("GET /admin/rooms/{id}/edit", page(admin, h.editRoomForm))
	mux.Handle("POST /admin/rooms/{id}/edit", page(admin, h.updateRoom))
	mux.Handle("GET /admin/audit", page(admin, h.adminAudit))
}
