package fhir

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/httpx"
)

// Identifier systems of a patient. The Danish CPR number has its national
// OID; the others are the appliance's own, one per identifier the model
// keeps (an organisation's MRNs are only ever read with its token).
const (
	SystemCPR        = "urn:oid:1.2.208.176.1.2"
	SystemMRN        = "urn:clinicbox:mrn"
	SystemHSID       = "urn:clinicbox:hsid"
	SystemExternalID = "urn:clinicbox:external-id"
	SystemAccount    = "urn:clinicbox:account-number"
	SystemSPID       = "urn:clinicbox:spid"
	systemV2ID       = "http://terminology.hl7.org/CodeSystem/v2-0203"
)

// patientIdentifiers maps identifier systems to the model's lookup keys.
var patientIdentifiers = []struct {
	system string
	key    store.PatientKey
	typ    string // v2-0203 identifier type
}{
	{SystemCPR, store.ByNationalID, "NI"},
	{SystemMRN, store.ByMRN, "MR"},
	{SystemHSID, store.ByHSID, "PI"},
	{SystemExternalID, store.ByExternalID, ""},
	{SystemAccount, "account_number", "AN"},
	{SystemSPID, store.ByID, ""},
}

// Patient is the FHIR Patient resource.
type Patient struct {
	ResourceType     string            `json:"resourceType"`
	ID               string            `json:"id,omitempty"`
	Meta             *Meta             `json:"meta,omitempty"`
	Identifier       []Identifier      `json:"identifier,omitempty"`
	Active           *bool             `json:"active,omitempty"`
	Name             []HumanName       `json:"name,omitempty"`
	Telecom          []ContactPoint    `json:"telecom,omitempty"`
	Gender           string            `json:"gender,omitempty"`
	BirthDate        string            `json:"birthDate,omitempty"`
	DeceasedBoolean  *bool             `json:"deceasedBoolean,omitempty"`
	DeceasedDateTime string            `json:"deceasedDateTime,omitempty"`
	Address          []Address         `json:"address,omitempty"`
	MaritalStatus    *CodeableConcept  `json:"maritalStatus,omitempty"`
	Contact          []PatientContact  `json:"contact,omitempty"`
	Communication    []PatientLanguage `json:"communication,omitempty"`
	ManagingOrg      *Reference        `json:"managingOrganization,omitempty"`
	Extension        []Extension       `json:"extension,omitempty"`
}

// PatientContact is a relative or other contact person.
type PatientContact struct {
	Name    *HumanName     `json:"name,omitempty"`
	Telecom []ContactPoint `json:"telecom,omitempty"`
}

// PatientLanguage is a language the patient speaks.
type PatientLanguage struct {
	Language  CodeableConcept `json:"language"`
	Preferred bool            `json:"preferred,omitempty"`
}

func (p *Patient) fhirType() string { return "Patient" }
func (p *Patient) fhirID() string   { return p.ID }

var (
	nameUses    = []string{"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"}
	telecomUses = []string{"home", "work", "temp", "old", "mobile"}
	addressUses = []string{"home", "work", "temp", "old", "billing"}
	bcp47RE     = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
)

func validUse(use string, uses []string) string {
	if slices.Contains(uses, use) {
		return use
	}
	return ""
}

func toHumanName(n store.HumanName) (HumanName, bool) {
	h := HumanName{Use: validUse(n.Use, nameUses), Family: n.LastName}
	if h.Family == "" {
		h.Family = n.Family
	}
	for _, g := range []string{n.FirstName, n.MiddleName} {
		if g != "" {
			h.Given = append(h.Given, g)
		}
	}
	return h, h.Family != "" || len(h.Given) > 0
}

func toTelecom(ts []store.ContactPoint) []ContactPoint {
	var out []ContactPoint
	for _, t := range ts {
		if t.Value == "" {
			continue
		}
		out = append(out, ContactPoint{System: t.System, Value: t.Value, Use: validUse(t.Use, telecomUses)})
	}
	return out
}

