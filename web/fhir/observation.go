package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Code systems of observation codes: the model keeps the system as the
// sender named it ("LN" in HL7 v2, "NPU", ...); FHIR names it by URL.
const (
	SystemLOINC = "http://loinc.org"
	SystemNPU   = "http://npu-terminology.org"
	SystemUCUM  = "http://unitsofmeasure.org"
	// SystemDeviceCode is the system of a device's own (local) test codes.
	SystemDeviceCode = "urn:clinicbox:device-code"
	// ExtensionUnit carries the unit of a value that is not a UCUM
	// quantity (valueString), exactly as the device sent it.
	ExtensionUnit = "urn:clinicbox:fhir:observation-unit"

	systemCategory       = "http://terminology.hl7.org/CodeSystem/observation-category"
	systemInterpretation = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
)

// codeSystems maps a FHIR code system URL to the ways the model stores it.
var codeSystems = map[string][]string{
	SystemLOINC:      {"LN", "LOINC", "loinc", SystemLOINC},
	SystemNPU:        {"NPU", "npu", SystemNPU, "urn:oid:1.2.208.176.9.1"},
	SystemDeviceCode: {"", "local", "L", "99LOCAL"},
}

// systemURL is the FHIR system of a stored code system.
func systemURL(stored string) string {
	for url, names := range codeSystems {
		if slices.Contains(names, stored) {
			return url
		}
	}
	if strings.Contains(stored, ":") {
		return stored // already a URI
	}
	return SystemDeviceCode
}

var npuCodeRE = regexp.MustCompile(`^(NPU|DNK)\d{5}$`)

// Observation is the FHIR Observation resource.
type Observation struct {
	ResourceType   string            `json:"resourceType"`
	ID             string            `json:"id,omitempty"`
	Meta           *Meta             `json:"meta,omitempty"`
	Extension      []Extension       `json:"extension,omitempty"`
	Status         string            `json:"status"`
	Category       []CodeableConcept `json:"category,omitempty"`
	Code           CodeableConcept   `json:"code"`
	Subject        *Reference        `json:"subject,omitempty"`
	Encounter      *Reference        `json:"encounter,omitempty"`
	EffectiveDT    string            `json:"effectiveDateTime,omitempty"`
	Issued         string            `json:"issued,omitempty"`
	Performer      []Reference       `json:"performer,omitempty"`
	ValueQuantity  *Quantity         `json:"valueQuantity,omitempty"`
	ValueString    *string           `json:"valueString,omitempty"`
	Interpretation []CodeableConcept `json:"interpretation,omitempty"`
	Device         *Reference        `json:"device,omitempty"`
	ReferenceRange []ReferenceRange  `json:"referenceRange,omitempty"`
}

// ReferenceRange is the sender's normal range, as text.
type ReferenceRange struct {
	Text string `json:"text,omitempty"`
}

func (o *Observation) fhirType() string { return "Observation" }
func (o *Observation) fhirID() string   { return o.ID }

// plainNumber tells whether s is a FHIR decimal as the sender wrote it:
// "7.2", "-0.5", "140". "<0,5", "7,41" (a decimal comma), ">200" and "1e3"
// are not. It is ^-?(0|[1-9][0-9]*)(\.[0-9]+)?$ by hand (a cache fill asks
// it fifty times; TestPlainNumberIsThePattern).
func plainNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	switch {
	case s == "":
		return false
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		for s = s[1:]; s != "" && '0' <= s[0] && s[0] <= '9'; s = s[1:] {
		}
	default:
		return false
	}
	if s == "" {
		return true
	}
	if s[0] != '.' || len(s) == 1 {
		return false
	}
	for s = s[1:]; s != ""; s = s[1:] {
		if s[0] < '0' || s[0] > '9' {
			return false
		}
	}
	return true
}

// statusToFHIR maps the status a device or client sent (ASTM/HL7 result
// status letters or FHIR codes) to an Observation status.
func statusToFHIR(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "f", "final":
		return "final"
	case "c", "corrected":
		return "corrected"
	case "a", "amended":
		return "amended"
	case "p", "r", "preliminary":
		return "preliminary"
	case "i", "s", "o", "registered":
		return "registered"
	case "x", "cancelled":
		return "cancelled"
	case "d", "w", "entered-in-error":
		return "entered-in-error"
	}
	return "unknown"
}

