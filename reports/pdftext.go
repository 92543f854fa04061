package reports

import (
	"fmt"
	"strings"
	"time"
)

// pdfText is one language's wording of the printed documents, kept in one
// struct per language so that moving it into a message catalogue is mechanical.
type pdfText struct {
	VisitSummary, ResultsReport, PageOf, Printed                      string
	Patient, BirthDate, NationalID, MRN, Appointment, When, Room      string
	Reasons, Status, Clinician, Note, Version, NoNote, NotAnswered    string
	Comments, Addenda, Reason, Observations, NoObservations, Measured string
	Code, Value, Unit, Range, Flags, ObsStatus, Attachments, None     string
	SignedBy, NotSigned, Yes, No, Period, Results, NoResults, Trend   string
	ReferenceRange, NotPlotted                                        string
	DateTime, Date                                                    string // time layouts
	Months                                                            [12]string
}

var pdfTexts = map[string]*pdfText{
	"en": {
		VisitSummary: "Visit summary", ResultsReport: "Results report", PageOf: "Page %d of %s", Printed: "Printed",
		Patient: "Patient", BirthDate: "Date of birth", NationalID: "National id", MRN: "MRN", Appointment: "Appointment",
		When: "Time", Room: "Waiting room", Reasons: "Reason", Status: "Status", Clinician: "Clinician", Note: "Visit note",
		Version: "version", NoNote: "No visit note was written.", NotAnswered: "—",
		Comments: "Comments", Addenda: "Addenda", Reason: "Reason",
		Observations: "Observations of the day", NoObservations: "No observations on the day of the visit.", Measured: "Measured",
		Code: "Code", Value: "Value", Unit: "Unit", Range: "Reference", Flags: "Flags", ObsStatus: "Status",
		Attachments: "Attachments", None: "None.",
		SignedBy: "Signed by %s, %s", NotSigned: "Not signed (draft).", Yes: "Yes", No: "No",
		Period: "Period", Results: "Results", NoResults: "No results in this period.", Trend: "Trend",
		ReferenceRange: "reference range", NotPlotted: "%d values that are not numbers are listed but not plotted.",
		DateTime: "2006-01-02 15:04", Date: "2006-01-02",
	},
	"da": {
		VisitSummary: "Besøgsresumé", ResultsReport: "Resultatrapport", PageOf: "Side %d af %s", Printed: "Udskrevet",
		Patient: "Patient", BirthDate: "Fødselsdato", NationalID: "CPR-nummer", MRN: "Journalnummer", Appointment: "Aftale",
		When: "Tidspunkt", Room: "Venteværelse", Reasons: "Årsag", Status: "Status", Clinician: "Behandler", Note: "Journalnotat",
		Version: "version", NoNote: "Der er ikke skrevet noget notat.", NotAnswered: "—",
		Comments: "Kommentarer", Addenda: "Tillæg", Reason: "Begrundelse",
		Observations: "Dagens målinger", NoObservations: "Ingen målinger på besøgsdagen.", Measured: "Målt",
		Code: "Kode", Value: "Værdi", Unit: "Enhed", Range: "Reference", Flags: "Flag", ObsStatus: "Status",
		Attachments: "Vedhæftede filer", None: "Ingen.",
		SignedBy: "Underskrevet af %s, %s", NotSigned: "Ikke underskrevet (kladde).", Yes: "Ja", No: "Nej",
		Period: "Periode", Results: "Resultater", NoResults: "Ingen resultater i perioden.", Trend: "Udvikling",
		ReferenceRange: "referenceområde", NotPlotted: "%d værdier, der ikke er tal, er listet men ikke vist i grafen.",
		DateTime: "02.01.2006 15.04", Date: "02.01.2006",
	},
}

// textFor returns the wording of lang ("da" or "en"; anything else is English).
func textFor(lang string) *pdfText {
	if t, ok := pdfTexts[strings.ToLower(lang)]; ok {
		return t
	}
	return pdfTexts["en"]
}

func (t *pdfText) dateTime(tm time.Time, loc *time.Location) string {
	return tm.In(loc).Format(t.DateTime)
}

func (t *pdfText) pageOf(n int, total string) string { return fmt.Sprintf(t.PageOf, n, total) }
