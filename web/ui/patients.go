package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
	"github.com/clinicbox/clinicbox/web/ui/text"
)

const patientsPerPage = 25

type patientListProps struct {
	Page     layout.PageProps
	Query    string
	Patients []store.Patient
	Pager    layout.Pager
}

func (h *handlers) patients(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	list, total, err := h.st.Patients(r.Context(), user(r).OrgID, store.PatientFilter{Query: q, Limit: patientsPerPage, Offset: (page - 1) * patientsPerPage})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// A list shows names and identifiers: record who looked, and for what.
	h.st.AuditRead(r.Context(), user(r).OrgID, "patient-list", q, 0)
	p := patientListProps{Query: q, Patients: list, Pager: layout.Pager{Page: page, PerPage: patientsPerPage, Total: total,
		Href: func(n int) string {
			v := url.Values{"page": {strconv.Itoa(n)}}
			if q != "" {
				v.Set("q", q)
			}
			return "/patients?" + v.Encode()
		}}}
	p.Page = h.props(w, r, text.T(r.Context()).PatientsTitle, layout.NavPatients)
	h.render(w, r, http.StatusOK, patientsPage(p))
}

// patientForm is the patient form as typed. Field names match the store's
// validation keys, so its messages land next to the right input.
type patientForm struct {
	FirstName, MiddleName, LastName, BirthDate, Gender string
	MRN, NationalID, HSID, Phone, Email                string
	Line, City, PostalCode, Country, Language          string
	Active                                             bool
	Errors                                             layout.Errors
}

func formFromPatient(p *store.Patient) patientForm {
	f := patientForm{FirstName: p.FirstName(), MiddleName: p.MiddleName(), LastName: p.LastName(),
		BirthDate: p.BirthDate, Gender: p.Gender, MRN: p.MRN, NationalID: p.NationalID, HSID: p.HSID,
		Phone: p.Phone(), Email: p.Email(), Language: p.PreferredLanguage, Active: p.Active}
	if len(p.Addresses) > 0 {
		a := p.Addresses[0]
		f.Line, f.City, f.PostalCode, f.Country = strings.Join(a.Line, ", "), a.City, a.PostalCode, a.Country
	}
	return f
}

func readPatientForm(r *http.Request) patientForm {
	g := func(k string) string { return strings.TrimSpace(r.PostForm.Get(k)) }
	f := patientForm{FirstName: g("firstName"), MiddleName: g("middleName"), LastName: g("lastName"),
		BirthDate: g("birthDate"), Gender: g("gender"), MRN: g("mrn"), NationalID: g("nationalId"), HSID: g("hsid"),
		Phone: g("phone"), Email: g("email"), Line: g("line"), City: g("city"), PostalCode: g("postalCode"),
		Country: g("country"), Language: g("language"), Active: r.PostForm.Get("active") == "1",
		Errors: layout.Errors{}}
	if f.FirstName == "" && f.LastName == "" {
		f.Errors["lastName"] = text.T(r.Context()).NameRequired
	}
	if f.Email != "" {
		if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email {
			f.Errors["email"] = "must be an email address"
		}
	}
	return f
}

// apply copies the form onto p, keeping what the form does not show
// (other names, other telecom entries, further addresses).
func (f patientForm) apply(p *store.Patient) {
	if len(p.Names) == 0 {
		p.Names = []store.HumanName{{Use: "official"}}
	}
	n := &p.Names[0]
	n.FirstName, n.MiddleName, n.LastName = f.FirstName, f.MiddleName, f.LastName
	if n.Family != "" {
		n.Family = f.LastName
	}
	p.BirthDate, p.Gender, p.MRN, p.NationalID, p.HSID = f.BirthDate, f.Gender, f.MRN, f.NationalID, f.HSID
	p.PreferredLanguage, p.Active = f.Language, f.Active
	p.Telecom = setTelecom(p.Telecom, "phone", f.Phone)
	p.Telecom = setTelecom(p.Telecom, "email", f.Email)
	addr := store.Address{Use: "home", City: f.City, PostalCode: f.PostalCode, Country: f.Country}
	if f.Line != "" {
		addr.Line = []string{f.Line}
	}
	empty := f.Line == "" && f.City == "" && f.PostalCode == "" && f.Country == ""
	switch {
	case len(p.Addresses) > 0:
		addr.Use, addr.State, addr.Apartment = p.Addresses[0].Use, p.Addresses[0].State, p.Addresses[0].Apartment
		if len(p.Addresses[0].Line) > 1 && f.Line == strings.Join(p.Addresses[0].Line, ", ") {
			addr.Line = p.Addresses[0].Line
		}
		p.Addresses[0] = addr
	case !empty:
		p.Addresses = []store.Address{addr}
	}
}