// toPatient maps the model's patient to FHIR.
func (h *Handler) toPatient(p *store.Patient) *Patient {
	out := &Patient{ResourceType: "Patient", ID: p.UUID, Meta: &Meta{LastUpdated: instant(p.UpdatedAt)},
		Gender: p.Gender, BirthDate: p.BirthDate}
	active := p.Active
	out.Active = &active
	for _, id := range patientIdentifiers {
		v := patientIdentifier(p, id.key)
		if v == "" {
			continue
		}
		ident := Identifier{System: id.system, Value: v}
		if id.typ != "" {
			ident.Type = &CodeableConcept{Coding: []Coding{{System: systemV2ID, Code: id.typ}}}
		}
		if id.key == store.ByNationalID || id.key == store.ByMRN {
			ident.Use = "official"
		}
		out.Identifier = append(out.Identifier, ident)
	}
	for _, n := range p.Names {
		if hn, ok := toHumanName(n); ok {
			out.Name = append(out.Name, hn)
		}
		if n.Alias != "" {
			out.Name = append(out.Name, HumanName{Use: "nickname", Text: n.Alias})
		}
	}
	out.Telecom = toTelecom(p.Telecom)
	if p.Deceased {
		if t, ok := store.ParseDeceasedAt(p.DeceasedAt); ok {
			out.DeceasedDateTime = instant(t)
		} else {
			yes := true
			out.DeceasedBoolean = &yes
		}
	}
	for _, a := range p.Addresses {
		fa := Address{Use: validUse(a.Use, addressUses), City: a.City, State: a.State, PostalCode: a.PostalCode, Country: a.Country}
		for _, l := range a.Line {
			if l != "" {
				fa.Line = append(fa.Line, l)
			}
		}
		if a.Apartment != "" {
			fa.Line = append(fa.Line, a.Apartment)
		}
		if len(fa.Line) > 0 || fa.City != "" || fa.PostalCode != "" || fa.Country != "" || fa.State != "" {
			out.Address = append(out.Address, fa)
		}
	}
	if p.MaritalStatus != "" {
		out.MaritalStatus = &CodeableConcept{Text: p.MaritalStatus}
	}
	for _, c := range p.Contacts {
		pc := PatientContact{Telecom: toTelecom(c.Telecom)}
		if len(c.Name) > 0 {
			if hn, ok := toHumanName(c.Name[0]); ok {
				pc.Name = &hn
			}
		}
		if pc.Name != nil || len(pc.Telecom) > 0 {
			out.Contact = append(out.Contact, pc)
		}
	}
	if l := p.PreferredLanguage; l != "" {
		lang := CodeableConcept{Text: l}
		if bcp47RE.MatchString(l) {
			lang.Coding = []Coding{{System: "urn:ietf:bcp:47", Code: l}}
		}
		out.Communication = []PatientLanguage{{Language: lang, Preferred: true}}
	}
	return out
}

func patientIdentifier(p *store.Patient, key store.PatientKey) string {
	switch key {
	case store.ByNationalID:
		return p.NationalID
	case store.ByMRN:
		return p.MRN
	case store.ByHSID:
		return p.HSID
	case store.ByExternalID:
		return p.ExternalID
	case "account_number":
		return p.AccountNumber
	case store.ByID:
		return strconv.FormatInt(p.ID, 10)
	}
	return ""
}

// patientByID finds a patient by its FHIR id (the model's uuid).
func (h *Handler) patientByID(r *http.Request, id string) (*store.Patient, error) {
	p, err := h.store.PatientBy(r.Context(), orgID(r), store.ByUUID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Patient", id)
	}
	return p, err
}

// encodePatient is a read's answer about p.
func (h *Handler) encodePatient(p *store.Patient) ([]byte, error) {
	bp := getBuf()
	defer putBuf(bp)
	b, err := appendResource(*bp, h.toPatient(p))
	*bp = b
	if err != nil {
		return nil, err
	}
	// Cached: exactly its size, with the newline every answer ends with.
	out := make([]byte, len(b)+1)
	copy(out, b)
	out[len(b)] = '\n'
	return out, nil
}

