package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

var resultsCmd = subcommand("results", map[string]func(context.Context, env, []string) error{"list": resultsList})

// resultJSON is one line of `results list --json`: a stored observation or
// QC result, verbatim.
type resultJSON struct {
	ID             string  `json:"id"`
	Device         *string `json:"device"`  // null for results posted through the API
	Patient        *string `json:"patient"` // the patient's uuid; null when unmatched (and for QC)
	PatientName    *string `json:"patientName"`
	Source         string  `json:"source"`
	CodeSystem     string  `json:"codeSystem"`
	Code           string  `json:"code"`
	Display        string  `json:"display"`
	Value          string  `json:"value"`
	Unit           string  `json:"unit"`
	ReferenceRange string  `json:"referenceRange"`
	Flags          string  `json:"flags"`
	Status         string  `json:"status"`
	MeasuredAt     string  `json:"measuredAt"`    // as the instrument sent it
	MeasuredAtUTC  *string `json:"measuredAtUTC"` // parsed, RFC 3339; null when it could not be
	QC             bool    `json:"qc"`
	MessageID      *int64  `json:"messageId"`
	CreatedAt      string  `json:"createdAt"`
}

// resultsList prints stored observations and QC results, newest first:
// one JSON object per line with --json, else a table.
func resultsList(ctx context.Context, e env, args []string) error {
	fs := newOrgFlagSet("results list", e)
	device := fs.FlagSet.String("device", "", "only this device's results (its name)")
	patient := fs.FlagSet.String("patient", "", "only this patient's results (id, uuid or MRN)")
	since := fs.FlagSet.String("since", "", "only results stored since T: RFC 3339, YYYY-MM-DD, or a duration such as 2h")
	limit := fs.FlagSet.Int("limit", 1000, "at most this many (up to 5000)")
	asJSON := fs.FlagSet.Bool("json", false, "print one JSON object per line")
	st, o, err := fs.openOrg(ctx, args, 0)
	if err != nil {
		return err
	}
	defer st.Close()
	f := store.ObservationFilter{Limit: *limit}
	if *device != "" {
		d, err := st.DeviceByName(ctx, o.ID, *device)
		if err != nil {
			return userError(err)
		}
		f.DeviceID = d.ID
	}
	if *patient != "" {
		p, err := findPatient(ctx, st, o.ID, *patient)
		if err != nil {
			return err
		}
		f.PatientID = p.ID
	}
	if *since != "" {
		t, err := parseSince(*since, st.Now())
		if err != nil {
			return err
		}
		f.Since = t
	}
	obs, err := st.Observations(ctx, o.ID, f)
	if err != nil {
		return err
	}
	devs, err := st.Devices(ctx, o.ID, store.DeviceFilter{IncludeRemoved: true})
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, d := range devs {
		names[d.ID] = d.Name
	}
	patients := map[int64]*store.Patient{}
	if !*asJSON {
		t := newTable(e.stdout, "MEASURED", "DEVICE", "PATIENT", "CODE", "VALUE", "UNIT", "RANGE", "FLAGS", "QC")
		for _, ob := range obs {
			pname := "(unmatched)"
			if ob.QC {
				pname = "(control)"
			} else if p := lookupPatient(ctx, st, o.ID, ob.PatientID, patients); p != nil {
				pname = p.DisplayName()
			}
			t.row(ob.MeasuredAtText, names[ob.DeviceID], pname, ob.Code, ob.Value, ob.Unit, ob.ReferenceRange, ob.Flags, ob.QC)
		}
		return t.flush()
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	for _, ob := range obs {
		r := resultJSON{ID: ob.UUID, Source: ob.Source, CodeSystem: ob.CodeSystem, Code: ob.Code, Display: ob.Display,
			Value: ob.Value, Unit: ob.Unit, ReferenceRange: ob.ReferenceRange, Flags: ob.Flags, Status: ob.Status,
			MeasuredAt: ob.MeasuredAtText, QC: ob.QC, CreatedAt: ob.CreatedAt.Format(time.RFC3339)}
		if n, ok := names[ob.DeviceID]; ok {
			r.Device = &n
		}
		if p := lookupPatient(ctx, st, o.ID, ob.PatientID, patients); p != nil {
			uuid, name := p.UUID, p.DisplayName()
			r.Patient, r.PatientName = &uuid, &name
		}
		if !ob.MeasuredAt.IsZero() {
			s := ob.MeasuredAt.UTC().Format(time.RFC3339)
			r.MeasuredAtUTC = &s
		}
		if ob.MessageID > 0 {
			id := ob.MessageID
			r.MessageID = &id
		}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func lookupPatient(ctx context.Context, st *store.Store, orgID, id int64, cache map[int64]*store.Patient) *store.Patient {
	if id == 0 {
		return nil
	}
	if p, ok := cache[id]; ok {
		return p
	}
	p, err := st.Patient(ctx, orgID, id)
	if err != nil {
		p = nil
	}
	cache[id] = p
	return p
}

// findPatient resolves a patient given as integer id, uuid or MRN.
func findPatient(ctx context.Context, st *store.Store, orgID int64, v string) (*store.Patient, error) {
	keys := []store.PatientKey{store.ByUUID, store.ByMRN, store.ByExternalID, store.ByNationalID}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		keys = append([]store.PatientKey{store.ByID}, keys...)
	}
	for _, k := range keys {
		p, err := st.PatientBy(ctx, orgID, k, v)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("--patient %q: no patient has that id, uuid or MRN", v)
}

// parseSince reads --since: an RFC 3339 time, a date, or a duration back
// from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time, YYYY-MM-DD, or a duration such as 2h", s)
}
