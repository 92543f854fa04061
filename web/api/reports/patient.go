package reports

import (
	"net/http"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// The complete report about one patient: this face's own wire types, so
// that renaming a field of the model never changes the report.

type patientJSON struct {
	ID          string            `json:"id"`
	SPID        int64             `json:"spid"`
	Identifiers map[string]string `json:"identifiers"`
	Names       []string          `json:"names"`
	BirthDate   string            `json:"birthDate,omitempty"`
	Gender      string            `json:"gender,omitempty"`
	Phone       string            `json:"phone,omitempty"`
	Email       string            `json:"email,omitempty"`
	Active      bool              `json:"active"`
	CreatedAt   string            `json:"createdAt"`
	UpdatedAt   string            `json:"updatedAt"`
}

type appointmentJSON struct {
	ID          string   `json:"id"`
	Start       string   `json:"start"`
	Minutes     int      `json:"minutes"`
	Status      string   `json:"status"`
	WaitingRoom string   `json:"waitingRoom"`
	Clinician   string   `json:"clinician,omitempty"`
	Reasons     []string `json:"reasons,omitempty"`
}

type observationJSON struct {
	ID             string `json:"id"`
	Code           string `json:"code"`
	CodeSystem     string `json:"codeSystem,omitempty"`
	Display        string `json:"display,omitempty"`
	Value          string `json:"value"`
	Unit           string `json:"unit,omitempty"`
	ReferenceRange string `json:"referenceRange,omitempty"`
	Flags          string `json:"flags,omitempty"`
	Status         string `json:"status,omitempty"`
	MeasuredAt     string `json:"measuredAt,omitempty"`
	Device         string `json:"device,omitempty"`
	Source         string `json:"source"`
	Version        int    `json:"version"`
	Superseded     bool   `json:"superseded"`
	ReceivedAt     string `json:"receivedAt"`
}

type episodeJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	From   string `json:"from"`
	To     string `json:"to,omitempty"`
	Status string `json:"status"`
}

type documentJSON struct {
	ID          string `json:"id"`
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	ContentType string `json:"contentType"`
	Size        int64  `json:"size"`
	Deleted     bool   `json:"deleted"`
	CreatedAt   string `json:"createdAt"`
}

type noteJSON struct {
	ID          string              `json:"id"`
	Appointment string              `json:"appointment"`
	Template    string              `json:"template"`
	Status      string              `json:"status"`
	SignedBy    string              `json:"signedBy,omitempty"`
	Answers     map[string][]string `json:"answers"`
}

type accessJSON struct {
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Entity string `json:"entity"`
	ID     string `json:"entityId,omitempty"`
	From   string `json:"from,omitempty"`
	Detail string `json:"detail,omitempty"`
}

