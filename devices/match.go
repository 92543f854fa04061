package devices

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/clinicbox/clinicbox/store"
)

// identifiers are what a message says about whose sample it measured.
type identifiers struct {
	patient  []string // patient ids of any kind: our uuid, MRN, the client's id, HSID, national id
	national []string // national ids (e.g. a CPR number) when the message marks them as such
	samples  []string // sample (specimen) or order ids
}

func (ids *identifiers) addPatient(v string) {
	if v = strings.TrimSpace(v); v != "" {
		ids.patient = append(ids.patient, v)
	}
}

func (ids *identifiers) addNational(v string) {
	if v = strings.TrimSpace(v); v != "" {
		ids.national = append(ids.national, v)
	}
}

func (ids *identifiers) addSample(v string) {
	if v = strings.TrimSpace(v); v != "" {
		ids.samples = append(ids.samples, v)
	}
}

// ref describes the identifiers for people (the unmatched queue).
func (ids *identifiers) ref() string {
	var parts []string
	for _, v := range ids.patient {
		parts = append(parts, "patient "+v)
	}
	for _, v := range ids.national {
		parts = append(parts, "national id "+v)
	}
	for _, v := range ids.samples {
		parts = append(parts, "sample "+v)
	}
	return strings.Join(parts, ", ")
}

// match finds the patient a message's results belong to:
//
//  1. every identifier the message carries (patient ids of any kind, national
//     ids, sample ids labelled with a sample order) is looked up; if those
//     found all point to one patient, that is the patient (an instrument's
//     own numbering that we do not know is ignored then);
//  2. if they point to different patients (or one id is shared by two) the
//     results stay unmatched (a clinician decides): a wrong patient is worse
//     than none;
//  3. if the message names only patients that we do not know, they stay
//     unmatched too: they are not silently put on whoever is selected;
//  4. otherwise (no patient named, at most unknown sample numbers) the
//     patient selected at the device's station gets them;
//  5. else they go to the unmatched queue.
//
// It returns the patient id (0 = unmatched) and a note for people.
func match(ctx context.Context, st *store.Store, orgID int64, station string, ids identifiers) (int64, string, error) {
	found := map[int64]bool{}
	var unknown []string
	lookup := func(v string, keys ...store.PatientKey) error {
		pids, err := st.PatientIDsByIdentifier(ctx, orgID, v, keys...)
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			unknown = append(unknown, v)
		}
		for _, id := range pids {
			found[id] = true
		}
		return nil
	}
	for _, v := range ids.patient {
		if err := lookup(v); err != nil {
			return 0, "", fmt.Errorf("match patient: %w", err)
		}
	}
	for _, v := range ids.national {
		if err := lookup(v, store.ByNationalID); err != nil {
			return 0, "", fmt.Errorf("match patient: %w", err)
		}
	}
	for _, v := range ids.samples {
		o, err := st.SampleOrderBySample(ctx, orgID, v)
		if err == nil {
			if o.PatientID > 0 { // a host query's order may have no patient yet
				found[o.PatientID] = true
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return 0, "", fmt.Errorf("match sample: %w", err)
		}
	}
	ref := ids.ref()
	switch {
	case len(found) > 1:
		return 0, note(ref, "identifiers name different patients"), nil
	case len(found) == 1:
		for id := range found {
			return id, ref, nil
		}
	case len(unknown) > 0:
		return 0, note(ref, "unknown patient "+strings.Join(unknown, ", ")), nil
	}
	if station != "" {
		sel, err := st.StationSelection(ctx, orgID, station)
		if err == nil {
			return sel.PatientID, note(ref, "selected at station "+station), nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return 0, "", fmt.Errorf("match station: %w", err)
		}
	}
	return 0, ref, nil
}

func note(ref, s string) string {
	if ref == "" {
		return s
	}
	return ref + " (" + s + ")"
}
