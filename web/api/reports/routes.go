package reports

import (
	"log/slog"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Deps is what the face needs.
type Deps struct {
	Store *store.Store
	OAuth *auth.OAuth
	Log   *slog.Logger
}

// Handler serves the reporting API.
type Handler struct {
	store *store.Store
	oauth *auth.OAuth
	log   *slog.Logger
}

// New returns the face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Handler{store: d.Store, oauth: d.OAuth, log: d.Log}
}

// Routes is the face's whole route table (httpx.Register serves it).
func (h *Handler) Routes() []httpx.Route {
	token := h.oauth.Scope("reports.read", h.fail)
	return []httpx.Route{
		{Method: "GET", Pattern: "/api/reports/v1", Guard: token, Handler: h.index, Summary: "The reports, and which are available"},
		{Method: "GET", Pattern: "/api/reports/v1/appointments", Guard: token, Handler: h.appointments,
			Summary: "Appointments, no-show and LWBS rates, waiting times and visit durations (?from&to&by=day|waiting-room|clinician&tz&format=csv)"},
		{Method: "GET", Pattern: "/api/reports/v1/results", Guard: token, Handler: h.results, Summary: "Results per device and code (?from&to&format=csv)"},
		{Method: "GET", Pattern: "/api/reports/v1/qc", Guard: token, Handler: h.qc, Summary: "QC runs and failure rates per device and code (?from&to&format=csv)"},
		{Method: "GET", Pattern: "/api/reports/v1/monitoring-adherence", Guard: token, Handler: h.adherence,
			Summary: "Per enrollment and month: days with device readings against the 16 required, minutes logged (?from=YYYY-MM&to=YYYY-MM&program&format=csv)"},
		{Method: "GET", Pattern: "/api/reports/v1/patients/{id}", Guard: token, Handler: h.patient,
			Summary: "Everything kept about one patient and every access to it (?format=csv: the access log)"},
	}
}
