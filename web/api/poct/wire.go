package poct

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// page is every list answer: {"data":[...],"next_cursor":"..."}. A client
// passes next_cursor back as ?cursor= until it is empty.
type page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

// cursor encodes the last row id of a page; it is opaque to clients.
func cursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("p1:" + strconv.FormatInt(id, 10)))
}

// afterCursor decodes ?cursor= (0 when absent).
func afterCursor(r *http.Request) (int64, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if s, ok := strings.CutPrefix(string(b), "p1:"); ok {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, badRequest("cursor is not one this API gave out")
}

// limit reads ?limit= (1..1000, default 100).
func limit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 100, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, badRequest("limit must be an integer from 1 to 1000")
	}
	return n, nil
}

// timeParam reads an RFC 3339 query parameter.
func timeParam(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, badRequest("%s must be an RFC 3339 time, e.g. 2026-12-02T08:00:00Z", name)
	}
	return t, nil
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

type patientJSON struct {
	ID         string `json:"id"`
	MRN        string `json:"mrn"`
	NationalID string `json:"national_id"`
	ExternalID string `json:"external_id"`
	FamilyName string `json:"family_name"`
	GivenName  string `json:"given_name"`
	BirthDate  string `json:"birth_date"`
	Gender     string `json:"gender"`
	Active     bool   `json:"active"`
	CreatedAt  string `json:"created_at"`
}

func toPatient(p *store.Patient) patientJSON {
	return patientJSON{ID: p.UUID, MRN: p.MRN, NationalID: p.NationalID, ExternalID: p.ExternalID,
		FamilyName: p.LastName(), GivenName: p.FirstName(), BirthDate: p.BirthDate, Gender: p.Gender,
		Active: p.Active, CreatedAt: rfc3339(p.CreatedAt)}
}

type encounterJSON struct {
	ID          string `json:"id"`
	PatientRef  string `json:"patient_ref"`
	Kind        string `json:"kind"` // appointment, walk-in
	Station     string `json:"station"`
	Status      string `json:"status"`
	Start       string `json:"start"`
	CompletedAt string `json:"completed_at"`
	CreatedAt   string `json:"created_at"`
}

func toEncounter(e *store.Encounter) encounterJSON {
	kind := "appointment"
	if e.WalkIn() {
		kind = "walk-in"
	}
	return encounterJSON{ID: e.UUID, PatientRef: e.PatientUUID, Kind: kind, Station: e.WalkInStation, Status: e.Status,
		Start: rfc3339(e.Start), CompletedAt: rfc3339(e.CompletedAt), CreatedAt: rfc3339(e.CreatedAt)}
}

type orderJSON struct {
	ID           string   `json:"id"`
	SampleID     string   `json:"sample_id"`
	PatientRef   string   `json:"patient_ref"`
	EncounterRef string   `json:"encounter_ref"`
	Tests        []string `json:"tests"`
	Priority     string   `json:"priority"`
	State        string   `json:"state"`
	Source       string   `json:"source"`
	Station      string   `json:"station"`
	CreatedAt    string   `json:"created_at"`
	UpdatedAt    string   `json:"updated_at"`
}

func toOrder(o *store.OrderRow) orderJSON {
	tests := o.Tests
	if tests == nil {
		tests = []string{}
	}
	return orderJSON{ID: o.UUID, SampleID: o.SampleID, PatientRef: o.PatientUUID, EncounterRef: o.EncounterUUID,
		Tests: tests, Priority: o.Priority, State: o.State, Source: o.Source, Station: o.Station,
		CreatedAt: rfc3339(o.CreatedAt), UpdatedAt: rfc3339(o.UpdatedAt)}
}

type patientAsSentJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	BirthDate string `json:"birth_date"`
	Sex       string `json:"sex"`
}

// resultJSON is a result, every field a string as the device sent it.
type resultJSON struct {
	ID             string            `json:"id"`
	Version        int               `json:"version"`
	PreviousRef    string            `json:"previous_ref"`
	Current        bool              `json:"current"`
	EncounterRef   string            `json:"encounter_ref"`
	PatientRef     string            `json:"patient_ref"`
	SpecimenID     string            `json:"specimen_id"`
	PatientAsSent  patientAsSentJSON `json:"patient_as_sent"`
	Analyte        string            `json:"analyte"`
	AnalyteSystem  string            `json:"analyte_system"`
	AnalyteName    string            `json:"analyte_name"`
	Value          string            `json:"value"`
	Unit           string            `json:"unit"`
	ReferenceRange string            `json:"reference_range"`
	Flags          string            `json:"flags"`
	Status         string            `json:"status"`
	MeasuredAt     string            `json:"measured_at"`
	MeasuredAtText string            `json:"measured_at_as_sent"`
	DeviceRef      string            `json:"device_ref"`
	DeviceName     string            `json:"device_name"`
	Instrument     string            `json:"instrument"`
	Operator       string            `json:"operator"`
	MessageRef     string            `json:"message_ref"`
	Source         string            `json:"source"`
	QC             bool              `json:"qc"`
	CreatedAt      string            `json:"created_at"`
}

