package lis

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/store"
)

// builder turns outbox events into messages, with the organisations' code
// maps read once per batch.
type builder struct {
	st   *store.Store
	maps map[int64]*store.CodeMap
	orgs map[int64]*store.Org
}

func (b *builder) codeMap(ctx context.Context, orgID int64) (*store.CodeMap, error) {
	if m, ok := b.maps[orgID]; ok {
		return m, nil
	}
	m, err := b.st.CodeMapVersion(ctx, orgID, 0)
	if err != nil {
		return nil, err
	}
	b.maps[orgID] = m
	return m, nil
}

func (b *builder) org(ctx context.Context, orgID int64) (*store.Org, error) {
	if o, ok := b.orgs[orgID]; ok {
		return o, nil
	}
	o, err := b.st.Org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	b.orgs[orgID] = o
	return o, nil
}

// preliminary is a status that says the result is not final.
func preliminary(status string) bool {
	switch strings.ToUpper(strings.TrimSpace(status)) {
	case "P", "I", "R", "PRELIMINARY", "PENDING":
		return true
	}
	return false
}

// lisEvent says whether an outbox event type can give a message:
// forEvent's cases (keep them alike).
func lisEvent(typ string) bool {
	switch typ {
	case store.EventObservationCreated, store.EventObservationCorrected, store.EventObservationAssigned,
		store.EventAppointmentCompleted:
		return true
	}
	return false
}

// forEvent builds the messages an event asks for at each destination.
func (b *builder) forEvent(ctx context.Context, ev store.Event, dests []store.LISDestination) ([]store.LISMessage, error) {
	var out []store.LISMessage
	switch ev.Type {
	case store.EventObservationCreated, store.EventObservationCorrected, store.EventObservationAssigned:
		r, err := b.st.ResultByID(ctx, ev.OrgID, ev.SubjectID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil // replaced by a re-ingestion since
		}
		if err != nil {
			return nil, err
		}
		if r.QC || preliminary(r.Status) || (ev.Type == store.EventObservationCreated && r.PrevID > 0) {
			return nil, nil
		}
		for _, d := range dests {
			if d.Send != store.LISSendResult || (d.MatchedOnly && r.PatientID == 0) {
				continue
			}
			key, kind, status := fmt.Sprintf("result:%d", r.ID), "result", ""
			switch ev.Type {
			case store.EventObservationCorrected:
				kind = "correction"
			case store.EventObservationAssigned:
				// Matched at the station after it was sent unmatched: the
				// LIS gets it again with the patient, as a correction.
				sent, err := b.st.LISMessageSent(ctx, d.ID, key)
				if err != nil {
					return nil, err
				}
				if sent {
					key, kind, status = fmt.Sprintf("assign:%d:%d", r.ID, ev.ID), "correction", "C"
				}
			}
			m, err := b.message(ctx, ev, d, []store.ResultRow{*r}, status)
			if err != nil {
				return nil, err
			}
			m.DedupKey, m.Kind = key, kind
			out = append(out, *m)
		}
	case store.EventAppointmentCompleted:
		var rs []store.ResultRow
		for _, d := range dests {
			if d.Send != store.LISSendEncounter {
				continue
			}
			if rs == nil {
				var err error
				rs, err = b.st.Results(ctx, ev.OrgID, store.ResultFilter{EncounterID: ev.SubjectID, Limit: 1000})
				if err != nil {
					return nil, err
				}
				if len(rs) == 0 {
					return nil, nil
				}
			}
			m, err := b.message(ctx, ev, d, rs, "")
			if err != nil {
				return nil, err
			}
			m.DedupKey, m.Kind = fmt.Sprintf("encounter:%d", ev.SubjectID), "encounter"
			out = append(out, *m)
		}
	}
	return out, nil
}

var hl7Time = regexp.MustCompile(`^[0-9]{8,14}([.][0-9]+)?([+-][0-9]{4})?$`)

