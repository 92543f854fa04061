package devices

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/devices/hl7"
	"github.com/clinicbox/clinicbox/store"
)

// ingestHL7 turns a stored HL7 v2 message into observations.
func ingestHL7(ctx context.Context, st *store.Store, dev *store.Device, raw []byte, loc *time.Location) (*store.Ingestion, error) {
	in, _, err := hl7Ingestion(ctx, st, dev, raw, loc)
	return in, err
}

// hl7Ingestion parses an HL7 message and maps each OBX, verbatim, to an
// observation on the patient its PID, specimen or order names. The parsed
// message is returned for the acknowledgement (nil if it did not parse).
func hl7Ingestion(ctx context.Context, st *store.Store, dev *store.Device, raw []byte, loc *time.Location) (*store.Ingestion, *hl7.Message, error) {
	in := &store.Ingestion{Kind: "results", Warnings: hl7.SegmentDeviations(raw)}
	msg, err := hl7.Parse(raw)
	if err != nil {
		in.Status, in.Error = store.MessageFailed, err.Error()
		return in, nil, nil
	}
	if dev.StrictFraming && len(in.Warnings) > 0 {
		// The device is set to the standard's framing: the message is kept
		// (an admin can re-run it) but refused.
		in.Status, in.Error = store.MessageFailed, "strict framing: "+strings.Join(in.Warnings, "; ")
		in.Warnings = nil
		return in, msg, nil
	}
	msh, _ := msg.MSH()
	if msh.Type == "ACK" {
		in.Status, in.Kind = store.MessageIgnored, "ack"
		return in, msg, nil
	}
	type key struct {
		pid *hl7.PID
		spm *hl7.SPM
		obr *hl7.OBR
	}
	matched := map[key]int64{}
	patients := map[int64]bool{}
	var refs []string
	for _, o := range msg.Observations() {
		qc := isQCSpecimen(o.Specimen)
		k := key{o.Patient, o.Specimen, o.Order}
		pid, seen := matched[k]
		if !seen && !qc {
			ids := hl7Identifiers(o)
			pid, err = matchOrNote(ctx, st, dev, ids, &refs)
			if err != nil {
				return nil, nil, err
			}
			matched[k] = pid
		}
		obs := hl7Observation(dev, msh, o, loc)
		obs.QC = qc
		if o.Specimen != nil {
			obs.SpecimenID = o.Specimen.SpecimenID()
		} else if o.Order != nil {
			obs.SpecimenID = firstNonEmpty(o.Order.PlacerOrderNumber, o.Order.FillerOrderNumber)
		}
		if p := o.Patient; p != nil {
			id := p.PatientID.ID
			if len(p.Identifiers) > 0 {
				id = firstNonEmpty(p.Identifiers[0].ID, id)
			}
			obs.PatientText = store.PatientAsSent{ID: id,
				Name:      strings.TrimRight(strings.Join([]string{p.Name.Family, p.Name.Given, p.Name.Middle}, "^"), "^"),
				BirthDate: p.BirthDate, Sex: p.Sex}.Text()
		}
		if !qc {
			obs.PatientID = pid
			if pid > 0 {
				patients[pid] = true
			}
		}
		in.Observations = append(in.Observations, obs)
	}
	in.PatientRef = strings.Join(refs, "; ")
	in.Firmware, in.SerialNumber = hl7DeviceIdentity(msg, msh)
	if len(patients) == 1 {
		for id := range patients {
			in.PatientID = id
		}
	}
	in.Status = store.MessageIngested
	switch {
	case len(in.Observations) == 0:
		in.Status, in.Error = store.MessageIgnored, "the message carries no OBX results"
	case allObservationsQC(in.Observations):
		in.Kind = "qc"
	}
	return in, msg, nil
}

