package station

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/auth"
	"github.com/clinicbox/clinicbox/web/httpx"
	"github.com/clinicbox/clinicbox/web/i18n"
	"github.com/clinicbox/clinicbox/web/ui/layout"
)

// ObsRow is an observation with the names a list shows next to it.
type ObsRow struct {
	store.Observation
	DeviceName  string
	PatientName string
}

// LiveProps is the part of the station page that live updates replace.
type LiveProps struct {
	Station   string
	Readings  []ObsRow
	Unmatched []ObsRow
	Assignees []layout.Option // whom an unmatched result can be assigned to
	Updated   time.Time
}

// StationProps is the station page.
type StationProps struct {
	Page          layout.PageProps
	Station       string
	Devices       []store.Device
	Selected      *store.Patient
	SelectedUntil time.Time
	WalkIn        *store.Encounter // the selected patient's open walk-in at this station
	Query         string
	Results       []store.Patient
	Today         []store.AppointmentRow
	Samples       []store.SampleOrder
	SampleErrors  layout.Errors
	Live          LiveProps
}

// StationsProps lists the stations.
type StationsProps struct {
	Page     layout.PageProps
	Stations []StationSummary
}

// StationSummary is one station and its devices.
type StationSummary struct {
	Name    string
	Devices []store.Device
}

// fail answers an error that is not a validation error (layout.Fail).
func (h *handlers) fail(w http.ResponseWriter, r *http.Request, err error) {
	layout.Fail(w, r, h.log, auth.UserFrom(r.Context()), err)
}

func (h *handlers) pageProps(w http.ResponseWriter, r *http.Request, title, active string) layout.PageProps {
	return layout.PageProps{Title: title, User: auth.UserFrom(r.Context()), Active: active, Flash: layout.TakeFlash(w, r)}
}

func orgOf(r *http.Request) int64 { return auth.UserFrom(r.Context()).OrgID }

// stations lists the device groups.
func (h *handlers) stations(w http.ResponseWriter, r *http.Request) {
	devs, err := h.st.Devices(r.Context(), orgOf(r), store.DeviceFilter{})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var list []StationSummary
	index := map[string]int{}
	for _, d := range devs {
		name := d.Station
		if name == "" {
			continue
		}
		i, ok := index[name]
		if !ok {
			i = len(list)
			index[name] = i
			list = append(list, StationSummary{Name: name})
		}
		list[i].Devices = append(list[i].Devices, d)
	}
	layout.Render(w, r, http.StatusOK, StationsPage(StationsProps{Page: h.pageProps(w, r, i18n.T(r.Context(), "StnTitle"), layout.NavStations), Stations: list}))
}

// stationDevices returns the station's devices; ErrNotFound when it has none.
func (h *handlers) stationDevices(r *http.Request, name string) ([]store.Device, error) {
	devs, err := h.st.Devices(r.Context(), orgOf(r), store.DeviceFilter{Station: name})
	if err != nil {
		return nil, err
	}
	if len(devs) == 0 {
		return nil, fmt.Errorf("station %q: %w", name, store.ErrNotFound)
	}
	return devs, nil
}

