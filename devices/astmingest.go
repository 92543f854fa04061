package devices

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/devices/astm"
	"github.com/clinicbox/clinicbox/store"
)

// ingestASTM turns a stored ASTM transcript (ENQ ... EOT, as received) into
// observations. Frames the link rejected (a bad checksum) are skipped by
// astm.UnframeReport exactly as the live receiver skipped them (in the
// device's framing mode), so a corrupted frame never becomes a result; the
// deviations the tolerant receiver accepted become the message's warnings.
// The parsed messages are returned too: a host query is answered from them.
func ingestASTM(ctx context.Context, st *store.Store, dev *store.Device, raw []byte, loc *time.Location) (*store.Ingestion, []*astm.Message, error) {
	in := &store.Ingestion{Kind: "results"}
	msgs, ok := parseTransfer(dev, raw, in)
	if !ok {
		return in, nil, nil
	}
	var refs []string
	patients := map[int64]bool{}
	queries := 0
	for _, m := range msgs {
		queries += len(m.Queries)
		for _, p := range m.Patients {
			if err := ingestPatient(ctx, st, dev, m, p, loc, in, patients, &refs); err != nil {
				return nil, nil, err
			}
		}
	}
	summarise(in, msgs, patients, refs, queries)
	return in, msgs, nil
}

// parseTransfer unframes the transfer (the frames the link accepted, and
// the deviations it tolerated as warnings) and parses its messages; false
// when nothing is left to ingest (in says why).
func parseTransfer(dev *store.Device, raw []byte, in *store.Ingestion) ([]*astm.Message, bool) {
	text := raw
	if bytes.IndexByte(raw, astm.STX) >= 0 {
		text, in.Warnings = astm.UnframeReport(raw, dev.StrictFraming)
	}
	if len(bytes.TrimSpace(text)) == 0 {
		in.Status, in.Kind, in.Error = store.MessageIgnored, "empty", "no accepted frame in the transfer"
		return nil, false
	}
	msgs, err := astm.ParseMessages(text)
	if err != nil {
		in.Status, in.Error = store.MessageFailed, err.Error()
		return nil, false
	}
	return msgs, true
}

// ingestPatient matches one P record to a patient (unless all its orders
// are QC) and adds each of its results to in, verbatim. The patients
// matched are marked in patients, the notes for people added to refs.
func ingestPatient(ctx context.Context, st *store.Store, dev *store.Device, m *astm.Message, p *astm.Patient, loc *time.Location,
	in *store.Ingestion, patients map[int64]bool, refs *[]string) error {
	qcMessage := m.Header.ProcessingID == "Q"
	var ids identifiers
	ids.addPatient(p.PracticeID)
	ids.addPatient(p.LabID)
	ids.addNational(p.PatientID3)
	for _, o := range p.Orders {
		if o.ActionCode != "Q" {
			ids.addSample(o.SpecimenID)
		}
	}
	var patientID int64
	if !qcMessage && !allOrdersQC(p) {
		var err error
		if patientID, err = matchOrNote(ctx, st, dev, ids, refs); err != nil {
			return err
		}
	}
	asSent := store.PatientAsSent{
		ID:        firstNonEmpty(p.PracticeID, p.LabID, p.PatientID3),
		Name:      strings.TrimRight(strings.Join([]string{p.Name.Last, p.Name.First, p.Name.Middle}, "^"), "^"),
		BirthDate: p.Birthdate, Sex: p.Sex,
	}.Text()
	for _, o := range p.Orders {
		qc := qcMessage || o.ActionCode == "Q"
		for _, r := range o.Results {
			obs := astmObservation(dev, m, o, r, loc)
			obs.QC = qc
			obs.SpecimenID = o.SpecimenID
			obs.PatientText = asSent
			if !qc {
				obs.PatientID = patientID
				if patientID > 0 {
					patients[patientID] = true
				}
			}
			in.Observations = append(in.Observations, obs)
		}
	}
	return nil
}

// summarise sets what the transfer was as a whole: its patient (when there
// is exactly one), the analyser's firmware and serial number, its kind
// (results, QC, a host query) and status, and a note when a message had no
// terminator record.
func summarise(in *store.Ingestion, msgs []*astm.Message, patients map[int64]bool, refs []string, queries int) {
	for _, m := range msgs {
		if !m.Terminated {
			// Some analysers never send L; the results that did arrive are
			// kept, with a note that the message may be incomplete.
			in.Error = "the message has no terminator record (L): it may be incomplete"
		}
	}
	in.PatientRef = strings.Join(refs, "; ")
	if len(msgs) > 0 {
		in.Firmware, in.SerialNumber = msgs[0].Header.SenderVersion, msgs[0].Header.SenderSerial
	}
	if len(patients) == 1 {
		for id := range patients {
			in.PatientID = id
		}
	}
	switch {
	case len(in.Observations) > 0 && allObservationsQC(in.Observations):
		in.Kind = "qc"
	case len(in.Observations) == 0 && queries > 0:
		in.Kind = "query"
	}
	in.Status = store.MessageIngested
	if len(in.Observations) == 0 && queries == 0 {
		in.Status = store.MessageIgnored
		in.Error = "the message carries no results"
	}
}

