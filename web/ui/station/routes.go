package station

import (
	"context"
	"log/slog"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/live"
)

// Deps is what the pages need.
type Deps struct {
	Store   *store.Store
	Auth    *auth.Auth
	Live    *live.Hub
	Devices Devices // the instrument ports (devices.Manager, wired in by web); nil: not running
	Log     *slog.Logger
}

// Devices is what these pages need of the instrument manager. The manager
// lives in package devices, which pages do not import: web wires it in.
type Devices interface {
	// State is a running device's live state (false: not running).
	State(orgID, deviceID int64) (DeviceState, bool)
	// Reload makes the manager pick up added and removed devices.
	Reload()
	// Ports lists the serial ports present now.
	Ports() ([]Port, error)
	// Reingest runs ingestion again on a stored message.
	Reingest(ctx context.Context, orgID, messageID int64) (*store.Ingestion, error)
	// Transcript shows raw bytes with control characters named.
	Transcript(raw []byte) string
}

// DeviceState is a running device's live state.
type DeviceState struct {
	DeviceID      int64
	OrgID         int64
	Name          string
	Connected     bool
	Path          string    // the port opened (resolved from a USB serial number), or the listen address
	Since         time.Time // when Connected last changed
	LastMessageAt time.Time
	Messages      int // received since the server started
	LastError     string
	LastErrorAt   time.Time
	Warnings      int // framing deviations accepted since the server started
	LastWarning   string
	LastWarningAt time.Time
}

// Port is a serial port present on the appliance.
type Port struct {
	Path         string
	IsUSB        bool
	VendorID     string
	ProductID    string
	SerialNumber string
	Product      string
}

type handlers struct {
	st      *store.Store
	live    *live.Hub
	devices Devices
	log     *slog.Logger
}

// Handler serves the station and instrument admin pages.
type Handler struct {
	h    *handlers
	auth *auth.Auth
}

// New returns the station and instrument admin pages.
func New(d Deps) *Handler {
	h := &handlers{st: d.Store, live: d.Live, devices: d.Devices, log: d.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	return &Handler{h: h, auth: d.Auth}
}

// Routes is the pages' route table (httpx.Register serves it).
func (p *Handler) Routes() []httpx.Route {
	h := p.h
	staff := p.auth.Require(store.RoleAdmin, store.RoleClinician)
	admin := p.auth.Require(store.RoleAdmin)
	return []httpx.Route{
		{Method: "GET", Pattern: "/stations", Guard: staff, Handler: h.stations},
		{Method: "GET", Pattern: "/stations/{station}", Guard: staff, Handler: h.station},
		{Method: "GET", Pattern: "/stations/{station}/events", Guard: staff, Handler: h.stationEvents},
		{Method: "POST", Pattern: "/stations/{station}/select", Guard: staff, Handler: h.selectPatient},
		{Method: "POST", Pattern: "/stations/{station}/assign", Guard: staff, Handler: h.assign},
		{Method: "POST", Pattern: "/stations/{station}/samples", Guard: staff, Handler: h.labelSample},

		{Method: "GET", Pattern: "/patient-files/{id}", Guard: staff, Handler: h.patientFile},

		{Method: "GET", Pattern: "/admin/devices", Guard: admin, Handler: h.adminDevices},
		{Method: "POST", Pattern: "/admin/devices", Guard: admin, Handler: h.createDevice},
		{Method: "GET", Pattern: "/admin/devices/{id}", Guard: admin, Handler: h.editDevice},
		{Method: "POST", Pattern: "/admin/devices/{id}", Guard: admin, Handler: h.updateDevice},
		{Method: "POST", Pattern: "/admin/devices/{id}/remove", Guard: admin, Handler: h.removeDevice},
		{Method: "GET", Pattern: "/admin/devices/{id}/log", Guard: admin, Handler: h.deviceLog},
		{Method: "POST", Pattern: "/admin/devices/{id}/messages/{mid}/reingest", Guard: admin, Handler: h.reingest},

		{Method: "GET", Pattern: "/admin/instrument-clients", Guard: admin, Handler: h.clients},
		{Method: "POST", Pattern: "/admin/instrument-clients", Guard: admin, Handler: h.createClient},
		{Method: "POST", Pattern: "/admin/instrument-clients/{client_id}/revoke", Guard: admin, Handler: h.revokeClient},
	}
}
