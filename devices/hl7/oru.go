package hl7

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ORU is an unsolicited observation result (ORU^R01) to send to a LIS.
// Every value is written exactly as given: the builder only escapes the
// separators, so a receiver that unescapes gets the original bytes back.
type ORU struct {
	SendingApp, SendingFacility     string
	ReceivingApp, ReceivingFacility string
	ControlID                       string    // MSH-10: the receiver's ACK echoes it
	Time                            time.Time // MSH-7
	Version                         string    // MSH-12, default 2.5.1
	Patient                         ORUPatient
	VisitNumber                     string // PV1-19, the encounter id
	Orders                          []ORUOrder
}

// ORUPatient is the PID segment.
type ORUPatient struct {
	Identifiers []ORUIdentifier // PID-3, one repetition each
	Name        []string        // PID-5: family, given, middle (components)
	BirthDate   string          // PID-7 as given
	Sex         string          // PID-8 as given
}

// ORUIdentifier is one PID-3 repetition: id^^^authority^type.
type ORUIdentifier struct {
	ID, Authority, Type string
}

// ORUOrder is an OBR (with an SPM when there is a specimen id) and the
// OBX results under it.
type ORUOrder struct {
	SpecimenID  string // OBR-2/OBR-3 and SPM-2: what a LIS matches on
	ServiceCode string // OBR-4.1
	ServiceText string // OBR-4.2
	ObservedAt  string // OBR-7 (HL7 time)
	Status      string // OBR-25: F final, C corrected
	Results     []ORUResult
}

// ORUResult is one OBX.
type ORUResult struct {
	Code, Text, CodeSystem string       // OBX-3 primary triplet: the device's own code
	Alternates             []CodedAlt   // OBX-3 alternates: mapped LOINC / NPU codes
	Value                  string       // OBX-5 verbatim
	Units                  string       // OBX-6.1 verbatim
	ReferenceRange         string       // OBX-7 verbatim
	Flags                  []string     // OBX-8 repetitions, verbatim
	Status                 string       // OBX-11
	ObservedAt             string       // OBX-14 (HL7 time)
	Operator               string       // OBX-16
	Equipment              ORUEquipment // OBX-18
}

// CodedAlt is an alternate coding of an analyte (LN for LOINC, NPU).
type CodedAlt struct {
	Code, Text, System string
}

// ORUEquipment is OBX-18: the instrument's id and the device's name.
type ORUEquipment struct {
	ID, Namespace string
}

var numeric = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)

// ValueType is OBX-2 for a value as sent: NM for a plain decimal number,
// otherwise ST (a "<0,5", a "7,41" with a decimal comma or a "3+" stay
// strings: the value is never rewritten to fit a type).
func ValueType(v string) string {
	if numeric.MatchString(v) {
		return "NM"
	}
	return "ST"
}

// HL7Time formats t as an HL7 DTM with seconds and zone.
func HL7Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("20060102150405-0700")
}

// Build encodes the message with the standard separators, segments ended
// by CR.
func (m *ORU) Build() []byte {
	d := StandardDelimiters()
	e := d.EscapeText
	comp := func(parts ...string) string {
		for i := range parts {
			parts[i] = e(parts[i])
		}
		return strings.TrimRight(strings.Join(parts, "^"), "^")
	}
	version := m.Version
	if version == "" {
		version = "2.5.1"
	}
	var b strings.Builder
	seg := func(fields ...string) {
		b.WriteString(strings.TrimRight(strings.Join(fields, "|"), "|"))
		b.WriteByte('\r')
	}
	b.WriteString("MSH|^~\\&")
	b.WriteByte('|')
	seg(e(m.SendingApp), e(m.SendingFacility), e(m.ReceivingApp), e(m.ReceivingFacility), HL7Time(m.Time), "",
		"ORU^R01^ORU_R01", e(m.ControlID), "P", e(version), "", "", "AL", "NE")

	var ids []string
	for _, id := range m.Patient.Identifiers {
		ids = append(ids, strings.TrimRight(e(id.ID)+"^^^"+e(id.Authority)+"^"+e(id.Type), "^"))
	}
	seg("PID", "1", "", strings.Join(ids, "~"), "", comp(m.Patient.Name...), "", e(m.Patient.BirthDate), e(m.Patient.Sex))
	if m.VisitNumber != "" {
		seg("PV1", "1", "O", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", e(m.VisitNumber))
	}
	for i, o := range m.Orders {
		seg("OBR", strconv.Itoa(i+1), e(o.SpecimenID), e(o.SpecimenID), comp(o.ServiceCode, o.ServiceText), "", "",
			e(o.ObservedAt), "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", e(o.Status))
		for j, r := range o.Results {
			id := []string{r.Code, r.Text, r.CodeSystem}
			for k, a := range r.Alternates {
				if k == 0 {
					id = append(id, a.Code, a.Text, a.System)
				} else if k == 1 {
					// CWE-10..12 (second alternate, v2.7); older receivers ignore them.
					id = append(id, "", "", "", a.Code, a.Text, a.System)
				}
			}
			var flags []string
			for _, f := range r.Flags {
				flags = append(flags, e(f))
			}
			seg("OBX", strconv.Itoa(j+1), ValueType(r.Value), comp(id...), "", e(r.Value), comp(r.Units), e(r.ReferenceRange),
				strings.Join(flags, "~"), "", "", e(r.Status), "", "", e(r.ObservedAt), "", e(r.Operator), "",
				comp(r.Equipment.ID, r.Equipment.Namespace))
		}
		if o.SpecimenID != "" && version >= "2.5" {
			seg("SPM", "1", e(o.SpecimenID)+"^"+e(o.SpecimenID))
		}
	}
	return []byte(b.String())
}
