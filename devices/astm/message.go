package astm

// Message is one E1394 message, H through L, as a tree: patients hold
// their orders, orders their results, and comments hang on the record they
// follow. Every value is the decoded string the instrument sent; nothing is
// converted to a number or a time here.
type Message struct {
	Delimiters   Delimiters
	Header       Header
	Comments     []Comment // comments that follow the header directly
	Patients     []*Patient
	Queries      []*Query // host queries (Q records)
	Manufacturer []Record // manufacturer-defined (M) records, in order
	// Terminated is true when the message ended with an L record, whose
	// termination code (L.3: N normal, T sender abort, Q query error, ...)
	// is TerminationCode.
	Terminated      bool
	TerminationCode string
	// Records is every record in order, including those the typed view
	// above does not interpret (S, unknown types).
	Records []Record
}

// Header is the H record.
type Header struct {
	Record        Record
	ControlID     string // H.3 message control id
	SenderName    string // H.5.1 sender name or id (instrument name)
	SenderVersion string // H.5.2 software version
	SenderSerial  string // H.5.3 serial number (instrument id)
	ReceiverID    string // H.10
	ProcessingID  string // H.12 P production, T training, D debugging, Q QC
	Version       string // H.13 standard version, e.g. LIS2-A2 or 1394-97
	Timestamp     string // H.14 YYYYMMDDHHMMSS as sent; see ParseTimestamp
}

// Patient is a P record with the orders that follow it.
type Patient struct {
	Record     Record // zero Type if the message had results without a P record
	Seq        string // P.2 sequence number
	PracticeID string // P.3 practice-assigned patient id
	LabID      string // P.4 laboratory-assigned patient id
	PatientID3 string // P.5 patient id No. 3 (often a national id)
	Name       Name   // P.6
	Birthdate  string // P.8 YYYYMMDD as sent
	Sex        string // P.9 M, F or U
	Comments   []Comment
	Orders     []*Order
}

// Name is a person name: last^first^middle^suffix^title.
type Name struct {
	Last, First, Middle, Suffix, Title string
}

// String returns "Last, First Middle" without empty parts.
func (n Name) String() string {
	s := n.Last
	given := joinNonEmpty(" ", n.First, n.Middle)
	if s != "" && given != "" {
		s += ", "
	}
	return s + given
}

// Order is an O record with the results that follow it.
type Order struct {
	Record               Record   // zero Type if results came without an O record
	Seq                  string   // O.2
	SpecimenID           string   // O.3 specimen (sample) id
	InstrumentSpecimenID string   // O.4 instrument specimen id (rack^position^... on some analysers)
	Tests                []TestID // O.5 universal test ids (repeatable)
	Priority             string   // O.6 S stat, R routine, ...
	RequestedAt          string   // O.7
	CollectedAt          string   // O.8 specimen collection time
	ActionCode           string   // O.12 "Q" marks a QC/control sample, "A" add, "N" new, ...
	SpecimenType         string   // O.16 specimen descriptor (serum, urine, ...)
	ReportType           string   // O.26 F final, P preliminary, O order, Q query response, ...
	Comments             []Comment
	Results              []*Result
}

// Result is an R record with its comments.
type Result struct {
	Record         Record
	Seq            string // R.2
	Test           TestID // R.3
	Value          string // R.4 exactly as sent: "5.4", "7,41", ">8", "3+", "NEG"
	Units          string // R.5
	ReferenceRange string // R.6, e.g. "3.9-5.5" or "3.9 to 5.5"
	Flags          string // R.7 abnormal flags: L, H, LL, HH, <, >, N, A, ...
	Status         string // R.9 F final, C correction, P preliminary, ...
	Operator       string // R.11 operator identification
	StartedAt      string // R.12
	CompletedAt    string // R.13
	InstrumentID   string // R.14
	Comments       []Comment
}

// TestID is a universal test id: id^name^type^manufacturer's code^...
// Analysers usually leave the first three empty and put their own code in
// the fourth, as in "^^^GLU^Glucose".
type TestID struct {
	ID    string   // component 1, universal test id (e.g. LOINC)
	Name  string   // component 2
	Type  string   // component 3
	Code  string   // component 4, the manufacturer's local code
	Extra []string // components 5 and on (local name, dilution, ...)
}

// Key returns the code that identifies the test: the manufacturer's code,
// else the universal id, else the first non-empty component.
func (t TestID) Key() string {
	switch {
	case t.Code != "":
		return t.Code
	case t.ID != "":
		return t.ID
	case t.Name != "":
		return t.Name
	case t.Type != "":
		return t.Type
	}
	for _, e := range t.Extra {
		if e != "" {
			return e
		}
	}
	return ""
}

// Comment is a C record.
type Comment struct {
	Record Record
	Seq    string // C.2
	Source string // C.3 P practice, L laboratory, I instrument
	Text   string // C.4, components left joined as sent
	Type   string // C.5 G generic, T test name, P positive, N negative, I instrument flag
}

// Query is a Q record: the instrument asks the host for orders.
type Query struct {
	Record     Record
	Seq        string   // Q.2
	StartRange []string // Q.3 components: patient id ^ specimen id ^ ...
	EndRange   []string // Q.4
	Tests      []TestID // Q.5; "ALL" often appears as the id
	TimeLimits string   // Q.6 nature of request time limits
	From       string   // Q.7 beginning request results date and time
	To         string   // Q.8 ending request results date and time
	Status     string   // Q.13 request information status: O orders, A abort, ...
	Comments   []Comment
}

// SpecimenID returns the specimen id the query asks about: the second
// component of the starting range if set (the usual "^SAMPLE1" form), else
// the first.
func (q *Query) SpecimenID() string {
	if len(q.StartRange) > 1 && q.StartRange[1] != "" {
		return q.StartRange[1]
	}
	if len(q.StartRange) > 0 {
		return q.StartRange[0]
	}
	return ""
}

func joinNonEmpty(sep string, parts ...string) string {
	s := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if s != "" {
			s += sep
		}
		s += p
	}
	return s
}
