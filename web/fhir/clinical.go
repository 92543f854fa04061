package fhir

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// EpisodeOfCare is a patient's course of treatment.
type EpisodeOfCare struct {
	ResourceType         string            `json:"resourceType"`
	ID                   string            `json:"id"`
	Meta                 *Meta             `json:"meta,omitempty"`
	Status               string            `json:"status"`
	Type                 []CodeableConcept `json:"type,omitempty"`
	Patient              Reference         `json:"patient"`
	ManagingOrganization *Reference        `json:"managingOrganization,omitempty"`
	Period               *Period           `json:"period,omitempty"`
	Extension            []Extension       `json:"extension,omitempty"`
}

func (e *EpisodeOfCare) fhirType() string { return "EpisodeOfCare" }
func (e *EpisodeOfCare) fhirID() string   { return e.ID }

// ExtensionEpisodeName carries an episode's name (EpisodeOfCare has none).
const ExtensionEpisodeName = "urn:clinicbox:fhir:episode-name"

// episodeStatus maps the model's statuses (the FHIR codes, but "canceled"
// as the telehealth API spells it).
func episodeStatus(s string) string {
	switch s {
	case "canceled":
		return "cancelled"
	case "planning":
		return "planned"
	}
	return s
}

var episodeStatuses = []string{"planned", "waitlist", "active", "onhold", "finished", "cancelled"}

func (h *Handler) toEpisode(e *store.EpisodeRef) *EpisodeOfCare {
	out := &EpisodeOfCare{ResourceType: "EpisodeOfCare", ID: e.UUID, Meta: &Meta{LastUpdated: instant(e.UpdatedAt)},
		Status: episodeStatus(e.Status), Patient: Reference{Reference: "Patient/" + e.PatientUUID}}
	if e.Type != "" {
		out.Type = []CodeableConcept{{Text: e.Type}}
	}
	if e.From != "" || e.To != "" {
		out.Period = &Period{Start: e.From, End: e.To}
	}
	if e.Name != "" {
		out.Extension = []Extension{{URL: ExtensionEpisodeName, ValueString: e.Name}}
	}
	return out
}

func (h *Handler) readEpisode(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rows, err := h.store.SearchEpisodes(r.Context(), orgID(r), store.EpisodeSearch{UUIDs: []string{id}, Page: store.Page{Limit: 1}})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(rows) == 0 {
		h.fail(w, r, notFound("EpisodeOfCare", id))
		return
	}
	h.store.AuditRead(r.Context(), rows[0].OrgID, "episode", rows[0].UUID, rows[0].PatientID)
	writeResource(w, http.StatusOK, h.toEpisode(&rows[0]))
}

