package fhir

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Base is the path of the FHIR endpoint.
const Base = "/fhir/R4"

// Deps is what the FHIR face needs.
type Deps struct {
	Store     *store.Store
	OAuth     *auth.OAuth
	Log       *slog.Logger
	PublicURL string // base of the absolute URLs in bundles and the SMART configuration
	Version   string
	// Cache keeps encoded Patient answers and each patient's mapped
	// Observations between requests (web wires a cache.Cache with this
	// face's share of --cache-mb); nil: every read goes to the store.
	Cache Cache
}

// Cache is the memory the face keeps answers in. Get answers the value
// under key or makes it with fill, which names the tags the value depends
// on; Invalidate drops the entries of tags, also those being filled. The
// face drops tags as the store's outbox reports changes (see invalidate),
// before the write that changed them is acknowledged.
type Cache interface {
	Get(key string, fill func() (value any, size int, tags []string, err error)) (any, error)
	Invalidate(tags ...string)
}

// Handler serves the FHIR face.
type Handler struct {
	store     *store.Store
	oauth     *auth.OAuth
	log       *slog.Logger
	publicURL string
	version   string
	cache     Cache // nil: none
}

// New returns the FHIR face.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.OAuth == nil {
		d.OAuth = &auth.OAuth{Store: d.Store}
	}
	h := &Handler{store: d.Store, oauth: d.OAuth, log: d.Log, publicURL: strings.TrimSuffix(d.PublicURL, "/"), version: d.Version,
		cache: d.Cache}
	if d.Store != nil && h.cache != nil {
		d.Store.WatchEvents(h.invalidate)
	}
	return h
}

// Route is one line of the route table. Interaction is the FHIR
// interaction (read, search-type, create, update) of Type; the
// CapabilityStatement is generated from this table and Params, so the two
// cannot disagree with what is served.
type Route struct {
	Method      string
	Pattern     string
	Type        string // resource type; "" for system-level routes
	Interaction string
	Scope       string // the OAuth scope it needs; "" = public
	Handler     http.HandlerFunc
}

func read(t string) string  { return "system/" + t + ".read" }
func write(t string) string { return "system/" + t + ".write" }