type recordJSON struct {
	GeneratedAt  string            `json:"generatedAt"`
	Patient      patientJSON       `json:"patient"`
	Appointments []appointmentJSON `json:"appointments"`
	Observations []observationJSON `json:"observations"`
	Episodes     []episodeJSON     `json:"episodes"`
	Documents    []documentJSON    `json:"documents"`
	VisitNotes   []noteJSON        `json:"visitNotes"`
	Access       []accessJSON      `json:"access"`
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// patient answers the complete report about one patient (by its public
// id). ?format=csv answers the access log alone, for a spreadsheet.
func (h *Handler) patient(w http.ResponseWriter, r *http.Request) {
	p, err := h.store.PatientBy(r.Context(), orgID(r), store.ByUUID, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rec, err := h.store.PatientRecord(r.Context(), orgID(r), p.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	access := make([]accessJSON, 0, len(rec.Access))
	for _, a := range rec.Access {
		access = append(access, accessJSON{At: rfc(a.CreatedAt), Actor: a.Actor, Action: a.Action, Entity: a.Entity, ID: a.EntityID,
			From: a.RemoteAddr, Detail: a.Detail})
	}
	if f := r.URL.Query().Get("format"); f == "csv" {
		t := &table{Report: "patient-access-" + p.UUID, Columns: []string{"at", "actor", "action", "entity", "entityId", "from", "detail"}}
		for _, a := range access {
			t.Rows = append(t.Rows, map[string]any{"at": a.At, "actor": a.Actor, "action": a.Action, "entity": a.Entity,
				"entityId": a.ID, "from": a.From, "detail": a.Detail})
		}
		write(w, r, t)
		return
	} else if f != "" && f != "json" {
		h.fail(w, r, bad("format must be json or csv"))
		return
	}
	pt := rec.Patient
	out := recordJSON{GeneratedAt: rfc(h.store.Now()), Access: access,
		Patient: patientJSON{ID: pt.UUID, SPID: pt.ID, BirthDate: pt.BirthDate, Gender: pt.Gender, Phone: pt.Phone(), Email: pt.Email(),
			Active: pt.Active, CreatedAt: rfc(pt.CreatedAt), UpdatedAt: rfc(pt.UpdatedAt), Identifiers: map[string]string{}},
		Appointments: []appointmentJSON{}, Observations: []observationJSON{}, Episodes: []episodeJSON{}, Documents: []documentJSON{},
		VisitNotes: []noteJSON{}}
	for k, v := range map[string]string{"nationalId": pt.NationalID, "mrn": pt.MRN, "hsid": pt.HSID, "externalId": pt.ExternalID, "accountNumber": pt.AccountNumber} {
		if v != "" {
			out.Patient.Identifiers[k] = v
		}
	}
	for _, n := range pt.Names {
		last := n.LastName
		if last == "" {
			last = n.Family
		}
		var parts []string
		for _, part := range []string{n.FirstName, n.MiddleName, last} {
			if part != "" {
				parts = append(parts, part)
			}
		}
		out.Patient.Names = append(out.Patient.Names, strings.Join(parts, " "))
	}
	for _, a := range rec.Appointments {
		out.Appointments = append(out.Appointments, appointmentJSON{ID: a.UUID, Start: rfc(a.Start), Minutes: a.Duration / 60,
			Status: a.Status, WaitingRoom: a.WaitingRoomName, Clinician: a.ProviderName, Reasons: a.Reasons})
	}
	for _, o := range rec.Observations {
		out.Observations = append(out.Observations, observationJSON{ID: o.UUID, Code: o.Code, CodeSystem: o.CodeSystem, Display: o.Display,
			Value: o.Value, Unit: o.Unit, ReferenceRange: o.ReferenceRange, Flags: o.Flags, Status: o.Status, MeasuredAt: rfc(o.MeasuredAt),
			Device: o.DeviceName, Source: o.Source, Version: o.Version, Superseded: !o.SupersededAt.IsZero(), ReceivedAt: rfc(o.CreatedAt)})
	}
	for _, e := range rec.Episodes {
		out.Episodes = append(out.Episodes, episodeJSON{ID: e.UUID, Name: e.Name, Type: e.Type, From: e.From, To: e.To, Status: e.Status})
	}
	for _, d := range rec.Documents {
		out.Documents = append(out.Documents, documentJSON{ID: d.UUID, Kind: d.Kind, Title: d.Title, ContentType: d.ContentType,
			Size: d.Size, Deleted: d.Deleted, CreatedAt: rfc(d.CreatedAt)})
	}
	for _, n := range rec.Notes {
		nj := noteJSON{ID: n.UUID, Appointment: n.AppointmentUUID, Template: n.TemplateName, Status: n.Status, SignedBy: n.Signer,
			Answers: map[string][]string{}}
		for _, sec := range n.Flow.Sections {
			for _, q := range sec.Questions {
				if a, ok := n.Answers[q.ID]; ok {
					nj.Answers[q.Text] = a.Value
				}
			}
		}
		out.VisitNotes = append(out.VisitNotes, nj)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.JSON(w, http.StatusOK, out)
}