var observationStatuses = []string{"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}

// storedStatuses is every stored form of a FHIR status (for search).
func storedStatuses(fhir string) []string {
	var out []string
	for _, s := range []string{"F", "f", "final", "C", "c", "corrected", "A", "a", "amended", "P", "p", "R", "r",
		"preliminary", "I", "i", "S", "s", "O", "o", "registered", "X", "x", "cancelled", "D", "d", "W", "w", "entered-in-error", "unknown", ""} {
		if statusToFHIR(s) == fhir {
			out = append(out, s)
		}
	}
	return out
}

var categoryCodes = []string{"social-history", "vital-signs", "imaging", "laboratory", "procedure", "survey", "exam", "therapy", "activity"}

// interpretationCodes are the v3 ObservationInterpretation codes a device
// flag can be.
var interpretationCodes = []string{"<", ">", "A", "AA", "AC", "B", "D", "DET", "H", "HH", "HM", "HU", "HX", "I", "IE",
	"IND", "L", "LL", "LU", "LX", "MS", "N", "NCL", "ND", "NEG", "NR", "NS", "POS", "QCF", "R", "RR", "S", "SDD", "SYN-R",
	"SYN-S", "TOX", "U", "VS", "W", "WR"}

// toObservation maps a stored observation to FHIR. The value is the
// sender's exactly: a valueQuantity only when it is a plain number with a
// UCUM unit, else a valueString (with the unit, if any, in an extension).
func (h *Handler) toObservation(o *store.ObservationRow) *Observation {
	out := &Observation{ResourceType: "Observation", ID: o.UUID, Meta: &Meta{LastUpdated: instant(o.CreatedAt)},
		Status: statusToFHIR(o.Status), Issued: instant(o.CreatedAt)}
	if o.Category != "" {
		c := CodeableConcept{Text: o.Category}
		if slices.Contains(categoryCodes, o.Category) {
			c = CodeableConcept{Coding: []Coding{{System: systemCategory, Code: o.Category}}}
		}
		out.Category = []CodeableConcept{c}
	}
	sys := systemURL(o.CodeSystem)
	out.Code = CodeableConcept{Coding: []Coding{{System: sys, Code: o.Code, Display: o.Display}}, Text: o.Display}
	if sys != SystemNPU && npuCodeRE.MatchString(o.Code) {
		out.Code.Coding = append(out.Code.Coding, Coding{System: SystemNPU, Code: o.Code})
	}
	if o.PatientUUID != "" {
		out.Subject = &Reference{Reference: "Patient/" + o.PatientUUID}
	}
	if o.AppointmentUUID != "" {
		out.Encounter = &Reference{Reference: "Encounter/" + o.AppointmentUUID}
	}
	if !o.MeasuredAt.IsZero() {
		out.EffectiveDT = instant(o.MeasuredAt)
	}
	if o.Operator != "" {
		out.Performer = []Reference{{Display: o.Operator}}
	}
	switch {
	case plainNumber(o.Value) && isUCUM(o.Unit):
		out.ValueQuantity = &Quantity{Value: json.Number(o.Value), Unit: o.Unit, System: SystemUCUM, Code: o.Unit}
	case o.Value != "":
		v := o.Value
		out.ValueString = &v
		if o.Unit != "" {
			out.Extension = []Extension{{URL: ExtensionUnit, ValueString: o.Unit}}
		}
	}
	for _, f := range strings.FieldsFunc(o.Flags, func(r rune) bool { return r == '~' || r == '^' || r == ' ' }) {
		if slices.Contains(interpretationCodes, f) {
			out.Interpretation = append(out.Interpretation, CodeableConcept{Coding: []Coding{{System: systemInterpretation, Code: f}}})
		} else {
			out.Interpretation = append(out.Interpretation, CodeableConcept{Text: f})
		}
	}
	switch {
	case o.DeviceUUID != "":
		out.Device = &Reference{Reference: "Device/" + o.DeviceUUID, Display: o.DeviceName}
	case o.Instrument != "":
		out.Device = &Reference{Display: o.Instrument}
	}
	if o.ReferenceRange != "" {
		out.ReferenceRange = []ReferenceRange{{Text: o.ReferenceRange}}
	}
	return out
}

func (h *Handler) observationByID(r *http.Request, id string) (*store.ObservationRow, error) {
	rows, err := h.store.SearchObservations(r.Context(), orgID(r), store.ObservationSearch{UUIDs: []string{id}, Page: store.Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, notFound("Observation", id)
	}
	return &rows[0], nil
}

func (h *Handler) readObservation(w http.ResponseWriter, r *http.Request) {
	o, err := h.observationByID(r, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), o.OrgID, "observation", o.UUID, o.PatientID)
	writeResource(w, http.StatusOK, h.toObservation(o))
}

// patientIDs resolves FHIR patient ids to the model's; an unknown one
// matches nothing. The lookups are cached (a patient's id never changes,
// so the cached answer is just the id) and read only the id.
func (h *Handler) patientIDs(r *http.Request, ids []string) ([]int64, error) {
	var out []int64
	org := orgID(r)
	for _, id := range ids {
		fill := func() (any, int, []string, error) {
			found, err := h.store.PatientIDsByIdentifier(r.Context(), org, id, store.ByUUID)
			if err != nil {
				return nil, 0, nil, err
			}
			if len(found) == 0 {
				return nil, 0, nil, store.ErrNotFound
			}
			return found[0], 8, []string{patientTag(found[0])}, nil
		}
		var v any
		var err error
		if h.cache == nil {
			v, _, _, err = fill()
		} else {
			v, err = h.cache.Get("fhir-id\x00"+strconv.FormatInt(org, 10)+"\x00"+id, fill)
		}
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v.(int64))
	}
	return out, nil
}

