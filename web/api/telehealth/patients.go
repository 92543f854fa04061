package telehealth

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// patientBase is the demographics every patient shape shares.
type patientBase struct {
	MRN               string             `json:"mrn"`
	AccountNumber     string             `json:"accountNumber"`
	Name              []nameJSON         `json:"name"`
	BirthDate         string             `json:"birthDate"`
	Gender            string             `json:"gender"`
	MaritalStatus     string             `json:"maritalStatus"`
	Telecom           []contactPointJSON `json:"telecom"`
	Contact           []contactJSON      `json:"contact"`
	PreferredLanguage string             `json:"preferredLanguage"`
	Race              string             `json:"race"`
	Ethnicity         string             `json:"ethnicity"`
	Address           []addressJSON      `json:"address"`
	Active            bool               `json:"active"`
	Deceased          bool               `json:"deceased"`
	DeceasedAt        *string            `json:"deceasedAt"` // null unless deceased
	FamilyMember      bool               `json:"familyMember"`
	IsLinkedByEmail   bool               `json:"isLinkedByEmail"`
}

type emailGroup struct {
	Type string `json:"type" bound:"namePart"`
	Name string `json:"name" bound:"namePart"`
}

// patientJSON is the shape of GET /patients/{patient_id} and of an
// appointment's patient demographics.
type patientJSON struct {
	patientBase
	SharedEmailGroup *emailGroup `json:"sharedEmailGroup"`
}