func (h *Handler) searchEpisode(w http.ResponseWriter, r *http.Request) {
	q, err := newQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var f store.EpisodeSearch
	found := true
	if f.UUIDs, err = q.ids(); err == nil {
		f.PatientID, found, err = h.subject(r, q, "patient")
	}
	if err == nil {
		var sts []string
		if sts, err = q.or("status"); err == nil {
			for _, s := range sts {
				if !slices.Contains(episodeStatuses, s) {
					err = invalidParam("status", "must be one of %s", strings.Join(episodeStatuses, ", "))
				}
				for _, m := range store.EpisodeStatuses {
					if episodeStatus(m) == s {
						f.Statuses = append(f.Statuses, m)
					}
				}
			}
		}
	}
	var p store.Page
	if err == nil {
		p, err = q.page()
	}
	if err == nil {
		_, err = q.sortDate(false)
	}
	if err == nil {
		err = q.check("EpisodeOfCare")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Page = fetch(p)
	var rows []store.EpisodeRef
	if found {
		if rows, err = h.store.SearchEpisodes(r.Context(), orgID(r), f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	rows, more := trim(rows, p)
	matches := make([]resource, len(rows))
	for i := range rows {
		h.store.AuditRead(r.Context(), rows[i].OrgID, "episode", rows[i].UUID, rows[i].PatientID)
		matches[i] = h.toEpisode(&rows[i])
	}
	h.searchset(w, r, q, p, matches, more, nil)
}

// DocumentReference is a file in the patient's record: an instrument's PDF,
// an upload, a visit's attachment. The bytes are served as a Binary.
type DocumentReference struct {
	ResourceType string              `json:"resourceType"`
	ID           string              `json:"id"`
	Meta         *Meta               `json:"meta,omitempty"`
	Status       string              `json:"status"`
	Type         *CodeableConcept    `json:"type,omitempty"`
	Subject      *Reference          `json:"subject,omitempty"`
	Date         string              `json:"date,omitempty"`
	Description  string              `json:"description,omitempty"`
	Content      []DocumentContent   `json:"content"`
	Context      *DocumentRefContext `json:"context,omitempty"`
}

// DocumentContent is where the bytes are.
type DocumentContent struct {
	Attachment Attachment `json:"attachment"`
}

// DocumentRefContext is the visit a document belongs to.
type DocumentRefContext struct {
	Encounter []Reference `json:"encounter,omitempty"`
}

func (d *DocumentReference) fhirType() string { return "DocumentReference" }
func (d *DocumentReference) fhirID() string   { return d.ID }

func (h *Handler) toDocument(d *store.DocumentRow) *DocumentReference {
	out := &DocumentReference{ResourceType: "DocumentReference", ID: d.UUID, Meta: &Meta{LastUpdated: instant(d.CreatedAt)},
		Status: "current", Subject: &Reference{Reference: "Patient/" + d.PatientUUID}, Date: instant(d.CreatedAt),
		Description: d.Title,
		Content: []DocumentContent{{Attachment: Attachment{ContentType: d.ContentType, URL: h.url("Binary", d.UUID),
			Size: int(d.Size), Title: d.Title, Creation: instant(d.CreatedAt)}}}}
	if d.Kind == "attachment" {
		out.Type = &CodeableConcept{Text: "visit attachment"}
	} else {
		out.Type = &CodeableConcept{Text: "patient file"}
	}
	if d.Deleted {
		out.Status = "entered-in-error"
		out.Content[0].Attachment.URL = ""
	}
	if d.AppointmentUUID != "" {
		out.Context = &DocumentRefContext{Encounter: []Reference{{Reference: "Encounter/" + d.AppointmentUUID}}}
	}
	return out
}

func (h *Handler) documentByID(r *http.Request, id string) (*store.DocumentRow, error) {
	rows, err := h.store.SearchDocuments(r.Context(), orgID(r), store.DocumentSearch{UUIDs: []string{id}, Page: store.Page{Limit: 1}})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, notFound("DocumentReference", id)
	}
	return &rows[0], nil
}

func (h *Handler) readDocument(w http.ResponseWriter, r *http.Request) {
	d, err := h.documentByID(r, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), orgID(r), "document", d.UUID, d.PatientID)
	writeResource(w, http.StatusOK, h.toDocument(d))
}

func (h *Handler) searchDocument(w http.ResponseWriter, r *http.Request) {
	q, err := newQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var f store.DocumentSearch
	found := true
	if f.UUIDs, err = q.ids(); err == nil {
		f.PatientID, found, err = h.subject(r, q, "patient", "subject")
	}
	var p store.Page
	if err == nil {
		p, err = q.page()
	}
	if err == nil {
		_, err = q.sortDate(false)
	}
	if err == nil {
		err = q.check("DocumentReference")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Page = fetch(p)
	var rows []store.DocumentRow
	if found {
		if rows, err = h.store.SearchDocuments(r.Context(), orgID(r), f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	rows, more := trim(rows, p)
	matches := make([]resource, len(rows))
	for i := range rows {
		h.store.AuditRead(r.Context(), orgID(r), "document", rows[i].UUID, rows[i].PatientID)
		matches[i] = h.toDocument(&rows[i])
	}
	h.searchset(w, r, q, p, matches, more, nil)
}

// readBinary serves a document's bytes as they were stored, with their
// content type (FHIR's Binary read in the document's own format).
func (h *Handler) readBinary(w http.ResponseWriter, r *http.Request) {
	d, err := h.documentByID(r, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.Deleted) {
		err = notFound("Binary", r.PathValue("id"))
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if d.Kind == "attachment" {
		// Attachments (at most 5 MB, one row each) are streamed too.
		a, err := h.store.AttachmentMeta(r.Context(), orgID(r), d.UUID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.store.AuditRead(r.Context(), orgID(r), "document", d.UUID, d.PatientID)
		binaryHeaders(w, a.MimeType, int64(a.Size))
		if _, err := h.store.CopyAttachment(r.Context(), a, w); err != nil && r.Context().Err() == nil {
			h.log.Error("fhir: binary download", "document", d.UUID, "err", err)
			panic(http.ErrAbortHandler)
		}
		return
	}
	// Patient files (up to 20 MiB) are streamed a chunk at a time.
	f, err := h.store.PatientFileMetaByUUID(r.Context(), orgID(r), d.UUID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), orgID(r), "document", d.UUID, d.PatientID)
	binaryHeaders(w, f.ContentType, f.Size)
	if _, err := h.store.CopyPatientFile(r.Context(), f, w); err != nil && r.Context().Err() == nil {
		// Part of the file is sent: cut the connection so the client sees
		// a short body rather than a complete-looking one.
		h.log.Error("fhir: binary download", "document", d.UUID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func binaryHeaders(w http.ResponseWriter, contentType string, size int64) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", "attachment")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
}

// DiagnosticReport is what one instrument message brought for a patient:
// its results, with the device that measured them.
type DiagnosticReport struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Meta         *Meta             `json:"meta,omitempty"`
	Status       string            `json:"status"`
	Category     []CodeableConcept `json:"category,omitempty"`
	Code         CodeableConcept   `json:"code"`
	Subject      *Reference        `json:"subject,omitempty"`
	Effective    string            `json:"effectiveDateTime,omitempty"`
	Issued       string            `json:"issued,omitempty"`
	Performer    []Reference       `json:"performer,omitempty"`
	Result       []Reference       `json:"result,omitempty"`
}

func (d *DiagnosticReport) fhirType() string { return "DiagnosticReport" }
func (d *DiagnosticReport) fhirID() string   { return d.ID }

// reportID is a report's FHIR id: the instrument message it came from.
func reportID(messageID int64) string { return "msg-" + strconv.FormatInt(messageID, 10) }

func parseReportID(id string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "msg-"), 10, 64)
	return n, err == nil && strings.HasPrefix(id, "msg-") && n > 0
}

func (h *Handler) toReport(r *http.Request, rep *store.ResultReport) (*DiagnosticReport, error) {
	obs, err := h.store.SearchObservations(r.Context(), orgID(r), store.ObservationSearch{Messages: []int64{rep.MessageID},
		PatientID: rep.PatientID, Page: store.Page{Limit: 1000}})
	if err != nil {
		return nil, err
	}
	out := &DiagnosticReport{ResourceType: "DiagnosticReport", ID: reportID(rep.MessageID), Meta: &Meta{LastUpdated: instant(rep.ReceivedAt)},
		Status: "final", Category: []CodeableConcept{{Coding: []Coding{{System: "http://terminology.hl7.org/CodeSystem/v2-0074", Code: "LAB"}}}},
		Code:    CodeableConcept{Text: "Results from " + rep.DeviceName},
		Subject: &Reference{Reference: "Patient/" + rep.PatientUUID}, Issued: instant(rep.ReceivedAt)}
	var effective time.Time
	statuses := map[string]bool{}
	for _, o := range obs {
		out.Result = append(out.Result, Reference{Reference: "Observation/" + o.UUID})
		statuses[statusToFHIR(o.Status)] = true
		if !o.MeasuredAt.IsZero() && (effective.IsZero() || o.MeasuredAt.Before(effective)) {
			effective = o.MeasuredAt
		}
	}
	out.Effective = instant(effective)
	switch {
	case statuses["preliminary"] || statuses["registered"]:
		out.Status = "partial"
	case statuses["corrected"] || statuses["amended"]:
		out.Status = "corrected"
	case len(statuses) == 1 && statuses["unknown"]:
		out.Status = "unknown"
	}
	return out, nil
}

func (h *Handler) readReport(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	mid, ok := parseReportID(id)
	var rows []store.ResultReport
	var err error
	if ok {
		rows, err = h.store.SearchResultReports(r.Context(), orgID(r), store.ResultReportSearch{MessageIDs: []int64{mid}, Page: store.Page{Limit: 1}})
	}
	if err == nil && len(rows) == 0 {
		err = notFound("DiagnosticReport", id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rep, err := h.toReport(r, &rows[0])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), orgID(r), "diagnostic-report", id, rows[0].PatientID)
	writeResource(w, http.StatusOK, rep)
}

func (h *Handler) searchReport(w http.ResponseWriter, r *http.Request) {
	q, err := newQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var f store.ResultReportSearch
	found := true
	var ids []string
	if ids, err = q.ids(); err == nil {
		for _, id := range ids {
			if n, ok := parseReportID(id); ok {
				f.MessageIDs = append(f.MessageIDs, n)
			}
		}
		if len(ids) > 0 && len(f.MessageIDs) == 0 {
			found = false
		}
		var ok bool
		f.PatientID, ok, err = h.subject(r, q, "patient", "subject")
		found = found && ok
	}
	if err == nil {
		f.Received, err = q.dates("issued")
	}
	var p store.Page
	if err == nil {
		f.SortDate, err = q.sortDate(true)
	}
	if err == nil {
		p, err = q.page()
	}
	if err == nil {
		err = q.check("DiagnosticReport")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Page = fetch(p)
	var rows []store.ResultReport
	if found {
		if rows, err = h.store.SearchResultReports(r.Context(), orgID(r), f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	rows, more := trim(rows, p)
	matches := make([]resource, len(rows))
	for i := range rows {
		rep, err := h.toReport(r, &rows[i])
		if err != nil {
			h.fail(w, r, err)
			return
		}
		h.store.AuditRead(r.Context(), orgID(r), "diagnostic-report", rep.ID, rows[i].PatientID)
		matches[i] = rep
	}
	h.searchset(w, r, q, p, matches, more, nil)
}

// QuestionnaireResponse is a visit note (the answers to a note template's
// questions for one visit) or a questionnaire the patient filled in that a
// client added to the record (telehealth documents: a name and question /
// answer pairs, with no visit).
type QuestionnaireResponse struct {
	ResourceType  string     `json:"resourceType"`
	ID            string     `json:"id"`
	Meta          *Meta      `json:"meta,omitempty"`
	Questionnaire string     `json:"questionnaire,omitempty"`
	Status        string     `json:"status"`
	Subject       *Reference `json:"subject,omitempty"`
	Encounter     *Reference `json:"encounter,omitempty"`
	Authored      string     `json:"authored,omitempty"`
	Author        *Reference `json:"author,omitempty"`
	Item          []QRItem   `json:"item,omitempty"`
}

// QRItem is a section or a question with its answers.
type QRItem struct {
	LinkID string     `json:"linkId"`
	Text   string     `json:"text,omitempty"`
	Answer []QRAnswer `json:"answer,omitempty"`
	Item   []QRItem   `json:"item,omitempty"`
}

// QRAnswer is one answer value, as text.
type QRAnswer struct {
	ValueString string `json:"valueString"`
}

func (q *QuestionnaireResponse) fhirType() string { return "QuestionnaireResponse" }
func (q *QuestionnaireResponse) fhirID() string   { return q.ID }

func (h *Handler) toQuestionnaireResponse(n *store.NoteRef) *QuestionnaireResponse {
	out := &QuestionnaireResponse{ResourceType: "QuestionnaireResponse", ID: n.UUID, Meta: &Meta{LastUpdated: instant(n.UpdatedAt)},
		Questionnaire: "urn:clinicbox:visit-note-template:" + n.TemplateUUID + "|" + strconv.Itoa(n.Version),
		Status:        "in-progress", Subject: &Reference{Reference: "Patient/" + n.PatientUUID},
		Encounter: &Reference{Reference: "Encounter/" + n.AppointmentUUID}, Authored: instant(n.UpdatedAt)}
	if n.Status == "signed" {
		out.Status = "completed"
		out.Authored = instant(n.SignedAt)
		if n.Signer != "" {
			out.Author = &Reference{Display: n.Signer}
		}
	}
	for si, sec := range n.Flow.Sections {
		section := QRItem{LinkID: "section-" + strconv.Itoa(si+1), Text: sec.Title}
		for _, qu := range sec.Questions {
			a, ok := n.Answers[qu.ID]
			if !ok {
				continue
			}
			item := QRItem{LinkID: qu.ID, Text: qu.Text}
			for _, v := range a.Value {
				if v != "" {
					item.Answer = append(item.Answer, QRAnswer{ValueString: v})
				}
			}
			if len(item.Answer) > 0 {
				section.Item = append(section.Item, item)
			}
		}
		if len(section.Item) > 0 {
			out.Item = append(out.Item, section)
		}
	}
	return out
}

// documentToQuestionnaireResponse maps a patient's questionnaire: one group
// item named as the document, with a question item per response in the
// order sent (linkId its position); an empty answer is left out (FHIR has
// no empty strings). It is completed: a client adds it once filled in.
func documentToQuestionnaireResponse(d *store.PatientDocument, patientUUID string) *QuestionnaireResponse {
	out := &QuestionnaireResponse{ResourceType: "QuestionnaireResponse", ID: d.UUID, Meta: &Meta{LastUpdated: instant(d.CreatedAt)},
		Status: "completed", Subject: &Reference{Reference: "Patient/" + patientUUID}, Authored: instant(d.DateTime)}
	group := QRItem{LinkID: "document", Text: d.Name}
	for i, resp := range d.Responses {
		item := QRItem{LinkID: "document." + strconv.Itoa(i+1), Text: resp.Question}
		if resp.Response != "" {
			item.Answer = []QRAnswer{{ValueString: resp.Response}}
		}
		group.Item = append(group.Item, item)
	}
	if len(group.Item) > 0 {
		out.Item = []QRItem{group}
	}
	return out
}

// questionnaireResource maps a visit note or a patient questionnaire and
// audits the read.
func (h *Handler) questionnaireResource(r *http.Request, q *store.Questionnaire) resource {
	if q.Document != nil {
		h.store.AuditRead(r.Context(), orgID(r), "document", q.Document.UUID, q.Document.PatientID)
		return documentToQuestionnaireResponse(q.Document, q.PatientUUID)
	}
	h.store.AuditRead(r.Context(), orgID(r), "visit-note", q.Note.UUID, q.Note.PatientID)
	return h.toQuestionnaireResponse(q.Note)
}

func (h *Handler) readQuestionnaireResponse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rows, err := h.store.SearchQuestionnaires(r.Context(), orgID(r), store.QuestionnaireSearch{UUIDs: []string{id}, Page: store.Page{Limit: 1}})
	if err == nil && len(rows) == 0 {
		err = notFound("QuestionnaireResponse", id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, h.questionnaireResource(r, &rows[0]))
}

func (h *Handler) searchQuestionnaireResponse(w http.ResponseWriter, r *http.Request) {
	q, err := newQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var f store.QuestionnaireSearch
	found := true
	if f.UUIDs, err = q.ids(); err == nil {
		f.PatientID, found, err = h.subject(r, q, "patient", "subject")
	}
	if err == nil {
		var encs []string
		if encs, err = q.references("encounter", "Encounter"); err == nil && len(encs) > 0 {
			if len(encs) > 1 {
				err = invalidParam("encounter", "name one encounter")
			} else if a, aerr := h.store.AppointmentBy(r.Context(), orgID(r), store.ApptByUUID, encs[0]); aerr == nil {
				f.AppointmentID = a.ID
			} else if errors.Is(aerr, store.ErrNotFound) {
				found = false
			} else {
				err = aerr
			}
		}
	}
	var p store.Page
	if err == nil {
		p, err = q.page()
	}
	if err == nil {
		_, err = q.sortDate(false)
	}
	if err == nil {
		err = q.check("QuestionnaireResponse")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Page = fetch(p)
	var rows []store.Questionnaire
	if found {
		if rows, err = h.store.SearchQuestionnaires(r.Context(), orgID(r), f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	rows, more := trim(rows, p)
	matches := make([]resource, len(rows))
	for i := range rows {
		matches[i] = h.questionnaireResource(r, &rows[i])
	}
	h.searchset(w, r, q, p, matches, more, nil)
}