// subject reads patient and subject (synonyms here) as one patient.
// found is false when the named patient does not exist (no match).
func (h *Handler) subject(r *http.Request, q *query, names ...string) (id int64, found bool, err error) {
	var refs []string
	for _, n := range names {
		rs, err := q.references(n, "Patient")
		if err != nil {
			return 0, false, err
		}
		refs = append(refs, rs...)
	}
	if len(refs) == 0 {
		return 0, true, nil
	}
	if len(refs) > 1 {
		return 0, false, invalidParam(names[0], "name one patient")
	}
	ids, err := h.patientIDs(r, refs)
	if err != nil || len(ids) == 0 {
		return 0, false, err
	}
	return ids[0], true, nil
}

func (h *Handler) searchObservation(w http.ResponseWriter, r *http.Request) {
	q, err := newQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f, ok, include, p, err := h.observationSearch(r, q)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// A search of one patient's results is answered from the patient's
	// cached results when it can be; any other in SQL.
	var found []match
	cached := false
	if ok {
		if found, cached, err = h.searchCachedObservations(r, &f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if ok && !cached {
		rows, err := h.store.SearchObservations(r.Context(), orgID(r), f)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		found = make([]match, len(rows))
		for i := range rows {
			found[i] = match{rows[i].OrgID, rows[i].PatientID, rows[i].PatientUUID, h.toObservation(&rows[i])}
		}
	}
	found, more := trim(found, p)
	matches := make([]resource, len(found))
	var included []resource
	// The patients seen so far: usually one (a search names a patient),
	// so a slice, not the maps a warm search paid for on every request.
	var audited, seen []int64
	for i, m := range found {
		matches[i] = m.res
		// One audit row per patient whose results the answer shows (not
		// one per result): who read which patient's data, and when.
		if !slices.Contains(audited, m.patientID) {
			audited = append(audited, m.patientID)
			h.store.AuditRead(r.Context(), m.orgID, "observation", "search", m.patientID)
		}
		if include && m.patientID > 0 && !slices.Contains(seen, m.patientID) {
			seen = append(seen, m.patientID)
			// The Patient as a read answers it, from the same cache entry.
			ans, err := h.cachedPatient(r, "fhir", orgID(r), m.patientUUID, h.encodePatient)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			h.store.AuditRead(r.Context(), orgID(r), "patient", strconv.FormatInt(ans.id, 10), ans.id)
			included = append(included, &encoded{"Patient", m.patientUUID, ans.body})
		}
	}
	h.searchset(w, r, q, p, matches, more, included)
}

// observationSearch reads an Observation search's parameters.
func (h *Handler) observationSearch(r *http.Request, q *query) (f store.ObservationSearch, found, include bool, p store.Page, err error) {
	if f.UUIDs, err = q.ids(); err != nil {
		return
	}
	if f.PatientID, found, err = h.subject(r, q, "patient", "subject"); err != nil {
		return
	}
	codes, err := q.or("code")
	if err != nil {
		return
	}
	for _, c := range codes {
		t := parseToken(c)
		ref := store.CodeRef{Code: t.Code}
		if t.HasSystem {
			names, ok := codeSystems[t.System]
			if !ok {
				names = []string{t.System}
			}
			ref.Systems = names
		}
		f.Codes = append(f.Codes, ref)
	}
	if f.Effective, err = q.dates("date"); err != nil {
		return
	}
	statuses, err := q.or("status")
	if err != nil {
		return
	}
	for _, s := range statuses {
		if !slices.Contains(observationStatuses, s) {
			err = invalidParam("status", "must be one of %s", strings.Join(observationStatuses, ", "))
			return
		}
		f.Statuses = append(f.Statuses, storedStatuses(s)...)
	}
	cats, err := q.or("category")
	if err != nil {
		return
	}
	for _, c := range cats {
		f.Category = append(f.Category, parseToken(c).Code)
	}
	devs, err := q.references("device", "Device")
	if err != nil {
		return
	}
	if len(devs) > 1 {
		err = invalidParam("device", "name one device")
		return
	}
	if len(devs) == 1 {
		d, derr := h.deviceByUUID(r, devs[0])
		if derr != nil && !errors.Is(derr, store.ErrNotFound) {
			err = derr
			return
		}
		if d == nil {
			found = false
		} else {
			f.DeviceID = d.ID
		}
	}
	for _, inc := range q.all("_include") {
		if inc != "Observation:patient" && inc != "Observation:subject" && inc != "Observation:subject:Patient" {
			err = invalidParam("_include", "only Observation:patient (or Observation:subject) is supported")
			return
		}
		include = true
	}
	if f.SortDate, err = q.sortDate(true); err != nil {
		return
	}
	if p, err = q.page(); err != nil {
		return
	}
	f.Page = fetch(p)
	if name := q.unread(); name != "" {
		err = errorf(http.StatusBadRequest, "not-supported", "search parameter %s is not supported on Observation; see %s/metadata", name, Base)
	}
	return
}

// deviceByUUID finds one of the organisation's devices (removed ones too:
// their observations stay).
func (h *Handler) deviceByUUID(r *http.Request, id string) (*store.Device, error) {
	ds, err := h.store.Devices(r.Context(), orgID(r), store.DeviceFilter{IncludeRemoved: true})
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].UUID == id {
			return &ds[i], nil
		}
	}
	return nil, store.ErrNotFound
}