// setTelecom sets the first entry of a system, adding or removing it.
func setTelecom(tc []store.ContactPoint, system, value string) []store.ContactPoint {
	i := slices.IndexFunc(tc, func(c store.ContactPoint) bool { return c.System == system })
	switch {
	case i >= 0 && value == "":
		return slices.Delete(tc, i, i+1)
	case i >= 0:
		tc[i].Value = value
	case value != "":
		tc = append(tc, store.ContactPoint{System: system, Value: value})
	}
	return tc
}

type patientFormProps struct {
	Page      layout.PageProps
	Form      patientForm
	EditID    int64
	Duplicate int64 // the existing patient that has the MRN or national id
}

func (h *handlers) newPatientForm(w http.ResponseWriter, r *http.Request) {
	p := patientFormProps{Form: patientForm{Active: true}}
	p.Page = h.props(w, r, text.T(r.Context()).NewPatient, layout.NavPatients)
	h.render(w, r, http.StatusOK, patientFormPage(p))
}

func (h *handlers) createPatient(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	f := readPatientForm(r)
	var err error
	if len(f.Errors) == 0 {
		pat := &store.Patient{}
		f.apply(pat)
		err = h.st.CreateUniquePatient(r.Context(), user(r).OrgID, pat)
		if err == nil {
			layout.SetFlash(w, layout.FlashOK, text.T(r.Context()).PatientCreated)
			redirect(w, r, "/patients/"+itoa(pat.ID))
			return
		}
		if !addStoreErrors(r.Context(), f.Errors, err) {
			h.fail(w, r, err)
			return
		}
	}
	p := patientFormProps{Form: f, Duplicate: duplicateID(err)}
	p.Page = h.props(w, r, text.T(r.Context()).NewPatient, layout.NavPatients)
	h.render(w, r, http.StatusUnprocessableEntity, patientFormPage(p))
}

// addStoreErrors folds a validation error, a duplicate or a conflict into
// the form's messages, each on its field; false means err is none of them.
func addStoreErrors(ctx context.Context, errs layout.Errors, err error) bool {
	if fe := layout.LocalErrors(ctx, err); fe != nil {
		for k, v := range fe {
			errs[k] = v
		}
		return true
	}
	var dup *store.DuplicatePatientError
	if errors.As(err, &dup) {
		if dup.Field == "nationalId" {
			errs["nationalId"] = i18n.T(ctx, "DuplicateNationalID")
		} else {
			errs["mrn"] = i18n.T(ctx, "DuplicateMRN")
		}
		return true
	}
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		errs["mrn"] = ce.Msg
		return true
	}
	return false
}

// duplicateID is the existing patient a duplicate error names, else 0.
func duplicateID(err error) int64 {
	var dup *store.DuplicatePatientError
	if errors.As(err, &dup) {
		return dup.ExistingID
	}
	return 0
}

