package monitoring

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Deps is what the monitoring face needs.
type Deps struct {
	Store *store.Store
	Log   *slog.Logger
	// SigningKey signs access tokens (HS256). Derived from the appliance's
	// session key, so tokens survive a restart; random when empty (tests).
	SigningKey []byte
	// Limiter counts requests per organisation; nil: an in-memory one.
	Limiter Limiter
}

// Handler serves the monitoring API.
type Handler struct {
	store   *store.Store
	log     *slog.Logger
	key     []byte
	limiter Limiter
	signIns signInCache
	plans   planCache
	logins  *loginLimiter
}

// New returns the monitoring face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	key := d.SigningKey
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key)
	} else {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("clinicbox monitoring api access tokens"))
		key = m.Sum(nil)
	}
	h := &Handler{store: d.Store, log: d.Log, key: key, limiter: d.Limiter, logins: newLoginLimiter(d.Store.Now)}
	if h.limiter == nil {
		h.limiter = NewMemoryLimiter(d.Store.Now)
	}
	d.Store.WatchEvents(h.signIns.forget)
	return h
}

// Access says who may call a route.
type Access int

const (
	Public       Access = iota // no credentials (sign-in, the OpenAPI document)
	BearerOnly                 // an access token, no organisation header (sign-out)
	Organisation               // an access token and X-Organization-ID
)

// Route is one line of the route table: Register serves it and the OpenAPI
// document describes it.
type Route struct {
	Method  string
	Pattern string
	Summary string
	Access  Access
	Handler http.HandlerFunc
}

// table is the whole route table of the face.
func (h *Handler) table() []Route {
	return []Route{
		{"GET", "/api/openapi.json", "This API's OpenAPI 3.1 document", Public, h.openAPI},

		{"POST", "/api/auth/login", "Sign in with email and password; answers tokens, or that the second factor is required", Public, h.login},
		{"POST", "/api/auth/mfa/verify", "Complete a sign-in with a TOTP or recovery code; answers tokens", Public, h.verifyMFA},
		{"POST", "/api/auth/refresh", "Exchange a refresh token for new tokens (the old one stops working)", Public, h.refresh},
		{"POST", "/api/auth/logout", "End the sign-in: its refresh and access tokens stop working", BearerOnly, h.logout},

		{"GET", "/api/patients", "List patients (search, filters, cursor pagination)", Organisation, h.listPatients},
		{"POST", "/api/patients", "Create a patient", Organisation, h.createPatient},
		{"GET", "/api/patients/{id}", "Get a patient", Organisation, h.getPatient},
		{"PUT", "/api/patients/{id}", "Update a patient (fields sent replace, fields left out stay)", Organisation, h.updatePatient},

		{"POST", "/api/observations", "Record an observation; evaluates alert rules", Organisation, h.createObservation},
		{"GET", "/api/observations", "List observations (patient, metric, time range, source filters)", Organisation, h.listObservations},
		{"GET", "/api/observations/patient/{patientId}", "List one patient's observations", Organisation, h.listPatientObservations},

		{"GET", "/api/metric-definitions", "List metric definitions: the built-in catalogue and the organisation's own", Organisation, h.listMetrics},
		{"POST", "/api/metric-definitions", "Add an organisation's own metric definition", Organisation, h.createMetric},

		{"POST", "/api/enrollments", "Enroll a patient in a monitoring programme", Organisation, h.createEnrollment},
		{"GET", "/api/enrollments", "List enrollments", Organisation, h.listEnrollments},
		{"GET", "/api/enrollments/{id}", "Get an enrollment with its alert rules", Organisation, h.getEnrollment},
		{"PUT", "/api/enrollments/{id}", "Update an enrollment (fields sent replace, fields left out stay)", Organisation, h.updateEnrollment},
		{"POST", "/api/enrollments/{id}/time-entries", "Log monitoring time on an enrollment", Organisation, h.createTimeEntry},
		{"GET", "/api/enrollments/{id}/time-entries", "List an enrollment's time entries (optionally of one month)", Organisation, h.listTimeEntries},

		{"GET", "/api/alerts", "List alerts (status, severity, patient, enrollment filters)", Organisation, h.listAlerts},
		{"GET", "/api/alerts/triage", "The triage queue: open alerts, most severe first, then oldest", Organisation, h.triage},
		{"GET", "/api/alerts/{id}", "Get an alert with the observations that raised it", Organisation, h.getAlert},
		{"POST", "/api/alerts/{id}/resolve", "Resolve an alert (a note is required)", Organisation, h.resolveAlert},
		{"POST", "/api/alerts/bulk-resolve", "Resolve several alerts with one note (all or none)", Organisation, h.bulkResolve},

		{"GET", "/api/billing/summary/{orgId}/{month}", "Billable CPT codes of every enrollment in a month", Organisation, h.billingSummary},
		{"GET", "/api/billing/readiness/{enrollmentId}/{month}", "What an enrollment has and lacks for each code in a month", Organisation, h.billingReadiness},
		{"GET", "/api/billing/export/{orgId}/{month}", "The month's billing summary as CSV", Organisation, h.billingExport},
	}
}

// Routes is the face's route table as the server registers it, each route
// behind the checks its Access names.
func (h *Handler) Routes() []httpx.Route {
	var out []httpx.Route
	for _, rt := range h.table() {
		r := httpx.Route{Method: rt.Method, Pattern: rt.Pattern, Handler: rt.Handler, Summary: rt.Summary, Public: rt.Access == Public}
		switch rt.Access {
		case BearerOnly:
			r.Guard = func(next http.Handler) http.Handler { return h.bearer(next, false) }
		case Organisation:
			r.Guard = func(next http.Handler) http.Handler { return h.bearer(next, true) }
		}
		out = append(out, r)
	}
	return out
}

// now is the store's clock, so tests move token expiry with it.
func (h *Handler) now() time.Time { return h.store.Now() }
