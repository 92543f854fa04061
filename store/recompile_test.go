package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// The reads of the searches and listings are compiled once: SQLite
// compiles a statement again on every run when its plan looked at a bound
// value (a LIMIT ?, a date bound, a value a partial index is checked
// against), because the driver clears the bindings before each run, and
// for a wide query that was most of its cost. Such values are bound
// opaquely (+?); TestSearchPlans checks the indexes still serve them.
func TestReadsCompileOnce(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := context.Background()
	for _, tc := range searchReads(t, st) {
		t.Run(tc.name, func(t *testing.T) {
			for _, q := range recordReads(t, st, tc.read) {
				n, err := st.Recompiles(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if n > 0 {
					t.Errorf("compiled again on each of 3 runs (%d): %s %v", n, q.Query, q.Args)
				}
			}
		})
	}
}

// recordReads runs read and returns the queries it ran.
func recordReads(t *testing.T, st *store.Store, read func() error) []store.ReadQuery {
	t.Helper()
	stop := st.RecordReads()
	err := read()
	reads := stop()
	if err != nil {
		t.Fatal(err)
	}
	if len(reads) == 0 {
		t.Fatal("no query recorded")
	}
	return reads
}

// The searches' reads, bound opaquely, are still served by the indexes
// their terms name: every table is searched through an index (none
// scanned), the one given among them.
func TestSearchPlans(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := context.Background()
	for _, tc := range searchReads(t, st) {
		t.Run(tc.name, func(t *testing.T) {
			var steps []string
			for _, q := range recordReads(t, st, tc.read) {
				plan, err := st.QueryPlan(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				steps = append(steps, plan...)
			}
			used := false
			for _, step := range steps {
				if strings.HasPrefix(step, "SCAN ") && !strings.HasPrefix(step, "SCAN (subquery") {
					t.Errorf("scans a table: %q", steps)
				}
				if strings.Contains(step, " INDEX "+tc.index+" ") {
					used = true
				}
			}
			if !used {
				t.Errorf("does not use %s: %q", tc.index, steps)
			}
		})
	}
}

type searchRead struct {
	name  string
	index string // the index that serves its terms (TestSearchPlans)
	read  func() error
}

// searchReads are the searches and listings whose reads are checked.
func searchReads(t *testing.T, st *store.Store) []searchRead {
	f := newFixture(t, st, "a")
	ctx := context.Background()
	org, pid := f.org.ID, f.patient.ID
	from, to := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	dates := []store.TimeRange{{From: from}, {To: to}}
	page := store.Page{Limit: 20, Offset: 20}
	yes := true
	return []searchRead{
		{"observations of a patient, code, date", "observations_patient_code", func() error {
			_, err := st.SearchObservations(ctx, org, store.ObservationSearch{PatientID: pid,
				Codes: []store.CodeRef{{Systems: []string{"NPU"}, Code: "NPU02187"}}, Effective: dates, SortDate: -1, Page: page})
			return err
		}},
		{"patients by name, birth date, gender", "patients_name", func() error {
			_, err := st.SearchPatients(ctx, org, store.PatientSearch{Name: "ann", BirthDate: dates, Gender: []string{"female"},
				Active: &yes, Page: page})
			return err
		}},
		{"patients by identifier", "patients_mrn", func() error {
			_, err := st.SearchPatients(ctx, org, store.PatientSearch{Identifiers: []store.IdentifierRef{{Key: store.ByMRN, Value: "MRN-1"}}, Page: page})
			return err
		}},
		{"appointments of a patient, status, date", "appointments_patient", func() error {
			_, err := st.SearchAppointments(ctx, org, store.AppointmentSearch{PatientID: pid, Statuses: []string{"booked"},
				Start: dates, SortDate: 1, Page: page})
			return err
		}},
		{"appointments of a waiting room", "appointments_room_day", func() error {
			_, err := st.SearchAppointments(ctx, org, store.AppointmentSearch{WaitingRoomID: f.room.ID, Start: dates, Page: page})
			return err
		}},
		{"episodes of a patient", "episodes_patient", func() error {
			_, err := st.SearchEpisodes(ctx, org, store.EpisodeSearch{PatientID: pid, Statuses: []string{"active"}, Page: page})
			return err
		}},
		{"questionnaires of a patient", "patient_documents_patient", func() error {
			_, err := st.SearchQuestionnaires(ctx, org, store.QuestionnaireSearch{PatientID: pid, Page: page})
			return err
		}},
		{"visit notes of a patient", "visit_notes_org", func() error {
			_, err := st.SearchVisitNotes(ctx, org, store.VisitNoteSearch{PatientID: pid, Page: page})
			return err
		}},
		{"documents of a patient", "patient_files_patient", func() error {
			_, err := st.SearchDocuments(ctx, org, store.DocumentSearch{PatientID: pid, Page: page})
			return err
		}},
		{"result reports of a patient", "observations_patient", func() error {
			_, err := st.SearchResultReports(ctx, org, store.ResultReportSearch{PatientID: pid, Received: dates, SortDate: -1, Page: page})
			return err
		}},
		{"observations list of a patient", "observations_patient", func() error {
			_, err := st.Observations(ctx, org, store.ObservationFilter{PatientID: pid, Limit: 20})
			return err
		}},
		{"readings of a patient", "observations_patient", func() error {
			_, err := st.Readings(ctx, org, store.ReadingFilter{PatientID: pid, Limit: 20})
			return err
		}},
		{"results report", "observations_patient", func() error {
			_, err := st.PatientResults(ctx, org, pid, from, to)
			return err
		}},
	}
}
