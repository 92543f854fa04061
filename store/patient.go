package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Patient is a person the clinic cares for. Patients never have accounts.
type Patient struct {
	ID                int64  // integer id; the telehealth API's SPID
	UUID              string // public id (instrument API, FHIR)
	OrgID             int64
	ExternalID        string // the integrating client's own id for the patient
	MRN               string
	HSID              string // health system (EHR) id
	NationalID        string // e.g. a Danish CPR number
	AccountNumber     string
	Names             []HumanName // the first is the one shown
	BirthDate         string      // YYYY-MM-DD
	Gender            string      // male, female, other, unknown or empty
	MaritalStatus     string
	Telecom           []ContactPoint
	Contacts          []Contact
	Addresses         []Address
	PreferredLanguage string
	Race              string
	Ethnicity         string
	Active            bool
	Deceased          bool
	DeceasedAt        string // as the client sent it
	FamilyMember      bool
	LinkedByEmail     bool
	EmailGroupType    string
	EmailGroupName    string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// HumanName is one of a patient's names.
type HumanName struct {
	Use        string
	Family     string
	FirstName  string
	MiddleName string
	LastName   string
	Alias      string
}

// ContactPoint is a phone number, email address, ...
type ContactPoint struct {
	Use    string
	System string
	Value  string
}

// Contact is a relative or other contact person.
type Contact struct {
	Telecom []ContactPoint
	Name    []HumanName
}

// Address is a postal address.
type Address struct {
	Use        string
	Line       []string
	Apartment  string
	City       string
	State      string
	PostalCode string
	Country    string
}

// Genders accepted for a patient.
var Genders = []string{"male", "female", "other", "unknown"}

// TelecomSystems are the kinds of a patient's contact point.
var TelecomSystems = []string{"phone", "email", "fax", "sms", "other"}

// FirstName is the first name of the shown name.
func (p *Patient) FirstName() string {
	if len(p.Names) == 0 {
		return ""
	}
	return p.Names[0].FirstName
}

// LastName is the last name of the shown name (or its family name).
func (p *Patient) LastName() string {
	if len(p.Names) == 0 {
		return ""
	}
	if p.Names[0].LastName != "" {
		return p.Names[0].LastName
	}
	return p.Names[0].Family
}

// MiddleName is the middle name of the shown name.
func (p *Patient) MiddleName() string {
	if len(p.Names) == 0 {
		return ""
	}
	return p.Names[0].MiddleName
}

// DisplayName is "First Last", or a placeholder when the patient has no name.
func (p *Patient) DisplayName() string {
	n := strings.TrimSpace(p.FirstName() + " " + p.LastName())
	if n == "" {
		return "(no name)"
	}
	return n
}

// Email is the first email address, if any.
func (p *Patient) Email() string { return p.telecom("email") }

// Phone is the first phone number, if any.
func (p *Patient) Phone() string { return p.telecom("phone") }

func (p *Patient) telecom(system string) string {
	for _, t := range p.Telecom {
		if t.System == system {
			return t.Value
		}
	}
	return ""
}

// deceasedLayouts are the forms accepted for deceasedAt; the value is kept
// as sent.
var deceasedLayouts = []string{time.RFC3339, "2006-01-02 03:04 PM", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02"}

// ParseDeceasedAt parses a deceasedAt value in any accepted layout.
func ParseDeceasedAt(s string) (time.Time, bool) {
	for _, l := range deceasedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Validate checks a patient's fields and normalises whitespace.
func (p *Patient) Validate() error { return p.validateAt(time.Time{}) }

// validateAt is Validate that also refuses a birth date after now's next
// day (zero now: not checked). The store checks with the write's clock.
func (p *Patient) validateAt(now time.Time) error {
	var v Validator
	for _, f := range []*string{&p.ExternalID, &p.MRN, &p.HSID, &p.NationalID, &p.AccountNumber, &p.BirthDate, &p.Gender} {
		*f = strings.TrimSpace(*f)
	}
	for i := range p.Names {
		n := &p.Names[i]
		n.FirstName, n.LastName, n.MiddleName, n.Family = strings.TrimSpace(n.FirstName), strings.TrimSpace(n.LastName), strings.TrimSpace(n.MiddleName), strings.TrimSpace(n.Family)
	}
	v.Check(len(p.ExternalID) <= MaxIDLength, "id", fmt.Sprintf("must be at most %d characters", MaxIDLength))
	v.Line("id", p.ExternalID, MaxIDLength)
	for field, val := range map[string]string{"mrn": p.MRN, "hsid": p.HSID, "nationalId": p.NationalID, "accountNumber": p.AccountNumber} {
		v.Check(len(val) <= MaxPatientIdentifier, field, fmt.Sprintf("must be at most %d characters", MaxPatientIdentifier))
		v.Line(field, val, MaxPatientIdentifier)
	}
	p.checkText(&v)
	if p.BirthDate != "" {
		d, err := time.Parse("2006-01-02", p.BirthDate)
		if err != nil {
			v.Add("birthDate", "must be a date as YYYY-MM-DD")
		} else if !now.IsZero() && d.After(now.AddDate(0, 0, 1)) {
			v.Add("birthDate", "must not be in the future")
		} else {
			v.Date("birthDate", d)
		}
	}
	if p.Gender != "" {
		ok := false
		for _, g := range Genders {
			ok = ok || p.Gender == g
		}
		v.Check(ok, "gender", "must be one of male, female, other, unknown")
	}
	if p.Deceased {
		if p.DeceasedAt == "" {
			v.Add("deceasedAt", "is required when deceased is true")
		} else if _, ok := ParseDeceasedAt(p.DeceasedAt); !ok {
			v.Add("deceasedAt", "must be a date and time such as 2020-03-31 10:12 AM")
		}
	} else if p.DeceasedAt != "" {
		v.Add("deceasedAt", "must not be set unless deceased is true")
	}
	if p.LinkedByEmail && (p.EmailGroupType == "" || p.EmailGroupName == "") {
		v.Add("sharedEmailGroup", "is required when isLinkedByEmail is true")
	}
	for i, t := range p.Telecom {
		if t.System != "" && !slices.Contains(TelecomSystems, t.System) {
			v.Add(fmt.Sprintf("telecom[%d].system", i), "must be phone, email, fax, sms or other")
		}
	}
	// A contact's telecom has the same kinds as the patient's own.
	for i, c := range p.Contacts {
		for j, t := range c.Telecom {
			if t.System != "" && !slices.Contains(TelecomSystems, t.System) {
				v.Add(fmt.Sprintf("contacts[%d].telecom[%d].system", i, j), "must be phone, email, fax, sms or other")
			}
		}
	}
	return v.Err()
}

// checkText bounds every name part and free-text field of the patient:
// one line each, no control characters, limited lengths.
func (p *Patient) checkText(v *Validator) {
	v.Check(len(p.Names) <= 20, "names", "must have at most 20 entries")
	for i, n := range p.Names {
		f := fmt.Sprintf("names[%d].", i)
		if i == 0 {
			f = "" // the first name is the one the faces show as firstName, lastName, ...
		}
		v.Line(f+"firstName", n.FirstName, MaxNamePart)
		v.Line(f+"middleName", n.MiddleName, MaxNamePart)
		v.Line(f+"lastName", n.LastName, MaxNamePart)
		v.Line(f+"family", n.Family, MaxNamePart)
		v.Line(f+"alias", n.Alias, MaxNamePart)
		v.Line(f+"use", n.Use, MaxCode)
	}
	for field, val := range map[string]string{"birthDate": p.BirthDate, "gender": p.Gender, "maritalStatus": p.MaritalStatus,
		"preferredLanguage": p.PreferredLanguage, "race": p.Race, "ethnicity": p.Ethnicity, "deceasedAt": p.DeceasedAt,
		"sharedEmailGroup.type": p.EmailGroupType, "sharedEmailGroup.name": p.EmailGroupName} {
		v.Line(field, val, MaxNamePart)
	}
	v.Check(len(p.Telecom) <= 50, "telecom", "must have at most 50 entries")
	for i, t := range p.Telecom {
		v.Line(fmt.Sprintf("telecom[%d].value", i), t.Value, MaxShortText)
		v.Line(fmt.Sprintf("telecom[%d].use", i), t.Use, MaxCode)
	}
	v.Check(len(p.Contacts) <= 20, "contacts", "must have at most 20 entries")
	for i, c := range p.Contacts {
		for j, n := range c.Name {
			f := fmt.Sprintf("contacts[%d].name[%d].", i, j)
			v.Line(f+"firstName", n.FirstName, MaxNamePart)
			v.Line(f+"lastName", n.LastName, MaxNamePart)
			v.Line(f+"middleName", n.MiddleName, MaxNamePart)
			v.Line(f+"family", n.Family, MaxNamePart)
			v.Line(f+"alias", n.Alias, MaxNamePart)
			v.Line(f+"use", n.Use, MaxCode)
		}
		for j, t := range c.Telecom {
			v.Line(fmt.Sprintf("contacts[%d].telecom[%d].value", i, j), t.Value, MaxShortText)
			v.Line(fmt.Sprintf("contacts[%d].telecom[%d].use", i, j), t.Use, MaxCode)
		}
	}
	v.Check(len(p.Addresses) <= 20, "addresses", "must have at most 20 entries")
	for i, a := range p.Addresses {
		f := fmt.Sprintf("addresses[%d].", i)
		for j, l := range a.Line {
			v.Line(fmt.Sprintf("%sline[%d]", f, j), l, MaxShortText)
		}
		for field, val := range map[string]string{"apartment": a.Apartment, "city": a.City, "state": a.State,
			"postalcode": a.PostalCode, "country": a.Country, "use": a.Use} {
			v.Line(f+field, val, MaxNamePart)
		}
	}
}

// CreatePatient validates and stores a new patient, with its event.
func (s *Store) CreatePatient(ctx context.Context, orgID int64, p *Patient) error {
	p.OrgID = orgID
	if err := p.validateAt(s.Now()); err != nil {
		return err
	}
	return s.write(ctx, func(tx *txn) error { return createPatient(tx, orgID, p) })
}

// createPatientTx is CreatePatient within a larger write.
func createPatientTx(tx *txn, orgID int64, p *Patient) error {
	p.OrgID = orgID
	if err := p.validateAt(tx.Now); err != nil {
		return err
	}
	return createPatient(tx, orgID, p)
}

// patientByTx is PatientBy within a write, seeing the write's own changes.
func patientByTx(ctx context.Context, tx *txn, orgID int64, key PatientKey, value string) (*Patient, error) {
	return patientBy(ctx, txQueryer{tx}, orgID, key, value)
}

func createPatient(tx *txn, orgID int64, p *Patient) error {
	p.OrgID = orgID
	p.UUID = NewUUID()
	p.CreatedAt, p.UpdatedAt = tx.Now, tx.Now
	cols, vals := patientValues(p)
	res, err := tx.Exec(`INSERT INTO patients (uuid, org_id, `+patientWritable+`, created_at, updated_at)
		VALUES (?, ?, `+cols+`, ?, ?)`, append(append([]any{p.UUID, orgID}, vals...), unix(tx.Now), unix(tx.Now))...)
	if isUnique(err) {
		return Conflict(fmt.Sprintf("a patient with id %q already exists", p.ExternalID))
	}
	if err != nil {
		return fmt.Errorf("create patient: %w", err)
	}
	p.ID, _ = res.LastInsertId()
	// A new patient has no terms yet: nothing to delete first.
	if err := insertPatientTerms(tx, p); err != nil {
		return err
	}
	if err := tx.Event(orgID, EventPatientCreated, "patient", p.ID, map[string]any{"patientId": p.ID}); err != nil {
		return err
	}
	return tx.Audit(orgID, "create", "patient", fmt.Sprint(p.ID), p.ID, "")
}

const patientWritable = `external_id, mrn, hsid, national_id, account_number, first_name, middle_name,
	last_name, names_json, birth_date, gender, marital_status, telecom_json, contacts_json, address_json,
	preferred_language, race, ethnicity, active, deceased, deceased_at_text, family_member,
	linked_by_email, email_group_type, email_group_name`

// patientSet is patientWritable as "col = ?, ..." for UPDATE.
var patientSet = strings.Join(strings.Fields(strings.ReplaceAll(patientWritable, ",", " = ?,")), " ") + " = ?"

func patientValues(p *Patient) (placeholders string, vals []any) {
	l := encodePatientLists(p)
	var ext any
	if p.ExternalID != "" {
		ext = p.ExternalID
	}
	vals = []any{ext, p.MRN, p.HSID, p.NationalID, p.AccountNumber, p.FirstName(), p.MiddleName(),
		p.LastName(), l.names, p.BirthDate, p.Gender, p.MaritalStatus, l.telecom, l.contacts,
		l.addrs, p.PreferredLanguage, p.Race, p.Ethnicity, boolInt(p.Active), boolInt(p.Deceased),
		p.DeceasedAt, boolInt(p.FamilyMember), boolInt(p.LinkedByEmail), p.EmailGroupType, p.EmailGroupName}
	return strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", "), vals
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// writePatientTerms replaces a patient's search terms.
func writePatientTerms(tx *txn, p *Patient) error {
	if _, err := tx.Exec(`DELETE FROM patient_terms WHERE patient_id = ?`, p.ID); err != nil {
		return fmt.Errorf("patient terms: %w", err)
	}
	return insertPatientTerms(tx, p)
}

// insertPatientTerms adds a patient's search terms in one statement.
func insertPatientTerms(tx *txn, p *Patient) error {
	terms := searchTerms(p)
	if len(terms) == 0 {
		return nil
	}
	sortName := strings.ToLower(p.LastName() + " " + p.FirstName())
	args := make([]any, 0, 4*len(terms))
	for _, t := range terms {
		args = append(args, p.OrgID, t, p.ID, sortName)
	}
	// One text per number of terms (a handful), so the statement cache
	// keeps each prepared.
	q := `INSERT OR IGNORE INTO patient_terms (org_id, term, patient_id, sort_name) VALUES (?, ?, ?, ?)` +
		strings.Repeat(`, (?, ?, ?, ?)`, len(terms)-1)
	if _, err := tx.Exec(q, args...); err != nil {
		return fmt.Errorf("patient terms: %w", err)
	}
	return nil
}

const patientCols = `id, uuid, org_id, COALESCE(external_id, ''), mrn, hsid, national_id, account_number,
	names_json, birth_date, gender, marital_status, telecom_json, contacts_json, address_json,
	preferred_language, race, ethnicity, active, deceased, deceased_at_text, family_member,
	linked_by_email, email_group_type, email_group_name, created_at, updated_at`

func scanPatient(row interface{ Scan(...any) error }) (*Patient, error) {
	var p Patient
	var names, telecom, contacts, addrs string
	var c, u int64
	err := row.Scan(&p.ID, &p.UUID, &p.OrgID, &p.ExternalID, &p.MRN, &p.HSID, &p.NationalID, &p.AccountNumber,
		&names, &p.BirthDate, &p.Gender, &p.MaritalStatus, &telecom, &contacts, &addrs,
		&p.PreferredLanguage, &p.Race, &p.Ethnicity, &p.Active, &p.Deceased, &p.DeceasedAt, &p.FamilyMember,
		&p.LinkedByEmail, &p.EmailGroupType, &p.EmailGroupName, &c, &u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := (patientLists{names, telecom, contacts, addrs}).decode(&p); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromUnix(c), fromUnix(u)
	return &p, nil
}

// PatientKey names how a patient is looked up.
type PatientKey string

// Ways to find a patient.
const (
	ByID         PatientKey = "id"          // integer id (SPID)
	ByUUID       PatientKey = "uuid"        // public uuid
	ByExternalID PatientKey = "external_id" // the client's id
	ByMRN        PatientKey = "mrn"
	ByHSID       PatientKey = "hsid"
	ByNationalID PatientKey = "national_id"
)

// PatientBy finds one patient of the organisation by a key. For keys that
// need not be unique (MRN, HSID, national id) the oldest match wins.
func (s *Store) PatientBy(ctx context.Context, orgID int64, key PatientKey, value string) (*Patient, error) {
	return patientBy(ctx, s.r, orgID, key, value)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func patientBy(ctx context.Context, q queryer, orgID int64, key PatientKey, value string) (*Patient, error) {
	col := map[PatientKey]string{ByID: "id", ByUUID: "uuid", ByExternalID: "external_id", ByMRN: "mrn", ByHSID: "hsid", ByNationalID: "national_id"}[key]
	if col == "" {
		return nil, fmt.Errorf("patient by %q: unknown key", key)
	}
	if value == "" {
		return nil, ErrNotFound
	}
	// Unique keys need no ORDER BY: with it, the bundled SQLite re-plans
	// the statement on every call (a lookup by the client's id cost 4x).
	// The other keys have partial indexes (WHERE col <> ''), which SQLite
	// can only use when the query states that condition itself: "col = ?"
	// does not imply it (? could be ''), and without it the lookup scanned
	// every patient of the organisation.
	cond := ``
	switch key {
	case ByMRN, ByHSID, ByNationalID:
		cond = ` AND ` + col + ` <> '' ORDER BY id LIMIT 1`
	}
	p, err := scanPatient(q.QueryRowContext(ctx, `SELECT `+patientCols+` FROM patients WHERE org_id = ? AND `+col+` = ?`+cond, orgID, value))
	if err != nil {
		return nil, fmt.Errorf("patient %s=%s: %w", key, value, err)
	}
	return p, nil
}

// Patient returns a patient by integer id.
func (s *Store) Patient(ctx context.Context, orgID, id int64) (*Patient, error) {
	return s.PatientBy(ctx, orgID, ByID, fmt.Sprint(id))
}

// UpdatePatient loads a patient, lets change modify it, validates and saves
// it, in one transaction. change returning an error aborts the update.
func (s *Store) UpdatePatient(ctx context.Context, orgID int64, key PatientKey, value string, change func(*Patient) error) (*Patient, error) {
	var out *Patient
	err := s.write(ctx, func(tx *txn) error {
		p, err := updatePatientTx(ctx, tx, orgID, key, value, change)
		out = p
		return err
	})
	return out, err
}

// updatePatientTx is UpdatePatient within a larger write.
func updatePatientTx(ctx context.Context, tx *txn, orgID int64, key PatientKey, value string, change func(*Patient) error) (*Patient, error) {
	p, err := patientBy(ctx, txQueryer{tx}, orgID, key, value)
	if err != nil {
		return nil, err
	}
	wasActive := p.Active
	if err := change(p); err != nil {
		return nil, err
	}
	if err := p.validateAt(tx.Now); err != nil {
		return nil, err
	}
	p.UpdatedAt = tx.Now
	_, vals := patientValues(p)
	res, err := tx.Exec(`UPDATE patients SET `+patientSet+`, updated_at = ? WHERE org_id = ? AND id = ?`,
		append(vals, unix(tx.Now), orgID, p.ID)...)
	if isUnique(err) {
		return nil, Conflict(fmt.Sprintf("a patient with id %q already exists", p.ExternalID))
	}
	if err != nil {
		return nil, fmt.Errorf("update patient: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrNotFound
	}
	if err := writePatientTerms(tx, p); err != nil {
		return nil, err
	}
	typ := EventPatientUpdated
	if wasActive && !p.Active {
		typ = EventPatientDeactivated
	}
	if err := tx.Event(orgID, typ, "patient", p.ID, map[string]any{"patientId": p.ID}); err != nil {
		return nil, err
	}
	if err := tx.Audit(orgID, "update", "patient", fmt.Sprint(p.ID), p.ID, ""); err != nil {
		return nil, err
	}
	return p, nil
}

// txQueryer lets read helpers run inside a write without the request's
// context (an interrupted statement would abort the shared transaction).
type txQueryer struct{ tx *txn }

func (q txQueryer) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return q.tx.QueryRow(query, args...)
}

// PatientFilter selects patients for a list.
type PatientFilter struct {
	Query  string // words, each matching the start of a name or an identifier
	Active *bool
	Limit  int
	Offset int
}

// Patients lists an organisation's patients by last name, with the total
// number that match.
func (s *Store) Patients(ctx context.Context, orgID int64, f PatientFilter) ([]Patient, int, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Offset < 0 {
		f.Offset = 0
	}
	words := queryWords(f.Query)
	if len(words) > 6 {
		words = words[:6]
	}
	if len(words) == 0 {
		return s.listPatients(ctx, orgID, f)
	}
	// Each word must be the prefix of one of a patient's terms. The rarest
	// word drives an index range scan; the others filter it as IN lists.
	driver, err := s.rarestWord(ctx, orgID, words)
	if err != nil {
		return nil, 0, err
	}
	q := `FROM patient_terms t WHERE t.org_id = ? AND t.term >= ? AND t.term < ?`
	args := []any{orgID, words[driver], words[driver] + "\U0010FFFF"}
	for i, w := range words {
		if i == driver {
			continue
		}
		// SQLite materialises each IN list once as an in-memory index:
		// cheaper than probing the term index once per driving row.
		q += ` AND t.patient_id IN (SELECT patient_id FROM patient_terms WHERE org_id = ? AND term >= ? AND term < ?)`
		args = append(args, orgID, w, w+"\U0010FFFF")
	}
	if f.Active != nil {
		q += ` AND EXISTS (SELECT 1 FROM patients p WHERE p.id = t.patient_id AND p.active = ?)`
		args = append(args, boolInt(*f.Active))
	}
	total := PatientSearchCap + 1
	if len(words) > 1 {
		// Count and page the matches here rather than ask SQLite twice,
		// each time rebuilding the other words' IN lists (most of a
		// two-word search's work). A few words seldom match more than
		// PatientSearchCap patients; when they do, the index orders the
		// page below.
		ms, over, err := s.searchMatches(ctx, q, args)
		if err != nil {
			return nil, 0, err
		}
		if !over {
			slices.SortFunc(ms, func(a, b termMatch) int {
				return cmp.Or(strings.Compare(a.sortName, b.sortName), cmp.Compare(a.id, b.id))
			})
			var ids []int64
			for _, m := range ms[min(f.Offset, len(ms)):min(f.Offset+f.Limit, len(ms))] {
				ids = append(ids, m.id)
			}
			out, err := s.patientsByIDs(ctx, orgID, ids)
			return out, len(ms), err
		}
	} else if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT DISTINCT t.patient_id `+q+` LIMIT ?)`,
		append(args, PatientSearchCap+1)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("patients: %w", err)
	}
	// One word has no IN lists to rebuild and often matches thousands
	// (jen, so): SQLite counts them (above) more cheaply than Go reads a
	// thousand rows, and orders the page from the index.
	ids, err := s.searchPage(ctx, q, args, f.Offset, f.Limit)
	if err != nil {
		return nil, 0, err
	}
	out, err := s.patientsByIDs(ctx, orgID, ids)
	return out, total, err
}

// termMatch is a patient a search found, with the name it sorts by.
type termMatch struct {
	id       int64
	sortName string
}

// searchMatches reads the distinct patients of a search's term rows (q:
// the FROM and WHERE of Patients), up to PatientSearchCap of them; over
// tells that there are more.
func (s *Store) searchMatches(ctx context.Context, q string, args []any) (ms []termMatch, over bool, err error) {
	rows, err := s.r.QueryContext(ctx, `SELECT t.patient_id, t.sort_name `+q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("patients: %w", err)
	}
	defer rows.Close()
	// A patient can match the driving word through several terms (Lars
	// Larsen); every row of a patient has the same sort name.
	seen := map[int64]bool{}
	for rows.Next() {
		var m termMatch
		if err := rows.Scan(&m.id, &m.sortName); err != nil {
			return nil, false, fmt.Errorf("patients: %w", err)
		}
		if seen[m.id] {
			continue
		}
		if len(ms) == PatientSearchCap {
			return ms, true, nil
		}
		seen[m.id] = true
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("patients: %w", err)
	}
	return ms, false, nil
}

// searchPage is the page of a search's patients in name order, read from
// the term rows (q as for searchMatches).
func (s *Store) searchPage(ctx context.Context, q string, args []any, offset, limit int) ([]int64, error) {
	// A patient's several matching rows are adjacent in this order and
	// skipped below.
	rows, err := s.r.QueryContext(ctx, `SELECT t.patient_id `+q+` ORDER BY t.sort_name, t.patient_id LIMIT ?`,
		append(args, (offset+limit)*maxTermsPerMatch)...)
	if err != nil {
		return nil, fmt.Errorf("patients: %w", err)
	}
	defer rows.Close()
	var ids []int64
	seen := 0
	var last int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("patients: %w", err)
		}
		if id == last {
			continue
		}
		last = id
		if seen >= offset && len(ids) < limit {
			ids = append(ids, id)
		}
		seen++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("patients: %w", err)
	}
	return ids, nil
}

// PatientSearchCap is where counting search matches stops: a search that
// finds more reports PatientSearchCap+1 ("more than 1000").
const PatientSearchCap = 1000

// maxTermsPerMatch bounds how many term rows of one patient can match one
// word (name parts and identifiers).
const maxTermsPerMatch = 8

// rarestWord returns the index of the word with the fewest matching terms.
// Counting stops at a small cap to keep the estimate cheap; among words past
// the cap the longest prefix is taken as the rarest.
func (s *Store) rarestWord(ctx context.Context, orgID int64, words []string) (int, error) {
	if len(words) == 1 {
		return 0, nil
	}
	const estimateCap = 2000
	best, bestN := 0, -1
	for i, w := range words {
		var n int
		err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM patient_terms
			WHERE org_id = ? AND term >= ? AND term < ? LIMIT ?)`, orgID, w, w+"\U0010FFFF", estimateCap).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("patients: %w", err)
		}
		switch {
		case bestN < 0 || n < bestN:
			best, bestN = i, n
		case n == bestN && n == estimateCap && len(w) > len(words[best]):
			best = i
		}
	}
	return best, nil
}

// listPatients is the unfiltered list, in the order of the name index.
func (s *Store) listPatients(ctx context.Context, orgID int64, f PatientFilter) ([]Patient, int, error) {
	where := `org_id = ?`
	args := []any{orgID}
	if f.Active != nil {
		where += ` AND active = ?`
		args = append(args, boolInt(*f.Active))
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM patients WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("patients: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+patientCols+` FROM patients WHERE `+where+`
		ORDER BY last_name COLLATE NOCASE, first_name COLLATE NOCASE, id LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("patients: %w", err)
	}
	defer rows.Close()
	var out []Patient
	for rows.Next() {
		p, err := scanPatient(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("patients: %w", err)
		}
		out = append(out, *p)
	}
	return out, total, rows.Err()
}

// patientsByIDs reads whole patients, in the order of ids.
func (s *Store) patientsByIDs(ctx context.Context, orgID int64, ids []int64) ([]Patient, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{orgID}
	for _, id := range ids {
		args = append(args, id)
	}
	// "+org_id" keeps the planner on rowid lookups instead of walking the
	// organisation's name index.
	rows, err := s.r.QueryContext(ctx, `SELECT `+patientCols+` FROM patients WHERE +org_id = ? AND id IN (?`+
		strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("patients: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]Patient, len(ids))
	for rows.Next() {
		p, err := scanPatient(rows)
		if err != nil {
			return nil, fmt.Errorf("patients: %w", err)
		}
		byID[p.ID] = *p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("patients: %w", err)
	}
	out := make([]Patient, 0, len(ids))
	for _, id := range ids {
		if p, ok := byID[id]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// prefixCols qualifies each column of a list with a table alias; a
// COALESCE(col, default) keeps its default unqualified.
func prefixCols(prefix, cols string) string {
	var parts []string
	depth, start := 0, 0
	for i, r := range cols {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, cols[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, cols[start:])
	for i, c := range parts {
		c = strings.TrimSpace(c)
		if rest, ok := strings.CutPrefix(c, "COALESCE("); ok {
			parts[i] = "COALESCE(" + prefix + rest
		} else {
			parts[i] = prefix + c
		}
	}
	return strings.Join(parts, ", ")
}