// patientSPIDJSON is the shape of GET /patients/id/type/SPID/value/{spid}:
// the email group as two flat fields.
type patientSPIDJSON struct {
	patientBase
	GroupType *string `json:"groupType"`
	GroupName *string `json:"groupName"`
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toPatientBase(p *store.Patient) patientBase {
	return patientBase{
		MRN: p.MRN, AccountNumber: p.AccountNumber, Name: toNames(p.Names), BirthDate: p.BirthDate, Gender: p.Gender,
		MaritalStatus: p.MaritalStatus, Telecom: toContactPoints(p.Telecom), Contact: toContacts(p.Contacts),
		PreferredLanguage: p.PreferredLanguage, Race: p.Race, Ethnicity: p.Ethnicity, Address: toAddresses(p.Addresses),
		Active: p.Active, Deceased: p.Deceased, DeceasedAt: strOrNil(p.DeceasedAt),
		FamilyMember: p.FamilyMember, IsLinkedByEmail: p.LinkedByEmail,
	}
}

func toPatientJSON(p *store.Patient) patientJSON {
	out := patientJSON{patientBase: toPatientBase(p)}
	if p.LinkedByEmail || p.EmailGroupType != "" || p.EmailGroupName != "" {
		out.SharedEmailGroup = &emailGroup{Type: p.EmailGroupType, Name: p.EmailGroupName}
	}
	return out
}

func toPatientSPIDJSON(p *store.Patient) patientSPIDJSON {
	return patientSPIDJSON{patientBase: toPatientBase(p), GroupType: strOrNil(p.EmailGroupType), GroupName: strOrNil(p.EmailGroupName)}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// patientInput is a patient body. Pointers tell which fields the client
// sent: on PUT only those change.
type patientInput struct {
	ID                *string             `json:"id" bound:"id"`
	MRN               *string             `json:"mrn" bound:"patientIdentifier"`
	AccountNumber     *string             `json:"accountNumber" bound:"patientIdentifier"`
	Name              *[]nameJSON         `json:"name"`
	BirthDate         *string             `json:"birthDate" format:"date"`
	Gender            *string             `json:"gender" enum:"gender"`
	MaritalStatus     *string             `json:"maritalStatus" bound:"namePart"`
	Telecom           *[]contactPointJSON `json:"telecom"`
	Contact           *[]contactJSON      `json:"contact"`
	PreferredLanguage *string             `json:"preferredLanguage" bound:"namePart"`
	Race              *string             `json:"race" bound:"namePart"`
	Ethnicity         *string             `json:"ethnicity" bound:"namePart"`
	Address           *[]addressJSON      `json:"address"`
	Active            *bool               `json:"active"`
	Deceased          *bool               `json:"deceased"`
	DeceasedAt        *string             `json:"deceasedAt"`
	FamilyMember      *bool               `json:"familyMember"`
	IsLinkedByEmail   *bool               `json:"isLinkedByEmail"`
	SharedEmailGroup  *emailGroup         `json:"sharedEmailGroup"`
	GroupType         *string             `json:"groupType"`
	GroupName         *string             `json:"groupName"`
}

// apply copies the fields the client sent onto p, enforcing the spec's
// deceased rules on the request itself: deceasedAt is required when
// deceased is true, and refused when deceased is false or not sent.
func (in *patientInput) apply(p *store.Patient) error {
	var v store.Validator
	deceasedTrue := in.Deceased != nil && *in.Deceased
	if in.DeceasedAt != nil && *in.DeceasedAt != "" && !deceasedTrue {
		v.Add("deceasedAt", "must not be set unless deceased is true")
	}
	if deceasedTrue && (in.DeceasedAt == nil || *in.DeceasedAt == "") {
		v.Add("deceasedAt", "is required when deceased is true")
	}
	if err := v.Err(); err != nil {
		return err
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&p.MRN, in.MRN)
	set(&p.AccountNumber, in.AccountNumber)
	set(&p.BirthDate, in.BirthDate)
	set(&p.Gender, in.Gender)
	set(&p.MaritalStatus, in.MaritalStatus)
	set(&p.PreferredLanguage, in.PreferredLanguage)
	set(&p.Race, in.Race)
	set(&p.Ethnicity, in.Ethnicity)
	if in.Name != nil {
		p.Names = fromNames(*in.Name)
	}
	if in.Telecom != nil {
		p.Telecom = fromContactPoints(*in.Telecom)
	}
	if in.Contact != nil {
		p.Contacts = fromContacts(*in.Contact)
	}
	if in.Address != nil {
		p.Addresses = fromAddresses(*in.Address)
	}
	if in.Active != nil {
		p.Active = *in.Active
	}
	if in.Deceased != nil {
		p.Deceased = *in.Deceased
		p.DeceasedAt = ""
		if p.Deceased {
			p.DeceasedAt = *in.DeceasedAt
		}
	}
	if in.FamilyMember != nil {
		p.FamilyMember = *in.FamilyMember
	}
	if in.SharedEmailGroup != nil {
		p.EmailGroupType, p.EmailGroupName = in.SharedEmailGroup.Type, in.SharedEmailGroup.Name
	} else {
		set(&p.EmailGroupType, in.GroupType)
		set(&p.EmailGroupName, in.GroupName)
	}
	if in.IsLinkedByEmail != nil {
		p.LinkedByEmail = *in.IsLinkedByEmail
		if !p.LinkedByEmail {
			p.EmailGroupType, p.EmailGroupName = "", ""
		}
	}
	return nil
}

// createPatient: POST /qapi/v1/patients. Answers 201 with the new SPID as
// the bare JSON body (12345); a duplicate id is a 409.
func (h *Handler) createPatient(w http.ResponseWriter, r *http.Request) {
	var in patientInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID == nil || *in.ID == "" {
		h.fail(w, r, store.Invalid("id", "is required"))
		return
	}
	p := &store.Patient{ExternalID: *in.ID, Active: true}
	if err := in.apply(p); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.CreatePatient(r.Context(), orgID(r), p); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/qapi/v1/patients/id/type/SPID/value/"+strconv.FormatInt(p.ID, 10))
	httpx.JSON(w, http.StatusCreated, p.ID)
}

// patientFromPath finds the patient named by the {patient_id} (the client's
// id) or {solo_patient_id} (SPID) path segment; anything else is a 404.
func (h *Handler) patientFromPath(r *http.Request) (*store.Patient, error) {
	key, value, err := patientKeyFromPath(r)
	if err != nil {
		return nil, err
	}
	p, err := h.store.PatientBy(r.Context(), orgID(r), key, value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Patient")
	}
	return p, err
}

// patientKeyFromPath tells how the path names the patient: the client's
// id, the SPID or the HSID.
func patientKeyFromPath(r *http.Request) (store.PatientKey, string, error) {
	if spid := r.PathValue("solo_patient_id"); spid != "" {
		if _, err := strconv.ParseInt(spid, 10, 64); err != nil {
			return "", "", notFound("Patient")
		}
		return store.ByID, spid, nil
	}
	if hsid := r.PathValue("hsid"); hsid != "" {
		return store.ByHSID, hsid, nil
	}
	return store.ByExternalID, r.PathValue("patient_id"), nil
}

// getPatient: GET /qapi/v1/patients/{patient_id}.
func (h *Handler) getPatient(w http.ResponseWriter, r *http.Request) {
	h.servePatient(w, r, "patient", func(p *store.Patient) any { return toPatientJSON(p) })
}

// getPatientBySPID: GET /qapi/v1/patients/id/type/SPID/value/{solo_patient_id}.
func (h *Handler) getPatientBySPID(w http.ResponseWriter, r *http.Request) {
	h.servePatient(w, r, "patient-spid", func(p *store.Patient) any { return toPatientSPIDJSON(p) })
}

// servePatient answers a patient read from the cache of encoded answers
// (view names the shape) and audits it like any other read.
func (h *Handler) servePatient(w http.ResponseWriter, r *http.Request, view string, shape func(*store.Patient) any) {
	key, value, err := patientKeyFromPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	org := orgID(r)
	ans, err := h.cachedPatient(r, view, org, key, value, shape)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Patient")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), org, "patient", strconv.FormatInt(ans.id, 10), ans.id)
	httpx.WriteJSON(w, http.StatusOK, ans.body)
}

// patientAnswer is an encoded patient answer and whose it is.
type patientAnswer struct {
	id   int64
	body []byte
}

// cachedPatient is the encoded answer for the patient found by key and
// value. Only unique keys are cached (the SPID, the client's id): a lookup
// by HSID picks the oldest of several matches, and a write to another
// patient could change which one that is.
func (h *Handler) cachedPatient(r *http.Request, view string, org int64, key store.PatientKey, value string,
	shape func(*store.Patient) any) (*patientAnswer, error) {
	fill := func() (any, int, []string, error) {
		p, err := h.store.PatientBy(r.Context(), org, key, value)
		if err != nil {
			return nil, 0, nil, err
		}
		body, err := httpx.Marshal(shape(p))
		if err != nil {
			return nil, 0, nil, err
		}
		return &patientAnswer{p.ID, body}, len(body), []string{patientTag(p.ID)}, nil
	}
	if h.cache == nil || (key != store.ByID && key != store.ByExternalID) {
		v, _, _, err := fill()
		if err != nil {
			return nil, err
		}
		return v.(*patientAnswer), nil
	}
	v, err := h.cache.Get(view+"\x00"+strconv.FormatInt(org, 10)+"\x00"+string(key)+"\x00"+value, fill)
	if err != nil {
		return nil, err
	}
	return v.(*patientAnswer), nil
}

func patientTag(id int64) string { return "patient:" + strconv.FormatInt(id, 10) }

// invalidate drops the cached answers of the patients that the outbox
// says changed (created, updated, deactivated: the events of every write
// of a patient row), and the revoked API keys.
func (h *Handler) invalidate(evs []store.Event) {
	var tags []string
	for _, e := range evs {
		switch {
		case e.SubjectType == "patient" && strings.HasPrefix(e.Type, "patient:"):
			tags = append(tags, patientTag(e.SubjectID))
		case e.Type == store.EventCredentialRevoked && e.SubjectType == store.CredentialAPIKey:
			tags = append(tags, apiKeyTag(e.SubjectID))
		}
	}
	h.cache.Invalidate(tags...)
}

// updatePatient: PUT /qapi/v1/patients/{patient_id}. Only the fields sent
// change; answers 200 with [] as the spec shows.
func (h *Handler) updatePatient(w http.ResponseWriter, r *http.Request) {
	h.putPatient(w, r, store.ByExternalID, r.PathValue("patient_id"))
}

// updatePatientBySPID: PUT /qapi/v1/patients/id/type/SPID/value/{solo_patient_id}.
func (h *Handler) updatePatientBySPID(w http.ResponseWriter, r *http.Request) {
	spid := r.PathValue("solo_patient_id")
	if _, err := strconv.ParseInt(spid, 10, 64); err != nil {
		h.fail(w, r, notFound("Patient"))
		return
	}
	h.putPatient(w, r, store.ByID, spid)
}

func (h *Handler) putPatient(w http.ResponseWriter, r *http.Request, key store.PatientKey, value string) {
	var in patientInput
	if err := httpx.DecodeJSON(w, r, &in, 0); err != nil {
		h.fail(w, r, err)
		return
	}
	_, err := h.store.UpdatePatient(r.Context(), orgID(r), key, value, func(p *store.Patient) error {
		if in.ID != nil && *in.ID != "" {
			p.ExternalID = *in.ID
		}
		return in.apply(p)
	})
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Patient")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.JSON(w, http.StatusOK, []any{})
}