// station shows a station: its current patient, the readings arriving and
// the unmatched queue. With ?fragment=1 only the live part is returned.
func (h *handlers) station(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("station")
	ctx := r.Context()
	org := orgOf(r)
	devs, err := h.stationDevices(r, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := StationProps{Station: name, Devices: devs, Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	if sel, err := h.st.StationSelection(ctx, org, name); err == nil {
		if pat, err := h.st.Patient(ctx, org, sel.PatientID); err == nil {
			p.Selected, p.SelectedUntil = pat, sel.ExpiresAt
			walkIns, err := h.st.Encounters(ctx, org, store.EncounterFilter{PatientID: pat.ID, Station: name, Open: true,
				From: h.st.Now().Add(-store.StationSelectionTTL)})
			if err != nil {
				h.fail(w, r, err)
				return
			}
			if n := len(walkIns); n > 0 {
				p.WalkIn = &walkIns[n-1]
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		h.fail(w, r, err)
		return
	}
	y, m, d := h.st.Now().Local().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.Local)
	p.Today, _, err = h.st.Appointments(ctx, org, store.AppointmentFilter{From: day, To: day.Add(24 * time.Hour), Limit: 200,
		Statuses: openStatuses()})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Live, err = h.liveProps(r, name, devs, p.Selected, p.Today)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if httpx.IsFragment(r) {
		layout.Render(w, r, http.StatusOK, LivePart(p.Live))
		return
	}
	if p.Query != "" {
		p.Results, _, err = h.st.Patients(ctx, org, store.PatientFilter{Query: p.Query, Limit: 10})
		if err != nil {
			h.fail(w, r, err)
			return
		}
	}
	p.Samples, err = h.st.SampleOrders(ctx, org, name, 10)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p.Page = h.pageProps(w, r, i18n.T(r.Context(), "StnStation", "Name", name), layout.NavStations)
	p.Page.Scripts = []string{"/assets/station.js"}
	layout.Render(w, r, http.StatusOK, StationPage(p))
}

func openStatuses() []string {
	var out []string
	for _, s := range store.AppointmentStatuses {
		if s != store.StatusCancelled && s != store.StatusNoShow {
			out = append(out, s)
		}
	}
	return out
}

// liveProps gathers the newest readings and the unmatched queue of the
// station's devices.
func (h *handlers) liveProps(r *http.Request, name string, devs []store.Device, selected *store.Patient, today []store.AppointmentRow) (LiveProps, error) {
	ctx := r.Context()
	org := orgOf(r)
	lp := LiveProps{Station: name, Updated: h.st.Now()}
	names := map[int64]string{}
	patients := map[int64]string{}
	noQC := false
	for _, d := range devs {
		names[d.ID] = d.Name
		obs, err := h.st.Observations(ctx, org, store.ObservationFilter{DeviceID: d.ID, Limit: 50})
		if err != nil {
			return lp, err
		}
		for _, o := range obs {
			lp.Readings = append(lp.Readings, ObsRow{Observation: o})
		}
		un, err := h.st.Observations(ctx, org, store.ObservationFilter{DeviceID: d.ID, Unmatched: true, QC: &noQC, Limit: 200})
		if err != nil {
			return lp, err
		}
		for _, o := range un {
			lp.Unmatched = append(lp.Unmatched, ObsRow{Observation: o})
		}
	}
	newest := func(rows []ObsRow) {
		sort.SliceStable(rows, func(i, j int) bool {
			if !rows[i].CreatedAt.Equal(rows[j].CreatedAt) {
				return rows[i].CreatedAt.After(rows[j].CreatedAt)
			}
			return rows[i].ID > rows[j].ID
		})
	}
	newest(lp.Readings)
	newest(lp.Unmatched)
	if len(lp.Readings) > 50 {
		lp.Readings = lp.Readings[:50]
	}
	for _, rows := range [][]ObsRow{lp.Readings, lp.Unmatched} {
		for i := range rows {
			o := &rows[i]
			o.DeviceName = names[o.DeviceID]
			switch {
			case o.QC:
				o.PatientName = "control (QC)"
			case o.PatientID == 0:
				o.PatientName = "unmatched"
			default:
				n, ok := patients[o.PatientID]
				if !ok {
					if p, err := h.st.Patient(ctx, org, o.PatientID); err == nil {
						n = p.DisplayName()
					}
					patients[o.PatientID] = n
				}
				o.PatientName = n
			}
		}
	}
	seen := map[int64]bool{}
	if selected != nil {
		lp.Assignees = append(lp.Assignees, layout.Option{Value: fmt.Sprint(selected.ID), Label: i18n.T(ctx, "StnCurrentOf", "Name", selected.DisplayName())})
		seen[selected.ID] = true
	}
	for _, a := range today {
		if !seen[a.PatientID] {
			seen[a.PatientID] = true
			lp.Assignees = append(lp.Assignees, layout.Option{Value: fmt.Sprint(a.PatientID),
				Label: a.PatientName + " (" + i18n.Time(ctx, a.Start.Local()) + ")"})
		}
	}
	return lp, nil
}

// stationEvents streams the events that change a station page: readings
// of its devices, assignments and selections.
func (h *handlers) stationEvents(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("station")
	devs, err := h.stationDevices(r, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if h.live == nil {
		http.Error(w, i18n.T(r.Context(), "PlainLiveOff"), http.StatusServiceUnavailable)
		return
	}
	ids := map[int64]bool{}
	for _, d := range devs {
		ids[d.ID] = true
	}
	h.live.Stream(w, r, orgOf(r), func(e store.Event) bool { return keepEvent(e, name, ids) })
}

// keepEvent reports whether an event concerns the station.
func keepEvent(e store.Event, station string, devices map[int64]bool) bool {
	switch e.Type {
	case store.EventObservationCreated:
		var p struct {
			DeviceID int64 `json:"deviceId"`
		}
		return jsonField(e.Payload, &p) && devices[p.DeviceID]
	case store.EventObservationAssigned:
		return true
	case store.EventStationSelected:
		var p struct {
			Station string `json:"station"`
		}
		return jsonField(e.Payload, &p) && p.Station == station
	}
	return false
}

// selectPatient makes a patient current at the station (patient_id 0 or
// empty clears).
func (h *handlers) selectPatient(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("station")
	if _, err := h.stationDevices(r, name); err != nil {
		h.fail(w, r, err)
		return
	}
	id, _ := strconv.ParseInt(r.PostFormValue("patient_id"), 10, 64)
	err := h.st.SelectStationPatient(r.Context(), orgOf(r), name, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "StnNoSuchPatient"))
	case err != nil:
		h.fail(w, r, err)
		return
	case id == 0:
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "StnCleared"))
	default:
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "StnSelected"))
	}
	http.Redirect(w, r, stationURL(name), http.StatusSeeOther)
}