// applyObservation sets the model's fields from an Observation resource.
func (h *Handler) applyObservation(r *http.Request, in *Observation, o *store.Observation) error {
	var v store.Validator
	if len(in.Code.Coding) == 0 || in.Code.Coding[0].Code == "" {
		v.Add("code.coding", "is required: a code with its system")
	} else {
		c := in.Code.Coding[0]
		o.Code, o.Display = c.Code, c.Display
		if o.Display == "" {
			o.Display = in.Code.Text
		}
		switch c.System {
		case SystemLOINC:
			o.CodeSystem = "LN"
		case SystemNPU:
			o.CodeSystem = "NPU"
		case SystemDeviceCode, "":
			o.CodeSystem = "local"
		default:
			o.CodeSystem = c.System
		}
	}
	switch {
	case in.ValueQuantity != nil && in.ValueString != nil:
		v.Add("value[x]", "give one value")
	case in.ValueQuantity != nil:
		// Kept as the characters sent: 7.20 stays 7.20. Bounded so that a
		// stray 2^63 or 1e300 is refused rather than stored as a result.
		if f, err := in.ValueQuantity.Value.Float64(); err != nil || math.Abs(f) >= 1e15 {
			v.Add("valueQuantity.value", "must be a number smaller than 10^15 in size")
		}
		o.Value = in.ValueQuantity.Value.String()
		o.Unit = in.ValueQuantity.Code
		if o.Unit == "" {
			o.Unit = in.ValueQuantity.Unit
		}
	case in.ValueString != nil:
		o.Value, o.Unit = *in.ValueString, ""
		for _, e := range in.Extension {
			if e.URL == ExtensionUnit {
				o.Unit = e.ValueString
			}
		}
	default:
		o.Value, o.Unit = "", ""
	}
	if !slices.Contains(observationStatuses, in.Status) {
		v.Add("status", "must be one of "+strings.Join(observationStatuses, ", "))
	}
	o.Status = in.Status
	o.Category = ""
	if len(in.Category) > 0 {
		o.Category = in.Category[0].Text
		if len(in.Category[0].Coding) > 0 {
			o.Category = in.Category[0].Coding[0].Code
		}
	}
	o.PatientID = 0
	if in.Subject != nil {
		id, ok := strings.CutPrefix(in.Subject.Reference, "Patient/")
		if !ok {
			v.Add("subject", "must reference a Patient (Patient/id)")
		} else if p, err := h.store.PatientBy(r.Context(), orgID(r), store.ByUUID, id); err == nil {
			o.PatientID = p.ID
		} else if errors.Is(err, store.ErrNotFound) {
			v.Add("subject", "Patient/"+id+" is not known")
		} else {
			return err
		}
	} else {
		v.Add("subject", "is required: the Patient the value is about")
	}
	o.AppointmentID = 0
	if in.Encounter != nil {
		id, _ := strings.CutPrefix(in.Encounter.Reference, "Encounter/")
		a, err := h.store.AppointmentBy(r.Context(), orgID(r), store.ApptByUUID, id)
		if errors.Is(err, store.ErrNotFound) {
			v.Add("encounter", "Encounter/"+id+" is not known")
		} else if err != nil {
			return err
		} else {
			o.AppointmentID = a.ID
		}
	}
	o.DeviceID = 0
	if in.Device != nil && in.Device.Reference != "" {
		id, _ := strings.CutPrefix(in.Device.Reference, "Device/")
		d, err := h.deviceByUUID(r, id)
		if errors.Is(err, store.ErrNotFound) {
			v.Add("device", "Device/"+id+" is not known")
		} else if err != nil {
			return err
		} else {
			o.DeviceID = d.ID
		}
	}
	o.MeasuredAt, o.MeasuredAtText = time.Time{}, in.EffectiveDT
	if in.EffectiveDT != "" {
		lo, _, err := parseDateInterval(in.EffectiveDT)
		if err != nil {
			v.Add("effectiveDateTime", "must be a FHIR dateTime")
		} else if lo.Before(store.MinDate) || !lo.Before(store.MaxDate) {
			v.Add("effectiveDateTime", fmt.Sprintf("must be between %d and %d", store.MinDate.Year(), store.MaxDate.Year()-1))
		}
		o.MeasuredAt = lo
	}
	var flags []string
	for _, c := range in.Interpretation {
		if len(c.Coding) > 0 && c.Coding[0].Code != "" {
			flags = append(flags, c.Coding[0].Code)
		} else if c.Text != "" {
			flags = append(flags, c.Text)
		}
	}
	o.Flags = strings.Join(flags, "~")
	o.ReferenceRange = ""
	if len(in.ReferenceRange) > 0 {
		o.ReferenceRange = in.ReferenceRange[0].Text
	}
	o.Operator = ""
	if len(in.Performer) > 0 {
		o.Operator = in.Performer[0].Display
	}
	return v.Err()
}

