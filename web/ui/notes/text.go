package notes

import (
	"fmt"
	"net/http"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
)

// Strings is one language's wording of the visit-note pages. They live in
// one struct per language so that moving them into the pages' message
// catalogue is mechanical.
type Strings struct {
	Lang                                                           string
	NoteTitle, NoteFor, TemplateVersion, StatusDraft, StatusSigned string
	Saved, Saving, NotSaved, Offline, SaveNow, SavedAt             string
	NoTemplate, NoTemplateHint, StartNote, Template                string
	ObservationsOfDay, NoObservations, Measured, Code, Value       string
	Unit, Range, Flags, Status                                     string
	Comments, NoComments, AddComment, Comment, CommentAdded        string
	SignOff, SignHint, SignedBy, Signed, MissingRequired           string
	Addenda, AddAddendum, Reason, Addendum, AddendumAdded          string
	AddendumHint, SummaryPDF, ResultsPDF, From, To, Download       string
	Yes, No, Required, Answered, Attachments, NoAttachments        string
	ChangedSinceLoad, FixErrors, Appointment, Patient, Room        string
	Clinician, OpenNote                                            string
	NoteSaved                                                      func(n int) string

	// Admin.
	TemplatesTitle, TemplatesHint, NewTemplate, EditTemplate, Name, Active    string
	Version, Questions, RoomTemplates, RoomTemplatesHint, NoneTemplate        string
	Section, SectionTitle, Question, QuestionText, Type, Options, OptionsHint string
	Help, Min, Max, Order, Remove, AddSection, AddQuestion, Save, Rooms       string
	TemplateSaved, TemplateCreated, RoomTemplateSaved, Cancel                 string
	TypeLabel                                                                 map[string]string
}

var english = Strings{
	Lang:      "en",
	NoteTitle: "Visit note", NoteFor: "Visit note for", TemplateVersion: "version",
	StatusDraft: "Draft", StatusSigned: "Signed",
	Saved: "All answers saved", Saving: "Saving…", NotSaved: "Not saved yet",
	Offline: "Not saved: no connection. Your answers are kept in this browser and sent when the connection returns.",
	SaveNow: "Save answers", SavedAt: "Saved",
	NoTemplate: "This visit has no note yet", NoTemplateHint: "Its waiting room has no note template. Choose one to start the note.",
	StartNote: "Start note", Template: "Template",
	ObservationsOfDay: "The patient's observations of the day", NoObservations: "No observations recorded on the day of the visit.",
	Measured: "Measured", Code: "Code", Value: "Value", Unit: "Unit", Range: "Reference range", Flags: "Flags", Status: "Status",
	Comments: "Comments", NoComments: "No comments yet.", AddComment: "Add comment", Comment: "Comment", CommentAdded: "Comment added.",
	SignOff: "Sign off note", SignHint: "A signed note is locked. Corrections are made as addenda with a reason.",
	SignedBy: "Signed by", Signed: "Note signed; its summary is attached to the appointment.",
	MissingRequired: "Answer the required questions before signing.",
	Addenda:         "Addenda", AddAddendum: "Add addendum", Reason: "Reason for the addendum", Addendum: "Addendum",
	AddendumAdded: "Addendum added.", AddendumHint: "The signed note stays as it is; the addendum is shown below it with your name and the time.",
	SummaryPDF: "Visit summary (PDF)", ResultsPDF: "Results report (PDF)", From: "From", To: "To", Download: "Download",
	Yes: "Yes", No: "No", Required: "required", Answered: "answered",
	Attachments: "Attachments", NoAttachments: "No attachments.",
	ChangedSinceLoad: "The note changed since this page was loaded. Review it and sign again.",
	FixErrors:        "Some answers were not saved; see the messages next to them.",
	Appointment:      "Appointment", Patient: "Patient", Room: "Waiting room", Clinician: "Clinician", OpenNote: "Open the note on its own page",
	NoteSaved: func(n int) string {
		if n == 1 {
			return "1 answer saved."
		}
		return fmt.Sprintf("%d answers saved.", n)
	},
	TemplatesTitle: "Note templates", TemplatesHint: "The forms clinicians fill in during a visit. Editing a template makes a new version; notes already started keep theirs.",
	NewTemplate: "New template", EditTemplate: "Edit template", Name: "Name", Active: "Active",
	Version: "Version", Questions: "Questions", RoomTemplates: "Templates of the waiting rooms",
	RoomTemplatesHint: "An appointment's note starts from its waiting room's template.", NoneTemplate: "(none)",
	Section: "Section", SectionTitle: "Section title", Question: "Question", QuestionText: "Question", Type: "Type",
	Options: "Options", OptionsHint: "One per line (choice questions)", Help: "Help text", Min: "Minimum", Max: "Maximum",
	Order: "Order", Remove: "Remove", AddSection: "Add section", AddQuestion: "Add question", Save: "Save", Rooms: "Rooms",
	TemplateSaved: "Template saved.", TemplateCreated: "Template created.", RoomTemplateSaved: "Waiting room template saved.", Cancel: "Cancel",
	TypeLabel: map[string]string{store.QuestionText: "Free text", store.QuestionChoice: "Single choice", store.QuestionMulti: "Multiple choice",
		store.QuestionNumber: "Number", store.QuestionDate: "Date", store.QuestionDateTime: "Date and time", store.QuestionYesNo: "Yes/no"},
}

