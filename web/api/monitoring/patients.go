package monitoring

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// wirePatient is a patient as this API shows it.
type wirePatient struct {
	ID        string `json:"id"`
	MRN       string `json:"mrn"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	BirthDate string `json:"birthDate"`
	Gender    string `json:"gender"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Active    bool   `json:"active"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func toWirePatient(p *store.Patient) wirePatient {
	return wirePatient{
		ID: prefixPatient + p.UUID, MRN: p.MRN, FirstName: p.FirstName(), LastName: p.LastName(),
		BirthDate: p.BirthDate, Gender: p.Gender, Email: p.Email(), Phone: p.Phone(), Active: p.Active,
		CreatedAt: rfc3339(p.CreatedAt), UpdatedAt: rfc3339(p.UpdatedAt),
	}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// patientInput is the body of create and update; a field left out (nil)
// keeps its value on update.
type patientInput struct {
	MRN       *string `json:"mrn" bound:"patientIdentifier"`
	FirstName *string `json:"firstName" bound:"namePart"`
	LastName  *string `json:"lastName" bound:"namePart"`
	BirthDate *string `json:"birthDate" format:"date"`
	Gender    *string `json:"gender"`
	Email     *string `json:"email" bound:"label" format:"email"`
	Phone     *string `json:"phone" bound:"code"`
	Active    *bool   `json:"active"`
}

// apply copies the fields sent onto p, checking lengths and text.
func (in *patientInput) apply(p *store.Patient) error {
	var v store.Validator
	text := func(field string, src *string, max int) (string, bool) {
		if src == nil {
			return "", false
		}
		s := strings.TrimSpace(*src)
		v.Check(utf8.RuneCountInString(s) <= max && !hasControl(s), field, "must be at most "+strconv.Itoa(max)+" characters of text")
		return s, true
	}
	if len(p.Names) == 0 {
		p.Names = []store.HumanName{{Use: "official"}}
	}
	if s, ok := text("firstName", in.FirstName, store.MaxNamePart); ok {
		p.Names[0].FirstName = s
	}
	if s, ok := text("lastName", in.LastName, store.MaxNamePart); ok {
		p.Names[0].LastName, p.Names[0].Family = s, s
	}
	if s, ok := text("mrn", in.MRN, store.MaxPatientIdentifier); ok {
		p.MRN = s
	}
	if s, ok := text("birthDate", in.BirthDate, 10); ok {
		p.BirthDate = s
	}
	if s, ok := text("gender", in.Gender, 20); ok {
		p.Gender = strings.ToLower(s)
	}
	if s, ok := text("email", in.Email, store.MaxLabel); ok {
		p.Telecom = setContact(p.Telecom, "email", s)
	}
	if s, ok := text("phone", in.Phone, store.MaxCode); ok {
		p.Telecom = setContact(p.Telecom, "phone", s)
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	if p.FirstName() == "" && p.LastName() == "" {
		v.Add("lastName", "or firstName is required")
	}
	return v.Err()
}

func setContact(tc []store.ContactPoint, system, value string) []store.ContactPoint {
	for i := range tc {
		if tc[i].System == system {
			if value == "" {
				return append(tc[:i], tc[i+1:]...)
			}
			tc[i].Value = value
			return tc
		}
	}
	if value == "" {
		return tc
	}
	return append(tc, store.ContactPoint{System: system, Value: value})
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			return true
		}
	}
	return false
}

type listResponse[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

type idCursor struct {
	After int64 `json:"a"`
}

// limitParam reads ?limit= (1..max, default def).
func limitParam(r *http.Request, def, max int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, badRequest("limit must be a whole number from 1 to %d", max)
	}
	return n, nil
}

// listPatients: GET /api/patients?search=&active=&program=&limit=&cursor=.
func (h *Handler) listPatients(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.PatientPageFilter{Query: q.Get("search")}
	var err error
	if f.Limit, err = limitParam(r, 50, 200); err != nil {
		h.fail(w, r, err)
		return
	}
	if len(f.Query) > 200 || hasControl(f.Query) {
		h.fail(w, r, badRequest("search must be at most 200 characters of text"))
		return
	}
	if s := q.Get("active"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			h.fail(w, r, badRequest("active must be true or false"))
			return
		}
		f.Active = &b
	}
	if f.Program = q.Get("program"); f.Program != "" && f.Program != store.ProgramRPM && f.Program != store.ProgramRTM && f.Program != store.ProgramCCM {
		h.fail(w, r, badRequest("program must be RPM, RTM or CCM"))
		return
	}
	if c := q.Get("cursor"); c != "" {
		var cur idCursor
		if !decodeCursor(c, &cur) {
			h.fail(w, r, badRequest("cursor is not one this API gave out"))
			return
		}
		f.AfterID = cur.After
	}
	ps, err := h.store.PatientPage(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listResponse[wirePatient]{Data: make([]wirePatient, len(ps))}
	for i := range ps {
		out.Data[i] = toWirePatient(&ps[i])
	}
	if len(ps) == f.Limit {
		c := encodeCursor(idCursor{After: ps[len(ps)-1].ID})
		out.NextCursor = &c
	}
	httpx.JSON(w, http.StatusOK, out)
}

// createPatient: POST /api/patients.
func (h *Handler) createPatient(w http.ResponseWriter, r *http.Request) {
	var in patientInput
	if err := httpx.DecodeJSON(w, r, &in, 64<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	p := &store.Patient{Active: true}
	if err := in.apply(p); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.CreatePatient(r.Context(), orgID(r), p); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/patients/"+prefixPatient+p.UUID)
	httpx.JSON(w, http.StatusCreated, toWirePatient(p))
}

// patientUUID resolves a wire patient id of the caller's organisation.
func (h *Handler) patient(r *http.Request, wire string) (*store.Patient, error) {
	u, ok := modelID(prefixPatient, wire)
	if !ok {
		return nil, notFound("patient")
	}
	p, err := h.store.PatientBy(r.Context(), orgID(r), store.ByUUID, u)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("patient")
	}
	return p, err
}

// getPatient: GET /api/patients/{id}.
func (h *Handler) getPatient(w http.ResponseWriter, r *http.Request) {
	p, err := h.patient(r, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWirePatient(p))
}

// updatePatient: PUT /api/patients/{id}.
func (h *Handler) updatePatient(w http.ResponseWriter, r *http.Request) {
	u, ok := modelID(prefixPatient, r.PathValue("id"))
	if !ok {
		h.fail(w, r, notFound("patient"))
		return
	}
	var in patientInput
	if err := httpx.DecodeJSON(w, r, &in, 64<<10); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.store.UpdatePatient(r.Context(), orgID(r), store.ByUUID, u, in.apply)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("patient")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, toWirePatient(p))
}
