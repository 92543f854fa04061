package poct

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/api/poct/poctwire"
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

// The objects webhooks carry too have their wire form in poctwire.
type (
	orderJSON  = poctwire.Order
	resultJSON = poctwire.Result
	deviceJSON = poctwire.Device
	qcRunJSON  = poctwire.QCRun
)

var (
	toOrder  = poctwire.OrderOf
	toResult = poctwire.ResultOf
	toDevice = poctwire.DeviceOf
	toQCRun  = poctwire.QCRunOf
	rfc3339  = poctwire.RFC3339
)

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