// Table is the whole route table of the face, with what the
// CapabilityStatement says about each route.
func (h *Handler) Table() []Route {
	readPractitioner, searchPractitioner := h.directory("Practitioner", h.practitioners)
	readOrganization, searchOrganization := h.directory("Organization", h.organizations)
	readLocation, searchLocation := h.directory("Location", h.locations)
	readDevice, searchDevice := h.directory("Device", h.devices)
	return []Route{
		{"GET", "/fhir/R4/metadata", "", "capabilities", "", h.capabilities},
		{"GET", "/fhir/R4/.well-known/smart-configuration", "", "smart-configuration", "", h.smartConfiguration},
		{"POST", "/fhir/R4/auth/token", "", "token", "", h.oauth.Token},

		{"GET", "/fhir/R4/Patient/{id}", "Patient", "read", read("Patient"), h.readPatient},
		{"GET", "/fhir/R4/Patient", "Patient", "search-type", read("Patient"), h.searchPatient},
		{"POST", "/fhir/R4/Patient/_search", "Patient", "search-type", read("Patient"), h.searchPatient},
		{"POST", "/fhir/R4/Patient", "Patient", "create", write("Patient"), h.createPatient},
		{"PUT", "/fhir/R4/Patient/{id}", "Patient", "update", write("Patient"), h.updatePatient},

		{"GET", "/fhir/R4/Observation/{id}", "Observation", "read", read("Observation"), h.readObservation},
		{"GET", "/fhir/R4/Observation", "Observation", "search-type", read("Observation"), h.searchObservation},
		{"POST", "/fhir/R4/Observation/_search", "Observation", "search-type", read("Observation"), h.searchObservation},
		{"POST", "/fhir/R4/Observation", "Observation", "create", write("Observation"), h.createObservation},
		{"PUT", "/fhir/R4/Observation/{id}", "Observation", "update", write("Observation"), h.updateObservation},

		{"GET", "/fhir/R4/Appointment/{id}", "Appointment", "read", read("Appointment"), h.readAppointment},
		{"GET", "/fhir/R4/Appointment", "Appointment", "search-type", read("Appointment"), h.searchAppointment},
		{"POST", "/fhir/R4/Appointment/_search", "Appointment", "search-type", read("Appointment"), h.searchAppointment},
		{"POST", "/fhir/R4/Appointment", "Appointment", "create", write("Appointment"), h.createAppointment},
		{"PUT", "/fhir/R4/Appointment/{id}", "Appointment", "update", write("Appointment"), h.updateAppointment},

		{"GET", "/fhir/R4/Encounter/{id}", "Encounter", "read", read("Encounter"), h.readEncounter},
		{"GET", "/fhir/R4/Encounter", "Encounter", "search-type", read("Encounter"), h.searchEncounter},
		{"POST", "/fhir/R4/Encounter/_search", "Encounter", "search-type", read("Encounter"), h.searchEncounter},

		{"GET", "/fhir/R4/Practitioner/{id}", "Practitioner", "read", read("Practitioner"), readPractitioner},
		{"GET", "/fhir/R4/Practitioner", "Practitioner", "search-type", read("Practitioner"), searchPractitioner},
		{"GET", "/fhir/R4/Organization/{id}", "Organization", "read", read("Organization"), readOrganization},
		{"GET", "/fhir/R4/Organization", "Organization", "search-type", read("Organization"), searchOrganization},
		{"GET", "/fhir/R4/Location/{id}", "Location", "read", read("Location"), readLocation},
		{"GET", "/fhir/R4/Location", "Location", "search-type", read("Location"), searchLocation},
		{"GET", "/fhir/R4/Device/{id}", "Device", "read", read("Device"), readDevice},
		{"GET", "/fhir/R4/Device", "Device", "search-type", read("Device"), searchDevice},

		{"GET", "/fhir/R4/EpisodeOfCare/{id}", "EpisodeOfCare", "read", read("EpisodeOfCare"), h.readEpisode},
		{"GET", "/fhir/R4/EpisodeOfCare", "EpisodeOfCare", "search-type", read("EpisodeOfCare"), h.searchEpisode},
		{"GET", "/fhir/R4/DocumentReference/{id}", "DocumentReference", "read", read("DocumentReference"), h.readDocument},
		{"GET", "/fhir/R4/DocumentReference", "DocumentReference", "search-type", read("DocumentReference"), h.searchDocument},
		{"GET", "/fhir/R4/Binary/{id}", "Binary", "read", read("Binary"), h.readBinary},
		{"GET", "/fhir/R4/DiagnosticReport/{id}", "DiagnosticReport", "read", read("DiagnosticReport"), h.readReport},
		{"GET", "/fhir/R4/DiagnosticReport", "DiagnosticReport", "search-type", read("DiagnosticReport"), h.searchReport},
		{"GET", "/fhir/R4/QuestionnaireResponse/{id}", "QuestionnaireResponse", "read", read("QuestionnaireResponse"), h.readQuestionnaireResponse},
		{"GET", "/fhir/R4/QuestionnaireResponse", "QuestionnaireResponse", "search-type", read("QuestionnaireResponse"), h.searchQuestionnaireResponse},
	}
}

// SearchParam is one search parameter a resource type supports.
type SearchParam struct {
	Name string
	Type string // FHIR search parameter type: token, reference, date, string
	Doc  string
}

// commonParams are supported on every search.
var commonParams = []SearchParam{
	{"_id", "token", "the resource id; comma for alternatives"},
	{"_count", "number", "page size (default 50, at most 500)"},
}