// message builds the ORU^R01 of results (of one patient) for a destination.
// status, when set, overrides OBX-11 and OBR-25 (C for a correction the
// device did not mark as one).
func (b *builder) message(ctx context.Context, ev store.Event, d store.LISDestination, rs []store.ResultRow, status string) (*store.LISMessage, error) {
	org, err := b.org(ctx, ev.OrgID)
	if err != nil {
		return nil, err
	}
	cm, err := b.codeMap(ctx, ev.OrgID)
	if err != nil {
		return nil, err
	}
	oru := &hl7.ORU{SendingApp: "CLINICBOX", SendingFacility: org.Slug, ReceivingApp: d.ReceivingApp,
		ReceivingFacility: d.ReceivingFacility, ControlID: controlID(ev.ID, d.ID), Time: ev.CreatedAt, Version: d.HL7Version,
		VisitNumber: rs[0].EncounterUUID}
	first := rs[0]
	if first.PatientID > 0 {
		p, err := b.st.Patient(ctx, ev.OrgID, first.PatientID)
		if err != nil {
			return nil, err
		}
		oru.Patient = ourPatient(p, org.Slug)
	} else {
		// Not matched: the patient fields exactly as the analyser gave them.
		as := store.ParsePatientText(first.PatientText)
		if as.ID != "" {
			oru.Patient.Identifiers = []hl7.ORUIdentifier{{ID: as.ID}}
		}
		if as.Name != "" {
			oru.Patient.Name = strings.Split(as.Name, "^")
		}
		oru.Patient.BirthDate, oru.Patient.Sex = as.BirthDate, as.Sex
	}
	// One OBR per specimen, in the order the results came.
	index := map[string]int{}
	for _, r := range rs {
		i, ok := index[r.SpecimenID]
		if !ok {
			i = len(oru.Orders)
			index[r.SpecimenID] = i
			obrStatus := "F"
			if status != "" {
				obrStatus = status
			}
			oru.Orders = append(oru.Orders, hl7.ORUOrder{SpecimenID: r.SpecimenID, ServiceCode: "POCT",
				ServiceText: "Point-of-care testing", ObservedAt: obsTime(&r), Status: obrStatus})
		}
		x := hl7.ORUResult{Code: r.Code, Text: r.Display, CodeSystem: "L", Value: r.Value, Units: r.Unit,
			ReferenceRange: r.ReferenceRange, Status: r.Status, ObservedAt: obsTime(&r), Operator: r.Operator,
			Equipment: hl7.ORUEquipment{ID: r.Instrument, Namespace: r.DeviceName}}
		if r.Version > 1 && status == "" {
			oru.Orders[i].Status = "C"
		}
		if status != "" {
			x.Status = status
		}
		if x.Status == "" {
			x.Status = "F" // OBX-11 is required; the device said nothing
		}
		if r.Flags != "" {
			x.Flags = strings.Split(r.Flags, "~")
		}
		for _, e := range cm.Lookup(r.Code) {
			sys := e.System
			if sys == "LOINC" {
				sys = "LN"
			}
			x.Alternates = append(x.Alternates, hl7.CodedAlt{Code: e.Code, Text: e.Display, System: sys})
		}
		oru.Orders[i].Results = append(oru.Orders[i].Results, x)
	}
	return &store.LISMessage{OrgID: ev.OrgID, DestinationID: d.ID, ControlID: oru.ControlID, Message: oru.Build(),
		Observations: len(rs), CodeMapVersion: cm.Version}, nil
}

// obsTime is OBX-14: the time as the device sent it when it is an HL7 or
// ASTM timestamp already, else the parsed time.
func obsTime(r *store.ResultRow) string {
	if hl7Time.MatchString(r.MeasuredAtText) {
		return r.MeasuredAtText
	}
	if !r.MeasuredAt.IsZero() {
		return hl7.HL7Time(r.MeasuredAt)
	}
	return hl7.HL7Time(r.CreatedAt)
}

// ourPatient is PID from the clinic's own record.
func ourPatient(p *store.Patient, orgSlug string) hl7.ORUPatient {
	var ids []hl7.ORUIdentifier
	if p.MRN != "" {
		ids = append(ids, hl7.ORUIdentifier{ID: p.MRN, Authority: orgSlug, Type: "MR"})
	}
	if p.NationalID != "" {
		ids = append(ids, hl7.ORUIdentifier{ID: p.NationalID, Type: "NI"})
	}
	ids = append(ids, hl7.ORUIdentifier{ID: p.UUID, Authority: "CLINICBOX", Type: "PI"})
	sex := map[string]string{"female": "F", "male": "M", "other": "O", "unknown": "U"}[p.Gender]
	return hl7.ORUPatient{Identifiers: ids, Name: []string{p.LastName(), p.FirstName()},
		BirthDate: strings.ReplaceAll(p.BirthDate, "-", ""), Sex: sex}
}