func allOrdersQC(p *astm.Patient) bool {
	if len(p.Orders) == 0 {
		return false
	}
	for _, o := range p.Orders {
		if o.ActionCode != "Q" {
			return false
		}
	}
	return true
}

func allObservationsQC(obs []store.Observation) bool {
	for _, o := range obs {
		if !o.QC {
			return false
		}
	}
	return true
}

// matchOrNote matches a patient and records the note for people.
func matchOrNote(ctx context.Context, st *store.Store, dev *store.Device, ids identifiers, refs *[]string) (int64, error) {
	id, ref, err := match(ctx, st, dev.OrgID, dev.Station, ids)
	if err != nil {
		return 0, err
	}
	if ref != "" {
		*refs = append(*refs, ref)
	}
	return id, nil
}

// astmObservation carries one R record verbatim: the value, units, range,
// flags and status exactly as the analyser sent them.
func astmObservation(dev *store.Device, m *astm.Message, o *astm.Order, r *astm.Result, loc *time.Location) store.Observation {
	obs := store.Observation{
		DeviceID:       dev.ID,
		Source:         "serial",
		Category:       "laboratory",
		Code:           r.Test.Key(),
		Display:        r.Test.Name,
		Value:          r.Value,
		Unit:           r.Units,
		ReferenceRange: r.ReferenceRange,
		Flags:          r.Flags,
		Status:         r.Status,
		Operator:       r.Operator,
		Instrument:     firstNonEmpty(r.InstrumentID, m.Header.SenderName, dev.Name),
	}
	switch {
	case r.Test.Code != "":
		obs.CodeSystem = "astm-manufacturer"
	case r.Test.ID != "":
		obs.CodeSystem = "astm-universal"
	default:
		obs.CodeSystem = "astm"
	}
	if obs.Display == "" && len(r.Test.Extra) > 0 {
		obs.Display = r.Test.Extra[0]
	}
	if obs.Code == "" {
		obs.Code = "unknown"
	}
	obs.MeasuredAtText = firstNonEmpty(r.CompletedAt, r.StartedAt, o.CollectedAt, m.Header.Timestamp)
	if t, err := astm.ParseTimestamp(obs.MeasuredAtText, loc); err == nil {
		obs.MeasuredAt = t
	}
	return obs
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// answerQueries builds the host's answer to the Q records of a message:
// for each queried sample with an order for a patient, the patient (P) and
// the order (O) with its tests. A sample without an order gets one (state
// requested, source host-query; store.RequestSampleOrder), so the request
// shows in the pages and the API and its results find it; when no patient
// is known for the sample the answer is termination code I ("no
// information available").
func answerQueries(ctx context.Context, st *store.Store, dev *store.Device, q *astm.Message, now time.Time) ([]byte, error) {
	orgID := dev.OrgID
	ans := &astm.Message{
		Delimiters: q.Delimiters,
		Header: astm.Header{
			SenderName:   "CLINICBOX",
			ReceiverID:   q.Header.SenderName,
			ProcessingID: "P",
			Version:      "LIS2-A2",
			Timestamp:    now.Format("20060102150405"),
		},
	}
	if ans.Header.ProcessingID = q.Header.ProcessingID; ans.Header.ProcessingID == "" {
		ans.Header.ProcessingID = "P"
	}
	for _, query := range q.Queries {
		sample := strings.TrimSpace(query.SpecimenID())
		if sample == "" {
			continue
		}
		var tests []string
		for _, t := range query.Tests {
			tests = append(tests, t.Key())
		}
		o, _, err := st.RequestSampleOrder(ctx, orgID, store.HostQuery{SampleID: sample, Tests: tests, Station: dev.Station})
		if err != nil {
			var ve *store.ValidationError
			if errors.As(err, &ve) {
				continue // a sample id we cannot keep (delimiters, too long): nothing to answer
			}
			return nil, fmt.Errorf("answer query: %w", err)
		}
		if o.PatientID == 0 {
			continue
		}
		p, err := st.Patient(ctx, orgID, o.PatientID)
		if err != nil {
			continue
		}
		birth := strings.ReplaceAll(p.BirthDate, "-", "")
		sex := map[string]string{"male": "M", "female": "F"}[p.Gender]
		if sex == "" {
			sex = "U"
		}
		pid := p.MRN
		if pid == "" {
			pid = p.UUID
		}
		order := &astm.Order{SpecimenID: o.SampleID, Priority: o.Priority, ActionCode: "N", ReportType: "Q",
			RequestedAt: o.CreatedAt.In(now.Location()).Format("20060102150405")}
		for _, t := range o.Tests {
			order.Tests = append(order.Tests, astm.TestID{Code: t})
		}
		ans.Patients = append(ans.Patients, &astm.Patient{
			PracticeID: pid, LabID: p.UUID, PatientID3: p.NationalID,
			Name:      astm.Name{Last: p.LastName(), First: p.FirstName(), Middle: p.MiddleName()},
			Birthdate: birth, Sex: sex, Orders: []*astm.Order{order},
		})
	}
	if len(ans.Patients) == 0 {
		ans.TerminationCode = "I"
	}
	b, err := astm.Encode(ans)
	if err != nil {
		return nil, fmt.Errorf("answer query: %w", err)
	}
	return b, nil
}
