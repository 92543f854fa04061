package poctwire

import (
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// RFC3339 is the face's timestamp: UTC, seconds, "" for no time.
func RFC3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

type Order struct {
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

func OrderOf(o *store.OrderRow) Order {
	tests := o.Tests
	if tests == nil {
		tests = []string{}
	}
	return Order{ID: o.UUID, SampleID: o.SampleID, PatientRef: o.PatientUUID, EncounterRef: o.EncounterUUID,
		Tests: tests, Priority: o.Priority, State: o.State, Source: o.Source, Station: o.Station,
		CreatedAt: RFC3339(o.CreatedAt), UpdatedAt: RFC3339(o.UpdatedAt)}
}

type PatientAsSent struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	BirthDate string `json:"birth_date"`
	Sex       string `json:"sex"`
}

// Result is a result, every field a string as the device sent it (GET
// /api/poct/v1/results/{id} and the result.* webhooks).
type Result struct {
	ID             string        `json:"id"`
	Version        int           `json:"version"`
	PreviousRef    string        `json:"previous_ref"`
	Current        bool          `json:"current"`
	EncounterRef   string        `json:"encounter_ref"`
	PatientRef     string        `json:"patient_ref"`
	SpecimenID     string        `json:"specimen_id"`
	PatientAsSent  PatientAsSent `json:"patient_as_sent"`
	Analyte        string        `json:"analyte"`
	AnalyteSystem  string        `json:"analyte_system"`
	AnalyteName    string        `json:"analyte_name"`
	Value          string        `json:"value"`
	Unit           string        `json:"unit"`
	ReferenceRange string        `json:"reference_range"`
	Flags          string        `json:"flags"`
	Status         string        `json:"status"`
	MeasuredAt     string        `json:"measured_at"`
	MeasuredAtText string        `json:"measured_at_as_sent"`
	DeviceRef      string        `json:"device_ref"`
	DeviceName     string        `json:"device_name"`
	Instrument     string        `json:"instrument"`
	Operator       string        `json:"operator"`
	MessageRef     string        `json:"message_ref"`
	Source         string        `json:"source"`
	QC             bool          `json:"qc"`
	CreatedAt      string        `json:"created_at"`
}

func ResultOf(r *store.ResultRow) Result {
	ps := store.ParsePatientText(r.PatientText)
	msg := ""
	if r.MessageID > 0 {
		msg = "/api/poct/v1/messages/" + strconv.FormatInt(r.MessageID, 10)
	}
	return Result{ID: r.UUID, Version: r.Version, PreviousRef: r.PrevUUID, Current: r.SupersededAt.IsZero(),
		EncounterRef: r.EncounterUUID, PatientRef: r.PatientUUID, SpecimenID: r.SpecimenID,
		PatientAsSent: PatientAsSent{ID: ps.ID, Name: ps.Name, BirthDate: ps.BirthDate, Sex: ps.Sex},
		Analyte:       r.Code, AnalyteSystem: r.CodeSystem, AnalyteName: r.Display, Value: r.Value, Unit: r.Unit,
		ReferenceRange: r.ReferenceRange, Flags: r.Flags, Status: r.Status, MeasuredAt: RFC3339(r.MeasuredAt),
		MeasuredAtText: r.MeasuredAtText, DeviceRef: r.DeviceUUID, DeviceName: r.DeviceName, Instrument: r.Instrument,
		Operator: r.Operator, MessageRef: msg, Source: r.Source, QC: r.QC, CreatedAt: RFC3339(r.CreatedAt)}
}

type Device struct {
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

func DeviceOf(d *store.FleetDevice) Device {
	return Device{ID: d.UUID, Name: d.Name, Protocol: d.Protocol, Station: d.Station, Connection: d.Where(),
		Active: d.Active, State: d.Status.State, StateSince: RFC3339(d.Status.Since), Port: d.Status.Port,
		LastMessageAt: RFC3339(d.Status.LastMessageAt), LastError: d.Status.LastError, LastErrorAt: RFC3339(d.Status.LastErrorAt),
		MessagesReceived: d.MessagesIn, MessagesFailed: d.Failed, QCState: d.Status.QCState, QCAt: RFC3339(d.Status.QCAt),
		Firmware: d.Status.Firmware, SerialNumber: d.Status.SerialNumber}
}

type QCRun struct {
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

func QCRunOf(q *store.QCRunRecord, deviceUUID string) QCRun {
	rules := q.Rules
	if rules == nil {
		rules = []string{}
	}
	return QCRun{ID: strconv.FormatInt(q.ID, 10), DeviceRef: deviceUUID, Analyte: q.Code, Lot: q.Lot, Level: q.Level,
		Value: q.Value, Unit: q.Unit, SDI: q.Z, Rules: rules, Status: q.Status, MeasuredAt: RFC3339(q.MeasuredAt)}
}