func (h *handlers) editPatientForm(w http.ResponseWriter, r *http.Request) {
	orgID := user(r).OrgID
	pat, err := h.st.Patient(r.Context(), orgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.st.AuditRead(r.Context(), orgID, "patient", itoa(pat.ID), pat.ID)
	p := patientFormProps{Form: formFromPatient(pat), EditID: pat.ID}
	p.Page = h.props(w, r, text.T(r.Context()).EditPatient, layout.NavPatients)
	h.render(w, r, http.StatusOK, patientFormPage(p))
}

func (h *handlers) updatePatient(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	id := pathID(r)
	f := readPatientForm(r)
	var err error
	if len(f.Errors) == 0 {
		_, err = h.st.UpdateUniquePatient(r.Context(), user(r).OrgID, id, func(p *store.Patient) error {
			f.apply(p)
			return nil
		})
		if err == nil {
			layout.SetFlash(w, layout.FlashOK, text.T(r.Context()).PatientSaved)
			redirect(w, r, "/patients/"+itoa(id))
			return
		}
		if errors.Is(err, store.ErrNotFound) || !addStoreErrors(r.Context(), f.Errors, err) {
			h.fail(w, r, err)
			return
		}
	}
	p := patientFormProps{Form: f, EditID: id, Duplicate: duplicateID(err)}
	p.Page = h.props(w, r, text.T(r.Context()).EditPatient, layout.NavPatients)
	h.render(w, r, http.StatusUnprocessableEntity, patientFormPage(p))
}

// obsSource is the observations of one day from one device or source.
type obsSource struct {
	Name string
	Obs  []store.Observation
}

type obsDay struct {
	Day     string
	Sources []obsSource
}

type patientProps struct {
	Page     layout.PageProps
	Patient  *store.Patient
	Upcoming []store.AppointmentRow
	Past     []store.AppointmentRow
	Days     []obsDay
	Files    []store.PatientFile
	Loc      *time.Location
	Now      time.Time
}

func (h *handlers) patient(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	orgID := user(r).OrgID
	pat, err := h.st.Patient(ctx, orgID, pathID(r))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.st.AuditRead(ctx, orgID, "patient", itoa(pat.ID), pat.ID)
	appts, _, err := h.st.Appointments(ctx, orgID, store.AppointmentFilter{PatientID: pat.ID, Limit: 500})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rooms, err := h.st.WaitingRooms(ctx, orgID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	obs, err := h.st.Observations(ctx, orgID, store.ObservationFilter{PatientID: pat.ID, Limit: 1000})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	devices, err := h.st.Devices(ctx, orgID, store.DeviceFilter{IncludeRemoved: true})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	deviceNames := map[int64]string{}
	for _, d := range devices {
		deviceNames[d.ID] = d.Name
	}
	files, err := h.st.PatientFiles(ctx, orgID, pat.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := patientProps{Patient: pat, Files: files, Loc: clinicLocation(rooms), Now: h.st.Now()}
	now := h.st.Now()
	for _, a := range appts {
		if a.Start.Before(now) {
			p.Past = append(p.Past, a)
		} else {
			p.Upcoming = append(p.Upcoming, a)
		}
	}
	slices.Reverse(p.Past) // newest first
	p.Days = groupObservations(ctx, obs, deviceNames, p.Loc)
	p.Page = h.props(w, r, pat.DisplayName(), layout.NavPatients)
	h.render(w, r, http.StatusOK, patientPage(p))
}

// obsTime is when an observation was measured, or else received.
func obsTime(o *store.Observation) time.Time {
	if !o.MeasuredAt.IsZero() {
		return o.MeasuredAt
	}
	return o.CreatedAt
}

// groupObservations groups newest-first observations by day and then by
// device (or source), keeping their order within a group.
func groupObservations(ctx context.Context, obs []store.Observation, deviceNames map[int64]string, loc *time.Location) []obsDay {
	var days []obsDay
	for _, o := range obs {
		day := obsTime(&o).In(loc).Format("2006-01-02")
		if len(days) == 0 || days[len(days)-1].Day != day {
			days = append(days, obsDay{Day: day})
		}
		d := &days[len(days)-1]
		name := sourceName(ctx, &o, deviceNames)
		i := slices.IndexFunc(d.Sources, func(s obsSource) bool { return s.Name == name })
		if i < 0 {
			d.Sources = append(d.Sources, obsSource{Name: name})
			i = len(d.Sources) - 1
		}
		d.Sources[i].Obs = append(d.Sources[i].Obs, o)
	}
	for i := range days {
		slices.SortStableFunc(days[i].Sources, func(a, b obsSource) int { return cmp.Compare(a.Name, b.Name) })
	}
	return days
}

func sourceName(ctx context.Context, o *store.Observation, deviceNames map[int64]string) string {
	if n := deviceNames[o.DeviceID]; n != "" {
		return n
	}
	if o.Instrument != "" {
		return o.Instrument
	}
	if o.DeviceID != 0 {
		return text.T(ctx).Device + " " + itoa(o.DeviceID)
	}
	if store.IsHomeReading(o.Source) {
		// HomeReading.device, .manual, .patient-reported
		id := "HomeReading." + strings.TrimPrefix(o.Source, "monitoring:")
		return i18n.T(ctx, id)
	}
	return o.Source
}

// fileSize is a byte count as people read it.
func fileSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
