package hl7

// HD is a hierarchic designator (applications, facilities, authorities).
type HD struct {
	Namespace, UniversalID, UniversalIDType string
}

func hd(f Field) HD {
	return HD{Namespace: f.Component(1), UniversalID: f.Component(2), UniversalIDType: f.Component(3)}
}

// Coded is a coded element (CE/CWE): code^text^system^alt code^alt text^alt system.
type Coded struct {
	Code, Text, System, AltCode, AltText, AltSystem string
}

func coded(f Field) Coded {
	return Coded{
		Code: f.Component(1), Text: f.Component(2), System: f.Component(3),
		AltCode: f.Component(4), AltText: f.Component(5), AltSystem: f.Component(6),
	}
}

// EntityID is an entity identifier (EI): id^namespace^universal id^type.
type EntityID struct {
	ID, Namespace, UniversalID, UniversalIDType string
}

func entityID(f Field) EntityID {
	return EntityID{ID: f.Component(1), Namespace: f.Component(2), UniversalID: f.Component(3), UniversalIDType: f.Component(4)}
}

// MSH is the message header.
type MSH struct {
	SendingApp        HD     // MSH-3
	SendingFacility   HD     // MSH-4
	ReceivingApp      HD     // MSH-5
	ReceivingFacility HD     // MSH-6
	Timestamp         string // MSH-7 as sent; see ParseTime
	Type              string // MSH-9.1 message code: ORU, OUL, ACK, ...
	Event             string // MSH-9.2 trigger event: R01, R22, ...
	Structure         string // MSH-9.3 message structure: ORU_R01, ...
	ControlID         string // MSH-10, echoed in the ACK
	ProcessingID      string // MSH-11 P production, T training, D debugging
	Version           string // MSH-12, e.g. 2.5.1
}

// MessageType returns "code^event", e.g. "ORU^R01".
func (h MSH) MessageType() string {
	if h.Event == "" {
		return h.Type
	}
	return h.Type + "^" + h.Event
}

// MSH returns the typed header; ok is false if the message has none.
func (m *Message) MSH() (h MSH, ok bool) {
	s, ok := m.Segment("MSH")
	if !ok {
		return MSH{}, false
	}
	t := s.Field(9)
	return MSH{
		SendingApp:        hd(s.Field(3)),
		SendingFacility:   hd(s.Field(4)),
		ReceivingApp:      hd(s.Field(5)),
		ReceivingFacility: hd(s.Field(6)),
		Timestamp:         s.Field(7).Component(1),
		Type:              t.Component(1),
		Event:             t.Component(2),
		Structure:         t.Component(3),
		ControlID:         s.str(10),
		ProcessingID:      s.Field(11).Component(1),
		Version:           s.Field(12).Component(1),
	}, true
}

// Identifier is an extended identifier (CX), as in PID-3.
type Identifier struct {
	ID                 string // CX.1
	CheckDigit         string // CX.2
	AssigningAuthority string // CX.4.1 (namespace)
	TypeCode           string // CX.5: MR medical record, PI patient internal, NI national, SS social security, ...
}

func identifier(f Field) Identifier {
	return Identifier{ID: f.Component(1), CheckDigit: f.Component(2), AssigningAuthority: f.Subcomponent(4, 1), TypeCode: f.Component(5)}
}

// Name is a person name (XPN).
type Name struct {
	Family, Given, Middle, Suffix, Prefix string
}

// PID is the patient identification segment.
type PID struct {
	SetID       string       // PID-1
	PatientID   Identifier   // PID-2 (external id, kept by older senders)
	Identifiers []Identifier // PID-3, every repetition
	Name        Name         // PID-5, first repetition
	BirthDate   string       // PID-7 as sent
	Sex         string       // PID-8
}

// Identifier returns the first PID-3 identifier whose type code is code
// (MR, PI, NI, SS, ...).
func (p PID) Identifier(code string) (Identifier, bool) {
	for _, id := range p.Identifiers {
		if id.TypeCode == code {
			return id, true
		}
	}
	return Identifier{}, false
}

// ParsePID reads a PID segment.
func ParsePID(s Segment) PID {
	p := PID{
		SetID:     s.str(1),
		PatientID: identifier(s.Field(2)),
		Name: Name{
			Family: s.Field(5).Subcomponent(1, 1), Given: s.Field(5).Component(2), Middle: s.Field(5).Component(3),
			Suffix: s.Field(5).Component(4), Prefix: s.Field(5).Component(5),
		},
		BirthDate: s.Field(7).Component(1),
		Sex:       s.str(8),
	}
	if f := s.Field(3); !f.IsEmpty() {
		for _, r := range f.Repeats() {
			p.Identifiers = append(p.Identifiers, identifier(r))
		}
	}
	return p
}