func (h *Handler) readPatient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	org := orgID(r)
	// The encoded answer is cached until the outbox reports a change of the
	// patient. Its absolute URLs do not depend on the request.
	ans, err := h.cachedPatient(r, "fhir", org, id, h.encodePatient)
	var body []byte
	var pid int64
	if err == nil {
		body, pid = ans.body, ans.id
	}
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("Patient", id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.store.AuditRead(r.Context(), org, "patient", strconv.FormatInt(pid, 10), pid)
	w.Header()["Content-Type"] = []string{contentType}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func (h *Handler) searchPatient(w http.ResponseWriter, r *http.Request) {
	q, err := newQuery(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var f store.PatientSearch
	if f.UUIDs, err = q.ids(); err != nil {
		h.fail(w, r, err)
		return
	}
	idents, err := q.or("identifier")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, v := range idents {
		t := parseToken(v)
		ref := store.IdentifierRef{Value: t.Code}
		if t.HasSystem && t.System != "" {
			known := false
			for _, id := range patientIdentifiers {
				if id.system == t.System {
					ref.Key, known = id.key, true
				}
			}
			if !known {
				h.fail(w, r, invalidParam("identifier", "system %q is not one this server keeps (%s)", t.System, identifierSystems()))
				return
			}
		}
		f.Identifiers = append(f.Identifiers, ref)
	}
	if names := q.all("name"); len(names) > 0 {
		f.Name = strings.Join(names, " ")
	}
	if f.BirthDate, err = q.dates("birthdate"); err != nil {
		h.fail(w, r, err)
		return
	}
	genders, err := q.or("gender")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, g := range genders {
		if !slices.Contains(store.Genders, g) {
			h.fail(w, r, invalidParam("gender", "must be male, female, other or unknown"))
			return
		}
	}
	f.Gender = genders
	if vs, err := q.or("active"); err != nil {
		h.fail(w, r, err)
		return
	} else if len(vs) == 1 && (vs[0] == "true" || vs[0] == "false") {
		b := vs[0] == "true"
		f.Active = &b
	} else if len(vs) > 0 {
		h.fail(w, r, invalidParam("active", "must be true or false"))
		return
	}
	if _, err := q.sortDate(false); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := q.page()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f.Page = fetch(p)
	if err := q.check("Patient"); err != nil {
		h.fail(w, r, err)
		return
	}
	rows, err := h.store.SearchPatients(r.Context(), orgID(r), f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rows, more := trim(rows, p)
	matches := make([]resource, len(rows))
	for i := range rows {
		h.store.AuditRead(r.Context(), rows[i].OrgID, "patient", strconv.FormatInt(rows[i].ID, 10), rows[i].ID)
		matches[i] = h.toPatient(&rows[i])
	}
	h.searchset(w, r, q, p, matches, more, nil)
}

func identifierSystems() string {
	var s []string
	for _, id := range patientIdentifiers {
		s = append(s, id.system)
	}
	return strings.Join(s, ", ")
}

// applyPatient sets the model's fields that FHIR carries from a Patient
// resource; the fields FHIR does not carry (race, email group, ...) are
// left as they were.
func applyPatient(in *Patient, p *store.Patient) error {
	var v store.Validator
	p.NationalID, p.MRN, p.HSID, p.ExternalID, p.AccountNumber = "", "", "", "", ""
	for i, id := range in.Identifier {
		found := false
		for _, known := range patientIdentifiers {
			if id.System != known.system {
				continue
			}
			found = true
			switch known.key {
			case store.ByNationalID:
				p.NationalID = id.Value
			case store.ByMRN:
				p.MRN = id.Value
			case store.ByHSID:
				p.HSID = id.Value
			case store.ByExternalID:
				p.ExternalID = id.Value
			case "account_number":
				p.AccountNumber = id.Value
			case store.ByID:
				// The SPID is the server's: it cannot be set.
				if id.Value != "" && p.ID != 0 && id.Value != strconv.FormatInt(p.ID, 10) {
					v.Add("identifier["+strconv.Itoa(i)+"]", "the SPID is assigned by the server and cannot change")
				}
			}
		}
		if !found {
			v.Add("identifier["+strconv.Itoa(i)+"].system", "must be one of "+identifierSystems())
		}
	}
	p.Names = nil
	for _, n := range in.Name {
		hn := store.HumanName{Use: n.Use, LastName: n.Family}
		if len(n.Given) > 0 {
			hn.FirstName = n.Given[0]
		}
		if len(n.Given) > 1 {
			hn.MiddleName = strings.Join(n.Given[1:], " ")
		}
		if n.Family == "" && len(n.Given) == 0 && n.Text != "" {
			hn.Alias = n.Text
		}
		p.Names = append(p.Names, hn)
	}
	p.Telecom = nil
	for _, t := range in.Telecom {
		p.Telecom = append(p.Telecom, store.ContactPoint{System: t.System, Value: t.Value, Use: t.Use})
	}
	p.Gender, p.BirthDate = in.Gender, in.BirthDate
	p.Active = in.Active == nil || *in.Active
	p.Deceased, p.DeceasedAt = false, ""
	if in.DeceasedDateTime != "" {
		p.Deceased, p.DeceasedAt = true, in.DeceasedDateTime
	} else if in.DeceasedBoolean != nil && *in.DeceasedBoolean {
		v.Add("deceasedBoolean", "give deceasedDateTime: the model keeps when the patient died")
	}
	p.Addresses = nil
	for _, a := range in.Address {
		p.Addresses = append(p.Addresses, store.Address{Use: a.Use, Line: a.Line, City: a.City, State: a.State, PostalCode: a.PostalCode, Country: a.Country})
	}
	p.MaritalStatus = ""
	if in.MaritalStatus != nil {
		p.MaritalStatus = in.MaritalStatus.Text
		if p.MaritalStatus == "" && len(in.MaritalStatus.Coding) > 0 {
			p.MaritalStatus = in.MaritalStatus.Coding[0].Code
		}
	}
	p.PreferredLanguage = ""
	for _, c := range in.Communication {
		l := c.Language.Text
		if len(c.Language.Coding) > 0 && c.Language.Coding[0].Code != "" {
			l = c.Language.Coding[0].Code
		}
		if p.PreferredLanguage == "" || c.Preferred {
			p.PreferredLanguage = l
		}
	}
	p.Contacts = nil
	for _, c := range in.Contact {
		sc := store.Contact{}
		if c.Name != nil {
			hn := store.HumanName{Use: c.Name.Use, LastName: c.Name.Family}
			if len(c.Name.Given) > 0 {
				hn.FirstName = c.Name.Given[0]
			}
			sc.Name = []store.HumanName{hn}
		}
		for _, t := range c.Telecom {
			sc.Telecom = append(sc.Telecom, store.ContactPoint{System: t.System, Value: t.Value, Use: t.Use})
		}
		p.Contacts = append(p.Contacts, sc)
	}
	return v.Err()
}

// decodePatient reads a Patient resource from the body.
func decodePatient(w http.ResponseWriter, r *http.Request) (*Patient, error) {
	var in Patient
	if err := decodeResource(w, r, &in, "Patient"); err != nil {
		return nil, err
	}
	return &in, nil
}

func (h *Handler) createPatient(w http.ResponseWriter, r *http.Request) {
	in, err := decodePatient(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID != "" {
		h.fail(w, r, errorf(http.StatusBadRequest, "invalid", "a created resource gets its id from the server: leave id out (or PUT to update)"))
		return
	}
	var p store.Patient
	if err := applyPatient(in, &p); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.store.CreatePatient(r.Context(), orgID(r), &p); err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", h.url("Patient", p.UUID))
	writeResource(w, http.StatusCreated, h.toPatient(&p))
}

func (h *Handler) updatePatient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	in, err := decodePatient(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if in.ID != id {
		h.fail(w, r, errorf(http.StatusBadRequest, "invalid", "the resource's id (%q) must be the id in the URL (%q)", in.ID, id))
		return
	}
	p, err := h.store.UpdatePatient(r.Context(), orgID(r), store.ByUUID, id, func(p *store.Patient) error {
		return applyPatient(in, p)
	})
	if errors.Is(err, store.ErrNotFound) {
		// Update-as-create with a client-chosen id is not supported: the
		// server assigns ids.
		err = errorf(http.StatusNotFound, "not-found", "Patient/%s is not known (create with POST; the server assigns ids)", id)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeResource(w, http.StatusOK, h.toPatient(p))
}

// decodeResource reads a FHIR JSON resource of type typ from the body.
func decodeResource(w http.ResponseWriter, r *http.Request, dst any, typ string) error {
	ct := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0])
	if ct != "application/fhir+json" && ct != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "not-supported", "send the resource as application/fhir+json")
	}
	if err := httpx.DecodeJSON(w, r, dst, 0); err != nil {
		return err
	}
	var rt string
	switch v := dst.(type) {
	case *Patient:
		rt = v.ResourceType
	case *Observation:
		rt = v.ResourceType
	case *Appointment:
		rt = v.ResourceType
	}
	if rt != typ {
		return errorf(http.StatusBadRequest, "invalid", "resourceType must be %s", typ)
	}
	return nil
}

// orgID is the organisation of the request's token.
func orgID(r *http.Request) int64 { return store.ActorFrom(r.Context()).OrgID }