// hl7Identifiers collects who and what sample an OBX is about.
func hl7Identifiers(o hl7.Observation) identifiers {
	var ids identifiers
	if p := o.Patient; p != nil {
		for _, id := range p.Identifiers {
			switch id.TypeCode {
			case "NI", "SS", "NNDNK", "NH":
				ids.addNational(id.ID)
			default:
				ids.addPatient(id.ID)
			}
		}
		ids.addPatient(p.PatientID.ID)
	}
	if s := o.Specimen; s != nil {
		ids.addSample(s.SpecimenID())
	}
	if r := o.Order; r != nil {
		ids.addSample(r.PlacerOrderNumber)
		if r.FillerOrderNumber != r.PlacerOrderNumber {
			ids.addSample(r.FillerOrderNumber)
		}
	}
	return ids
}

// isQCSpecimen reports a control sample: an SPM whose type says QC or
// control.
func isQCSpecimen(s *hl7.SPM) bool {
	if s == nil {
		return false
	}
	for _, v := range []string{s.Type.Code, s.Type.Text} {
		v = strings.ToUpper(strings.TrimSpace(v))
		if v == "QC" || v == "Q" || strings.Contains(v, "CONTROL") {
			return true
		}
	}
	return false
}

// hl7Observation carries one OBX verbatim.
func hl7Observation(dev *store.Device, msh hl7.MSH, o hl7.Observation, loc *time.Location) store.Observation {
	x := o.OBX
	obs := store.Observation{
		DeviceID:       dev.ID,
		Source:         "serial",
		CodeSystem:     x.Identifier.System,
		Code:           firstNonEmpty(x.Identifier.Code, x.Identifier.Text, x.Identifier.AltCode),
		Display:        x.Identifier.Text,
		Value:          x.Value,
		Unit:           firstNonEmpty(x.Units.Code, x.Units.Text),
		ReferenceRange: x.ReferenceRange,
		Flags:          strings.Join(x.AbnormalFlags, "~"),
		Status:         x.ResultStatus,
		Operator:       x.ResponsibleObserver,
		Instrument:     firstNonEmpty(msh.SendingApp.Namespace, dev.Name),
	}
	if dev.TCPAddr != "" {
		obs.Source = "tcp"
	}
	if len(x.Equipment) > 0 && x.Equipment[0].ID != "" {
		obs.Instrument = x.Equipment[0].ID
	}
	if obs.Code == "" {
		obs.Code = fmt.Sprintf("OBX-%s", firstNonEmpty(x.SetID, "?"))
	}
	if o.Order != nil {
		obs.Category = firstNonEmpty(o.Order.Service.Text, o.Order.Service.Code)
	}
	collected := ""
	if o.Specimen != nil {
		collected = o.Specimen.CollectedAt
	}
	observedOrder := ""
	if o.Order != nil {
		observedOrder = o.Order.ObservedAt
	}
	obs.MeasuredAtText = firstNonEmpty(x.ObservedAt, x.AnalysedAt, observedOrder, collected, msh.Timestamp)
	if t, err := hl7.ParseTime(obs.MeasuredAtText, loc); err == nil {
		obs.MeasuredAt = t
	}
	return obs
}

// hl7DeviceIdentity reads the firmware version and serial number a device
// reports in an HL7 message, for the fleet view ("" where it says nothing):
//
//   - firmware: SFT-2, the software certified version or release number
//     of the sending system (HL7 v2.5 and later);
//   - serial number: the equipment instance identifier of the first OBX
//     that has one (OBX-18: its universal id, EI.3, as IHE PCD devices
//     send their EUI-64, else its entity id, EI.1); else MSH-3's universal
//     id when MSH-3 names its type (the device itself sending, as IHE PCD
//     asks: GLUCOSCAN^0012345^EUI-64). MSH-3 without a type names an
//     application, possibly middleware in between, not a device.
func hl7DeviceIdentity(msg *hl7.Message, msh hl7.MSH) (firmware, serial string) {
	if sft, ok := msg.Segment("SFT"); ok {
		firmware = strings.TrimSpace(sft.Field(2).String())
	}
	for _, o := range msg.Observations() {
		for _, eq := range o.OBX.Equipment {
			if serial = strings.TrimSpace(firstNonEmpty(eq.UniversalID, eq.ID)); serial != "" {
				return firmware, serial
			}
		}
	}
	if msh.SendingApp.UniversalIDType != "" {
		serial = strings.TrimSpace(msh.SendingApp.UniversalID)
	}
	return firmware, serial
}