// ORC is the common order segment.
type ORC struct {
	OrderControl      string // ORC-1: NW, RE, SC, ...
	PlacerOrderNumber string // ORC-2.1
	FillerOrderNumber string // ORC-3.1
	OrderStatus       string // ORC-5
}

// ParseORC reads an ORC segment.
func ParseORC(s Segment) ORC {
	return ORC{
		OrderControl:      s.str(1),
		PlacerOrderNumber: s.Field(2).Component(1),
		FillerOrderNumber: s.Field(3).Component(1),
		OrderStatus:       s.str(5),
	}
}

// OBR is the observation request segment.
type OBR struct {
	SetID             string // OBR-1
	PlacerOrderNumber string // OBR-2.1
	FillerOrderNumber string // OBR-3.1
	Service           Coded  // OBR-4 universal service identifier
	ObservedAt        string // OBR-7 observation date/time
	ResultStatus      string // OBR-25
}

// ParseOBR reads an OBR segment.
func ParseOBR(s Segment) OBR {
	return OBR{
		SetID:             s.str(1),
		PlacerOrderNumber: s.Field(2).Component(1),
		FillerOrderNumber: s.Field(3).Component(1),
		Service:           coded(s.Field(4)),
		ObservedAt:        s.Field(7).Component(1),
		ResultStatus:      s.str(25),
	}
}

// SPM is the specimen segment (OUL^R22 and later ORU).
type SPM struct {
	SetID       string // SPM-1
	PlacerID    string // SPM-2.1.1 placer-assigned specimen id
	FillerID    string // SPM-2.2.1 filler-assigned specimen id
	Type        Coded  // SPM-4
	CollectedAt string // SPM-17.1
	ReceivedAt  string // SPM-18
}

// SpecimenID returns the placer's specimen id, else the filler's.
func (s SPM) SpecimenID() string {
	if s.PlacerID != "" {
		return s.PlacerID
	}
	return s.FillerID
}

// ParseSPM reads an SPM segment.
func ParseSPM(s Segment) SPM {
	return SPM{
		SetID:       s.str(1),
		PlacerID:    s.Field(2).Subcomponent(1, 1),
		FillerID:    s.Field(2).Subcomponent(2, 1),
		Type:        coded(s.Field(4)),
		CollectedAt: s.Field(17).Component(1),
		ReceivedAt:  s.Field(18).Component(1),
	}
}

// OBX is one observation (result).
type OBX struct {
	SetID               string     // OBX-1
	ValueType           string     // OBX-2: NM, ST, TX, CE, CWE, SN, ...
	Identifier          Coded      // OBX-3 observation identifier (code, text, coding system)
	SubID               string     // OBX-4
	Value               string     // OBX-5 as sent (escapes decoded; ^ and ~ kept)
	Units               Coded      // OBX-6; Units.Code is the unit, e.g. mmol/L
	ReferenceRange      string     // OBX-7
	AbnormalFlags       []string   // OBX-8, every repetition: L, H, LL, HH, N, A, ...
	ResultStatus        string     // OBX-11: F final, P preliminary, C corrected, ...
	ObservedAt          string     // OBX-14
	ResponsibleObserver string     // OBX-16.1 operator id
	Equipment           []EntityID // OBX-18, every repetition
	AnalysedAt          string     // OBX-19 (v2.5+)
}

// ParseOBX reads an OBX segment.
func ParseOBX(s Segment) OBX {
	o := OBX{
		SetID:               s.str(1),
		ValueType:           s.str(2),
		Identifier:          coded(s.Field(3)),
		SubID:               s.str(4),
		Value:               s.str(5),
		Units:               coded(s.Field(6)),
		ReferenceRange:      s.str(7),
		ResultStatus:        s.str(11),
		ObservedAt:          s.Field(14).Component(1),
		ResponsibleObserver: s.Field(16).Component(1),
		AnalysedAt:          s.Field(19).Component(1),
	}
	if f := s.Field(8); !f.IsEmpty() {
		for _, r := range f.Repeats() {
			o.AbnormalFlags = append(o.AbnormalFlags, r.String())
		}
	}
	if f := s.Field(18); !f.IsEmpty() {
		for _, r := range f.Repeats() {
			o.Equipment = append(o.Equipment, entityID(r))
		}
	}
	return o
}

// NTE is a notes and comments segment.
type NTE struct {
	SetID   string // NTE-1
	Source  string // NTE-2: L lab, P placer, O other
	Comment string // NTE-3, escapes decoded (\.br\ becomes a line break)
	Type    string // NTE-4.1
}

// ParseNTE reads an NTE segment.
func ParseNTE(s Segment) NTE {
	return NTE{SetID: s.str(1), Source: s.str(2), Comment: s.str(3), Type: s.Field(4).Component(1)}
}