var danish = Strings{
	Lang:      "da",
	NoteTitle: "Journalnotat", NoteFor: "Journalnotat for", TemplateVersion: "version",
	StatusDraft: "Kladde", StatusSigned: "Underskrevet",
	Saved: "Alle svar er gemt", Saving: "Gemmer…", NotSaved: "Ikke gemt endnu",
	Offline: "Ikke gemt: ingen forbindelse. Dine svar gemmes i browseren og sendes, når forbindelsen er tilbage.",
	SaveNow: "Gem svar", SavedAt: "Gemt",
	NoTemplate: "Besøget har intet notat endnu", NoTemplateHint: "Venteværelset har ingen notatskabelon. Vælg en for at begynde notatet.",
	StartNote: "Begynd notat", Template: "Skabelon",
	ObservationsOfDay: "Patientens målinger på dagen", NoObservations: "Ingen målinger registreret på besøgsdagen.",
	Measured: "Målt", Code: "Kode", Value: "Værdi", Unit: "Enhed", Range: "Referenceområde", Flags: "Flag", Status: "Status",
	Comments: "Kommentarer", NoComments: "Ingen kommentarer endnu.", AddComment: "Tilføj kommentar", Comment: "Kommentar", CommentAdded: "Kommentaren er tilføjet.",
	SignOff: "Underskriv notat", SignHint: "Et underskrevet notat er låst. Rettelser foretages som tillæg med en begrundelse.",
	SignedBy: "Underskrevet af", Signed: "Notatet er underskrevet; resuméet er vedhæftet aftalen.",
	MissingRequired: "Besvar de obligatoriske spørgsmål før underskrift.",
	Addenda:         "Tillæg", AddAddendum: "Tilføj tillæg", Reason: "Begrundelse for tillægget", Addendum: "Tillæg",
	AddendumAdded: "Tillægget er tilføjet.", AddendumHint: "Det underskrevne notat forbliver uændret; tillægget vises under det med dit navn og tidspunktet.",
	SummaryPDF: "Besøgsresumé (PDF)", ResultsPDF: "Resultatrapport (PDF)", From: "Fra", To: "Til", Download: "Hent",
	Yes: "Ja", No: "Nej", Required: "obligatorisk", Answered: "besvaret",
	Attachments: "Vedhæftede filer", NoAttachments: "Ingen vedhæftede filer.",
	ChangedSinceLoad: "Notatet er ændret, siden siden blev hentet. Gennemse det og underskriv igen.",
	FixErrors:        "Nogle svar blev ikke gemt; se beskederne ved dem.",
	Appointment:      "Aftale", Patient: "Patient", Room: "Venteværelse", Clinician: "Behandler", OpenNote: "Åbn notatet på sin egen side",
	NoteSaved: func(n int) string {
		if n == 1 {
			return "1 svar er gemt."
		}
		return fmt.Sprintf("%d svar er gemt.", n)
	},
	TemplatesTitle: "Notatskabeloner", TemplatesHint: "Skemaerne, som behandlere udfylder under et besøg. Når en skabelon redigeres, opstår en ny version; påbegyndte notater beholder deres.",
	NewTemplate: "Ny skabelon", EditTemplate: "Rediger skabelon", Name: "Navn", Active: "Aktiv",
	Version: "Version", Questions: "Spørgsmål", RoomTemplates: "Venteværelsernes skabeloner",
	RoomTemplatesHint: "En aftales notat begynder fra venteværelsets skabelon.", NoneTemplate: "(ingen)",
	Section: "Afsnit", SectionTitle: "Afsnittets titel", Question: "Spørgsmål", QuestionText: "Spørgsmål", Type: "Type",
	Options: "Svarmuligheder", OptionsHint: "Én pr. linje (valgspørgsmål)", Help: "Hjælpetekst", Min: "Minimum", Max: "Maksimum",
	Order: "Rækkefølge", Remove: "Fjern", AddSection: "Tilføj afsnit", AddQuestion: "Tilføj spørgsmål", Save: "Gem", Rooms: "Venteværelser",
	TemplateSaved: "Skabelonen er gemt.", TemplateCreated: "Skabelonen er oprettet.", RoomTemplateSaved: "Venteværelsets skabelon er gemt.", Cancel: "Annuller",
	TypeLabel: map[string]string{store.QuestionText: "Fritekst", store.QuestionChoice: "Ét valg", store.QuestionMulti: "Flere valg",
		store.QuestionNumber: "Tal", store.QuestionDate: "Dato", store.QuestionDateTime: "Dato og tid", store.QuestionYesNo: "Ja/nej"},
}

// Lang is the language of the pages and printed documents: ?lang=da or
// ?lang=en when given (a script fetching a PDF chooses), else the signed-in
// clinician's (their profile, else their organisation's).
func Lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); i18n.Supports(l) {
		return l
	}
	return i18n.Lang(r.Context())
}

// texts is the wording for the request's language.
func texts(r *http.Request) *Strings {
	if Lang(r) == "da" {
		return &danish
	}
	return &english
}
