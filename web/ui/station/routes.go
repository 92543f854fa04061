// Package station is the instrument pages: a station page per device group
// where clinicians choose the current patient, watch readings arrive live
// and assign unmatched results; and the admin pages for devices (ports
// present, live state, raw message log, re-running ingestion) and for
// instrument API clients; and the download of a file in a patient's record
// (GET /patient-files/{id}), for the patient page.
package station

import (
	"log/slog"
	"net/http"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/live"
)

// Deps is what the pages need.
type Deps struct {
	Store   *store.Store
	Auth    *auth.Auth
	Live    *live.Hub
	Devices *devices.Manager // nil: devices show as not running
	Log     *slog.Logger
}

type handlers struct {
	st      *store.Store
	live    *live.Hub
	devices *devices.Manager
	log     *slog.Logger
}

// Register adds the station and instrument admin pages to mux.
func Register(mux *http.ServeMux, d Deps) {
	h := &handlers{st: d.Store, live: d.Live, devices: d.Devices, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	staff := d.Auth.Require(store.RoleAdmin, store.RoleClinician)
	admin := d.Auth.Require(store.RoleAdmin)

	mux.Handle("GET /stations", staff(http.HandlerFunc(h.stations)))
	mux.Handle("GET /stations/{station}", staff(http.HandlerFunc(h.station)))
	mux.Handle("GET /stations/{station}/events", staff(http.HandlerFunc(h.stationEvents)))
	mux.Handle("POST /stations/{station}/select", staff(http.HandlerFunc(h.selectPatient)))
	mux.Handle("POST /stations/{station}/assign", staff(http.HandlerFunc(h.assign)))
	mux.Handle("POST /stations/{station}/samples", staff(http.HandlerFunc(h.labelSample)))

	mux.Handle("GET /patient-files/{id}", d.Auth.Require(store.RoleAdmin, store.RoleClinician)(http.HandlerFunc(h.patientFile)))

	mux.Handle("GET /admin/devices", admin(http.HandlerFunc(h.adminDevices)))
	mux.Handle("POST /admin/devices", admin(http.HandlerFunc(h.createDevice)))
	mux.Handle("POST /admin/devices/{id}/remove", admin(http.HandlerFunc(h.removeDevice)))
	mux.Handle("GET /admin/devices/{id}/log", admin(http.HandlerFunc(h.deviceLog)))
	mux.Handle("POST /admin/devices/{id}/messages/{mid}/reingest", admin(http.HandlerFunc(h.reingest)))

	mux.Handle("GET /admin/instrument-clients", admin(http.HandlerFunc(h.clients)))
	mux.Handle("POST /admin/instrument-clients", admin(http.HandlerFunc(h.createClient)))
	mux.Handle("POST /admin/instrument-clients/{client_id}/revoke", admin(http.HandlerFunc(h.revokeClient)))
}