func toResult(r *store.ResultRow) resultJSON {
	ps := store.ParsePatientText(r.PatientText)
	msg := ""
	if r.MessageID > 0 {
		msg = "/api/poct/v1/messages/" + strconv.FormatInt(r.MessageID, 10)
	}
	return resultJSON{ID: r.UUID, Version: r.Version, PreviousRef: r.PrevUUID, Current: r.SupersededAt.IsZero(),
		EncounterRef: r.EncounterUUID, PatientRef: r.PatientUUID, SpecimenID: r.SpecimenID,
		PatientAsSent: patientAsSentJSON{ID: ps.ID, Name: ps.Name, BirthDate: ps.BirthDate, Sex: ps.Sex},
		Analyte:       r.Code, AnalyteSystem: r.CodeSystem, AnalyteName: r.Display, Value: r.Value, Unit: r.Unit,
		ReferenceRange: r.ReferenceRange, Flags: r.Flags, Status: r.Status, MeasuredAt: rfc3339(r.MeasuredAt),
		MeasuredAtText: r.MeasuredAtText, DeviceRef: r.DeviceUUID, DeviceName: r.DeviceName, Instrument: r.Instrument,
		Operator: r.Operator, MessageRef: msg, Source: r.Source, QC: r.QC, CreatedAt: rfc3339(r.CreatedAt)}
}

// ResultJSON is the wire form of a result, for the webhook worker (the
// same shape as GET /api/poct/v1/results/{id}).
func ResultJSON(r *store.ResultRow) any { return toResult(r) }

// OrderJSON is the wire form of an order, for the webhook worker.
func OrderJSON(o *store.OrderRow) any { return toOrder(o) }

// DeviceJSON is the wire form of a device, for the webhook worker.
func DeviceJSON(d *store.FleetDevice) any { return toDevice(d) }

// QCRunJSON is the wire form of a QC run, for the webhook worker.
func QCRunJSON(q *store.QCRunRecord, deviceUUID string) any { return toQCRun(q, deviceUUID) }

type deviceJSON struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Protocol         string `json:"protocol"`
	Station          string `json:"station"`
	Connection       string `json:"connection"` // serial port, USB serial number or TCP address
	Active           bool   `json:"active"`
	State            string `json:"state"` // connected, disconnected, error, unknown
	StateSince       string `json:"state_since"`
	Port             string `json:"port"`
	LastMessageAt    string `json:"last_message_at"`
	LastError        string `json:"last_error"`
	LastErrorAt      string `json:"last_error_at"`
	MessagesReceived int    `json:"messages_received"`
	MessagesFailed   int    `json:"messages_failed"`
	QCState          string `json:"qc_state"` // none, ok, warning, failed
	QCAt             string `json:"qc_at"`
	Firmware         string `json:"firmware"`
	SerialNumber     string `json:"serial_number"`
}

func toDevice(d *store.FleetDevice) deviceJSON {
	return deviceJSON{ID: d.UUID, Name: d.Name, Protocol: d.Protocol, Station: d.Station, Connection: d.Where(),
		Active: d.Active, State: d.Status.State, StateSince: rfc3339(d.Status.Since), Port: d.Status.Port,
		LastMessageAt: rfc3339(d.Status.LastMessageAt), LastError: d.Status.LastError, LastErrorAt: rfc3339(d.Status.LastErrorAt),
		MessagesReceived: d.MessagesIn, MessagesFailed: d.Failed, QCState: d.Status.QCState, QCAt: rfc3339(d.Status.QCAt),
		Firmware: d.Status.Firmware, SerialNumber: d.Status.SerialNumber}
}

type qcRunJSON struct {
	ID         string   `json:"id"`
	DeviceRef  string   `json:"device_ref"`
	Analyte    string   `json:"analyte"`
	Lot        string   `json:"lot"`
	Level      string   `json:"level"`
	Value      string   `json:"value"`
	Unit       string   `json:"unit"`
	SDI        *float64 `json:"sdi"` // (value - mean) / SD; null when not evaluated
	Rules      []string `json:"rules"`
	Status     string   `json:"status"`
	MeasuredAt string   `json:"measured_at"`
}

func toQCRun(q *store.QCRunRecord, deviceUUID string) qcRunJSON {
	rules := q.Rules
	if rules == nil {
		rules = []string{}
	}
	return qcRunJSON{ID: strconv.FormatInt(q.ID, 10), DeviceRef: deviceUUID, Analyte: q.Code, Lot: q.Lot, Level: q.Level,
		Value: q.Value, Unit: q.Unit, SDI: q.Z, Rules: rules, Status: q.Status, MeasuredAt: rfc3339(q.MeasuredAt)}
}

type documentJSON struct {
	ID           string `json:"id"`
	PatientRef   string `json:"patient_ref"`
	EncounterRef string `json:"encounter_ref"`
	Title        string `json:"title"`
	Filename     string `json:"filename"`
	ContentType  string `json:"content_type"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	CreatedAt    string `json:"created_at"`
}