// assign puts chosen unmatched results on a patient.
func (h *handlers) assign(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("station")
	if _, err := h.stationDevices(r, name); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		layout.BadForm(w, r, err)
		return
	}
	pid, _ := strconv.ParseInt(r.PostFormValue("patient_id"), 10, 64)
	var ids []int64
	for _, v := range r.PostForm["obs"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	n, err := h.st.AssignObservations(r.Context(), orgOf(r), pid, ids)
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "StnChooseBoth", "Detail", layout.LocalMessage(r.Context(), ve)))
	case errors.Is(err, store.ErrNotFound):
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "StnNoSuchPatient"))
	case errors.Is(err, store.ErrConflict):
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "StnAlreadyAssigned"))
	case err != nil:
		h.fail(w, r, err)
		return
	default:
		layout.SetFlash(w, layout.FlashOK, i18n.N(r.Context(), "StnAssigned", n))
	}
	http.Redirect(w, r, stationURL(name), http.StatusSeeOther)
}

// walkIn opens a walk-in encounter at the station for a patient without an
// appointment: the selected or found patient (patient_id), or one
// registered by MRN and name. The patient becomes the station's current
// patient, so the readings that follow go to the walk-in.
func (h *handlers) walkIn(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("station")
	if _, err := h.stationDevices(r, name); err != nil {
		h.fail(w, r, err)
		return
	}
	in := store.StationWalkIn{Station: name, MRN: r.PostFormValue("mrn"), FirstName: r.PostFormValue("first_name"),
		LastName: r.PostFormValue("last_name"), BirthDate: r.PostFormValue("birth_date")}
	if v := r.PostFormValue("patient_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "StnNoSuchPatient"))
			http.Redirect(w, r, stationURL(name), http.StatusSeeOther)
			return
		}
		in.PatientID = id
	}
	enc, created, err := h.st.OpenStationWalkIn(r.Context(), orgOf(r), in)
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "StnWalkInRefused", "Detail", layout.Errors(ve.Fields).String()))
	case errors.Is(err, store.ErrNotFound):
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "StnNoSuchPatient"))
	case err != nil:
		h.fail(w, r, err)
		return
	case created:
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "StnWalkInOpened", "Time", i18n.Time(r.Context(), enc.Start.Local())))
	default:
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "StnWalkInReopened", "Time", i18n.Time(r.Context(), enc.Start.Local())))
	}
	http.Redirect(w, r, stationURL(name), http.StatusSeeOther)
}

// labelSample records a sample id (and tests) for the current patient, so
// the analyser's results and host queries for that sample find them.
func (h *handlers) labelSample(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("station")
	if _, err := h.stationDevices(r, name); err != nil {
		h.fail(w, r, err)
		return
	}
	sel, err := h.st.StationSelection(r.Context(), orgOf(r), name)
	if err != nil {
		layout.SetFlash(w, layout.FlashError, i18n.T(r.Context(), "StnSelectFirst"))
		http.Redirect(w, r, stationURL(name), http.StatusSeeOther)
		return
	}
	o := &store.SampleOrder{SampleID: r.PostFormValue("sample_id"), PatientID: sel.PatientID, Station: name,
		Tests: strings.Fields(r.PostFormValue("tests")), Priority: r.PostFormValue("priority")}
	err = h.st.CreateSampleOrder(r.Context(), orgOf(r), o)
	var ve *store.ValidationError
	var ce *store.ConflictError
	switch {
	case errors.As(err, &ve):
		layout.SetFlash(w, layout.FlashError, layout.LocalMessage(r.Context(), ve))
	case errors.As(err, &ce):
		layout.SetFlash(w, layout.FlashError, layout.LocalMessage(r.Context(), ce))
	case err != nil:
		h.fail(w, r, err)
		return
	default:
		layout.SetFlash(w, layout.FlashOK, i18n.T(r.Context(), "StnSampleLabelled", "ID", o.SampleID))
	}
	http.Redirect(w, r, stationURL(name), http.StatusSeeOther)
}

func stationURL(name string) string { return "/stations/" + url.PathEscape(name) }

func jsonField(payload []byte, dst any) bool { return json.Unmarshal(payload, dst) == nil }