// Params lists, per resource type, the search parameters supported beyond
// commonParams, and what _sort and _include allow.
var Params = map[string]struct {
	Params   []SearchParam
	SortDate bool
	Include  []string
}{
	"Patient": {Params: []SearchParam{
		{"identifier", "token", "system|value, |value or value; every identifier the model holds (CPR, MRN, HSID, the client's id, account number, SPID)"},
		{"name", "string", "each word starts a name part (or an identifier)"},
		{"birthdate", "date", "with prefixes eq, ne, lt, gt, le, ge, sa, eb"},
		{"gender", "token", "male, female, other, unknown"},
		{"active", "token", "true or false"},
	}},
	"Observation": {Params: []SearchParam{
		{"patient", "reference", "Patient/id"},
		{"subject", "reference", "Patient/id"},
		{"code", "token", "system|code or code; LOINC (http://loinc.org), NPU (http://npu-terminology.org) or the device's own codes"},
		{"date", "date", "the effective time, with prefixes; observations without one do not match"},
		{"status", "token", "registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown"},
		{"category", "token", "laboratory, vital-signs, ..."},
		{"device", "reference", "Device/id"},
	}, SortDate: true, Include: []string{"Observation:patient", "Observation:subject"}},
	"Appointment": {Params: []SearchParam{
		{"patient", "reference", "Patient/id"},
		{"actor", "reference", "Patient/id, Practitioner/id or Location/id"},
		{"date", "date", "the start, with prefixes"},
		{"status", "token", "booked, arrived, checked-in, fulfilled, cancelled, noshow"},
		{"identifier", "token", "the client's appointment id"},
	}, SortDate: true},
	"Encounter": {Params: []SearchParam{
		{"patient", "reference", "Patient/id"},
		{"subject", "reference", "Patient/id"},
		{"date", "date", "the appointment's start, with prefixes"},
		{"status", "token", "planned, arrived, in-progress, finished, cancelled"},
		{"episode-of-care", "reference", "EpisodeOfCare/id"},
	}, SortDate: true},
	"EpisodeOfCare": {Params: []SearchParam{
		{"patient", "reference", "Patient/id"},
		{"status", "token", "planned, waitlist, active, onhold, finished, cancelled"},
	}},
	"DocumentReference": {Params: []SearchParam{
		{"patient", "reference", "Patient/id"},
		{"subject", "reference", "Patient/id"},
	}},
	"DiagnosticReport": {Params: []SearchParam{
		{"patient", "reference", "Patient/id"},
		{"subject", "reference", "Patient/id"},
		{"issued", "date", "when the instrument's message arrived, with prefixes"},
	}, SortDate: true},
	"QuestionnaireResponse": {Params: []SearchParam{
		{"patient", "reference", "Patient/id: visit notes and the questionnaires the patient filled in"},
		{"subject", "reference", "Patient/id: visit notes and the questionnaires the patient filled in"},
		{"encounter", "reference", "Encounter/id: visit notes only (a patient's questionnaire has no visit)"},
	}},
}

// Routes is the route table as httpx.Register serves it: each route behind
// the token check of its scope, and anything else under the base answered
// with an OperationOutcome rather than the appliance's HTML 404.
func (h *Handler) Routes() []httpx.Route {
	var out []httpx.Route
	for _, rt := range h.Table() {
		r := httpx.Route{Method: rt.Method, Pattern: rt.Pattern, Handler: rt.Handler, Summary: rt.Type + " " + rt.Interaction, Public: rt.Scope == ""}
		if rt.Scope != "" {
			scope := rt.Scope
			r.Guard = h.oauth.Scope(scope, h.fail)
		}
		out = append(out, r)
	}
	return append(out, httpx.Route{Pattern: Base + "/", Handler: h.unsupported, Public: true})
}

func (h *Handler) unsupported(w http.ResponseWriter, r *http.Request) {
	writeOutcome(w, http.StatusNotFound, "error", "not-supported", r.Method+" "+r.URL.Path+" is not supported; see "+Base+"/metadata")
}
