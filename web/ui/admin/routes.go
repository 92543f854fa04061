package admin

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/live"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// Deps is what the administration pages need.
type Deps struct {
	Store *store.Store
	Auth  *auth.Auth
	Live  *live.Hub // nil: the fleet page refreshes on a timer only
	Log   *slog.Logger
	// PublicURL is the base of patient links (the video self-test checks
	// its certificate).
	PublicURL string
	// Devices is the instrument manager (devices.Manager, wired in by
	// web); nil: devices show as not running.
	Devices  Devices
	Video    VideoCheck            // nil: no media server (the self-test says so)
	TLSTrust func() (bool, string) // nil: not checked
}

// VideoCheck is what the admin self-test needs from the media server.
type VideoCheck interface {
	Probe(http.ResponseWriter, *http.Request)         // a connection check's offer → answer
	ServeCheckICE(http.ResponseWriter, *http.Request) // TURN servers with a fresh credential
	Ports() (media, turnUDP, turnTCP, turnTLS int)
}

// Devices is the instrument manager as the device pages use it.
type Devices interface {
	State(orgID, deviceID int64) (DeviceState, bool)
	Reload() // re-read the device table (after an edit)
	Ports() ([]Port, error)
	Reingest(ctx context.Context, orgID, messageID int64) (*store.Ingestion, error)
	Transcript(raw []byte) string
}

// DeviceState is a device's live connection state.
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

// Port is a serial port present on the machine.
type Port struct {
	Path         string
	IsUSB        bool
	VendorID     string
	ProductID    string
	SerialNumber string
	Product      string
}

type handlers struct {
	st        *store.Store
	auth      *auth.Auth
	live      *live.Hub
	log       *slog.Logger
	devices   Devices
	video     VideoCheck
	tlsTrust  func() (bool, string)
	publicURL string
}

// Handler serves the administration pages.
type Handler struct{ h *handlers }

// New returns the administration pages.
func New(d Deps) *Handler {
	h := &handlers{st: d.Store, auth: d.Auth, live: d.Live, log: d.Log, devices: d.Devices, video: d.Video, tlsTrust: d.TLSTrust, publicURL: d.PublicURL}
	if h.log == nil {
		h.log = slog.Default()
	}
	return &Handler{h}
}