func (h *Handler) createObservation(w http.ResponseWriter, r *http.Request) {
	var in Observation
	if err := decodeResource(w, r, &in, "Observation"); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID != "" {
		h.fail(w, r, errorf(http.StatusBadRequest, "invalid", "a created resource gets its id from the server: leave id out"))
		return
	}
	o := store.Observation{Source: "fhir"}
	if err := h.applyObservation(r, &in, &o); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.RecordObservation(r.Context(), orgID(r), &o); err != nil {
		h.fail(w, r, err)
		return
	}
	row, err := h.observationByID(r, o.UUID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.url("Observation", o.UUID))
	writeResource(w, http.StatusCreated, h.toObservation(row))
}

// updateObservation records a correction. The model never overwrites a
// result: a correction is a new version (a new id) and the earlier version
// stays readable, marked superseded. So this update answers the new
// version, with its id in Location; the value, unit, reference range,
// interpretation and status can change, the code and subject cannot.
func (h *Handler) updateObservation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var in Observation
	if err := decodeResource(w, r, &in, "Observation"); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID != id {
		h.fail(w, r, errorf(http.StatusBadRequest, "invalid", "the resource's id (%q) must be the id in the URL (%q)", in.ID, id))
		return
	}
	cur, err := h.observationByID(r, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var next store.Observation
	if err := h.applyObservation(r, &in, &next); err != nil {
		h.fail(w, r, err)
		return
	}
	var v store.Validator
	v.Check(next.Code == cur.Code && next.CodeSystem == cur.CodeSystem, "code", "cannot change in a correction (record a new Observation)")
	v.Check(next.PatientID == cur.PatientID, "subject", "cannot change in a correction")
	if err := v.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	row, err := h.store.CorrectResult(r.Context(), orgID(r), id, store.Correction{Value: next.Value, Unit: &next.Unit,
		ReferenceRange: &next.ReferenceRange, Flags: &next.Flags, Status: next.Status, Note: "FHIR update"})
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Observation", id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	o, err := h.observationByID(r, row.UUID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.url("Observation", o.UUID))
	writeResource(w, http.StatusOK, h.toObservation(o))
}
