package hl7

// Observation is one OBX with the notes that follow it and the context it
// belongs to, which is what ingestion needs to store a result: who (PID),
// which order (OBR, ORC) and which specimen (SPM).
type Observation struct {
	OBX         OBX
	Notes       []NTE
	Patient     *PID // nil if no PID came before
	Order       *OBR // nil if no OBR came before
	CommonOrder *ORC // nil if the order had no ORC
	Specimen    *SPM // nil if no SPM came before
}

// Observations walks the message in order and returns every OBX with its
// context. It follows both ORU^R01 (PID, ORC, OBR, OBX...) and OUL^R22
// (PID, SPM, OBR, ORC, OBX...) layouts: a PID starts a new patient, an SPM
// a new specimen, and an ORC belongs to the OBR next to it, before or after.
func (m *Message) Observations() []Observation {
	var (
		out        []Observation
		pid        *PID
		spm        *SPM
		obr        *OBR
		orc        *ORC
		orcWaiting bool // an ORC arrived and waits for its OBR
		obrHasORC  bool // the current OBR already has its ORC
		obxSeen    bool // an OBX followed the current OBR
		last       = -1 // index in out of the OBX that NTEs attach to
	)
	for _, s := range m.Segments {
		switch s.Name {
		case "PID":
			p := ParsePID(s)
			pid, spm, obr, orc, orcWaiting, last = &p, nil, nil, nil, false, -1
		case "SPM":
			sp := ParseSPM(s)
			spm, obr, orc, orcWaiting, last = &sp, nil, nil, false, -1
		case "ORC":
			o := ParseORC(s)
			orc = &o
			if obr != nil && !obrHasORC && !obxSeen {
				obrHasORC = true // OUL layout: ORC after its OBR
			} else {
				obr, orcWaiting = nil, true // ORU layout: ORC before its OBR
			}
			last = -1
		case "OBR":
			o := ParseOBR(s)
			obr, obxSeen = &o, false
			obrHasORC = orcWaiting
			if !orcWaiting {
				orc = nil
			}
			orcWaiting, last = false, -1
		case "OBX":
			out = append(out, Observation{OBX: ParseOBX(s), Patient: pid, Order: obr, CommonOrder: orc, Specimen: spm})
			last = len(out) - 1
			obxSeen = true
		case "NTE":
			if last >= 0 {
				out[last].Notes = append(out[last].Notes, ParseNTE(s))
			}
		}
	}
	return out
}