// Routes is the pages' route table (httpx.Register serves it): admins only.
func (p *Handler) Routes() []httpx.Route {
	h := p.h
	admin := h.auth.Require(store.RoleAdmin)
	routes := []httpx.Route{
		// The organisation.
		{Method: "GET", Pattern: "/admin", Guard: admin, Handler: h.adminIndex},
		{Method: "GET", Pattern: "/admin/settings", Guard: admin, Handler: h.adminSettings},
		{Method: "POST", Pattern: "/admin/settings", Guard: admin, Handler: h.saveAdminSettings},
		{Method: "GET", Pattern: "/admin/organisation", Guard: admin, Handler: h.orgSettings},
		{Method: "POST", Pattern: "/admin/organisation", Guard: admin, Handler: h.saveOrgSettings},
		{Method: "GET", Pattern: "/admin/users", Guard: admin, Handler: h.adminUsers},
		{Method: "GET", Pattern: "/admin/users/new", Guard: admin, Handler: h.newUserForm},
		{Method: "POST", Pattern: "/admin/users/new", Guard: admin, Handler: h.createUser},
		{Method: "GET", Pattern: "/admin/users/{id}/edit", Guard: admin, Handler: h.editUserForm},
		{Method: "POST", Pattern: "/admin/users/{id}/edit", Guard: admin, Handler: h.updateUser},
		{Method: "POST", Pattern: "/admin/users/{id}/password", Guard: admin, Handler: h.resetPassword},
		{Method: "POST", Pattern: "/admin/users/{id}/signout-all", Guard: admin, Handler: h.signOutUserEverywhere},
		{Method: "GET", Pattern: "/admin/rooms", Guard: admin, Handler: h.adminRooms},
		{Method: "GET", Pattern: "/admin/rooms/new", Guard: admin, Handler: h.newRoomForm},
		{Method: "POST", Pattern: "/admin/rooms/new", Guard: admin, Handler: h.createRoom},
		{Method: "GET", Pattern: "/admin/rooms/{id}/edit", Guard: admin, Handler: h.editRoomForm},
		{Method: "POST", Pattern: "/admin/rooms/{id}/edit", Guard: admin, Handler: h.updateRoom},
		{Method: "GET", Pattern: "/admin/audit", Guard: admin, Handler: h.adminAudit},
		{Method: "GET", Pattern: "/admin/video-check", Guard: admin, Handler: h.videoCheckPage},
		{Method: "GET", Pattern: "/admin/video-check/ice", Guard: admin, Handler: h.videoCheckICE},
		{Method: "POST", Pattern: "/admin/video-check/probe", Guard: admin, Handler: h.videoCheckProbe},

		// Visit-note templates and which room uses which.
		{Method: "GET", Pattern: "/admin/note-templates", Guard: admin, Handler: h.templates},
		{Method: "POST", Pattern: "/admin/note-templates/rooms", Guard: admin, Handler: h.setRoomTemplates},
		{Method: "GET", Pattern: "/admin/note-templates/new", Guard: admin, Handler: h.newTemplateForm},
		{Method: "POST", Pattern: "/admin/note-templates/new", Guard: admin, Handler: h.saveTemplate},
		{Method: "GET", Pattern: "/admin/note-templates/{id}/edit", Guard: admin, Handler: h.editTemplateForm},
		{Method: "POST", Pattern: "/admin/note-templates/{id}/edit", Guard: admin, Handler: h.saveTemplate},

		// Telehealth API keys.
		{Method: "GET", Pattern: "/admin/integrations/api-keys", Guard: admin, Handler: h.apiKeys},
		{Method: "POST", Pattern: "/admin/integrations/api-keys", Guard: admin, Handler: h.createAPIKey},
		{Method: "POST", Pattern: "/admin/integrations/api-keys/{id}/revoke", Guard: admin, Handler: h.revokeAPIKey},

		// OAuth2 clients of the FHIR, key-value, reporting and event APIs.
		{Method: "GET", Pattern: "/admin/integrations/api-clients", Guard: admin, Handler: h.apiClients},
		{Method: "POST", Pattern: "/admin/integrations/api-clients", Guard: admin, Handler: h.createAPIClient},
		{Method: "POST", Pattern: "/admin/integrations/api-clients/{id}/revoke", Guard: admin, Handler: h.revokeAPIClient},

		// Webhooks, linking, locations and report presets.
		{Method: "GET", Pattern: "/admin/integrations/webhooks", Guard: admin, Handler: h.webhooks},
		{Method: "POST", Pattern: "/admin/integrations/webhooks/deliveries/{id}/retry", Guard: admin, Handler: h.retryDelivery},
		{Method: "GET", Pattern: "/admin/integrations/linking", Guard: admin, Handler: h.linking},
		{Method: "POST", Pattern: "/admin/integrations/linking/rotate", Guard: admin, Handler: h.rotateLinkingSecret},
		{Method: "GET", Pattern: "/admin/integrations/locations", Guard: admin, Handler: h.places},
		{Method: "POST", Pattern: "/admin/integrations/locations", Guard: admin, Handler: h.createLocation},
		{Method: "POST", Pattern: "/admin/integrations/care-locations", Guard: admin, Handler: h.createCareLocation},
		{Method: "POST", Pattern: "/admin/integrations/report-presets", Guard: admin, Handler: h.createReportPreset},

		// Instruments: devices and the clients of the instrument API.
		{Method: "GET", Pattern: "/admin/devices", Guard: admin, Handler: h.adminDevices},
		{Method: "POST", Pattern: "/admin/devices", Guard: admin, Handler: h.createDevice},
		{Method: "GET", Pattern: "/admin/devices/{id}", Guard: admin, Handler: h.editDevice},
		{Method: "POST", Pattern: "/admin/devices/{id}", Guard: admin, Handler: h.updateDevice},
		{Method: "POST", Pattern: "/admin/devices/{id}/remove", Guard: admin, Handler: h.removeDevice},
		{Method: "GET", Pattern: "/admin/devices/{id}/log", Guard: admin, Handler: h.deviceLog},
		{Method: "POST", Pattern: "/admin/devices/{id}/messages/{mid}/reingest", Guard: admin, Handler: h.reingest},
		{Method: "GET", Pattern: "/admin/instrument-clients", Guard: admin, Handler: h.instrumentClients},
		{Method: "POST", Pattern: "/admin/instrument-clients", Guard: admin, Handler: h.createInstrumentClient},
		{Method: "POST", Pattern: "/admin/instrument-clients/{client_id}/revoke", Guard: admin, Handler: h.revokeInstrumentClient},

		// The point-of-care feed.
		{Method: "GET", Pattern: "/admin/poct", Guard: admin, Handler: h.tokens},
		{Method: "POST", Pattern: "/admin/poct/tokens", Guard: admin, Handler: h.createToken},
		{Method: "POST", Pattern: "/admin/poct/tokens/{id}/revoke", Guard: admin, Handler: h.revokeToken},
		{Method: "GET", Pattern: "/admin/poct/fleet", Guard: admin, Handler: h.fleet},
		{Method: "GET", Pattern: "/admin/poct/fleet/events", Guard: admin, Handler: h.fleetEvents},
		{Method: "GET", Pattern: "/admin/poct/access", Guard: admin, Handler: h.fleetAccess},
		{Method: "POST", Pattern: "/admin/poct/access", Guard: admin, Handler: h.grantFleetAccess},
		{Method: "POST", Pattern: "/admin/poct/access/{user}/revoke", Guard: admin, Handler: h.revokeFleetAccess},
		{Method: "GET", Pattern: "/admin/poct/qc", Guard: admin, Handler: h.qc},
		{Method: "POST", Pattern: "/admin/poct/qc/targets", Guard: admin, Handler: h.saveTarget},
		{Method: "GET", Pattern: "/admin/poct/lis", Guard: admin, Handler: h.lis},
		{Method: "POST", Pattern: "/admin/poct/lis", Guard: admin, Handler: h.addLIS},
		{Method: "POST", Pattern: "/admin/poct/lis/{name}/remove", Guard: admin, Handler: h.removeLIS},
		{Method: "POST", Pattern: "/admin/poct/lis/messages/{id}/retry", Guard: admin, Handler: h.retryLIS},
		{Method: "POST", Pattern: "/admin/poct/codemap", Guard: admin, Handler: h.publishCodeMap},
		{Method: "GET", Pattern: "/admin/poct/webhooks", Guard: admin, Handler: h.poctWebhooks},
		{Method: "POST", Pattern: "/admin/poct/webhooks/deliveries/{id}/resend", Guard: admin, Handler: h.resend},
	}
	return layout.BoundForms(routes, maxForm)
}

// render writes a page; a failure after the header is only logged.
func (h *handlers) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	if err := layout.Render(w, r, status, c); err != nil {
		h.log.Error("admin page", "path", r.URL.Path, "err", err)
	}
}

// fail answers an error that is not a validation error (layout.Fail).
func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	layout.Fail(w, r, h.log, user(r), err)
}

// maxForm bounds a form body; the largest is a code map pasted whole.
const maxForm = 256 << 10

// parse reads a bounded form body; false when it could not (answered).
func (h *handlers) parse(w http.ResponseWriter, r *http.Request) bool {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return false
	}
	return true
}

// parseForm reads a bounded form body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	return r.ParseForm()
}

// orgOf is the signed-in user's organisation.
func orgOf(r *http.Request) int64 { return user(r).OrgID }

// user is the signed-in user (the guard guarantees one).
func user(r *http.Request) *store.User { return auth.UserFrom(r.Context()) }

// props builds the page frame's props, taking any queued flash message.
func (h *handlers) props(w http.ResponseWriter, r *http.Request, title, active string) layout.PageProps {
	return layout.PageProps{Title: title, User: user(r), Active: active, Flash: layout.TakeFlash(w, r)}
}

// pageProps is props for a page of the admin menu.
func (h *handlers) pageProps(w http.ResponseWriter, r *http.Request, title, active string) layout.PageProps {
	return h.props(w, r, title, active)
}

// redirect sends the browser on with a 303 (the POST-redirect-GET pattern).
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
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

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
