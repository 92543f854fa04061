package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// Jobs generates encounter reports in the background. The password of a
// report order is handed over in memory only (it is never stored); the
// report is written straight into an AES-encrypted zip and only that zip is
// stored. An order still pending when the process stops cannot be finished
// (its password is gone): the next Run marks it failed, and the client orders
// it again.
type Jobs struct {
	st  *store.Store
	log *slog.Logger

	mu      sync.Mutex
	queue   []job
	running map[int64]bool
	signal  chan struct{}
}

type job struct {
	report   store.EncounterReport
	password []byte
}

// NewJobs returns the report job queue; Run works it.
func NewJobs(st *store.Store, log *slog.Logger) *Jobs {
	if log == nil {
		log = slog.Default()
	}
	return &Jobs{st: st, log: log, running: map[int64]bool{}, signal: make(chan struct{}, 1)}
}

// Submit stores a pending report order and queues its generation.
func (j *Jobs) Submit(ctx context.Context, orgID int64, r *store.EncounterReport, password string) error {
	if password == "" {
		return store.Invalid("password", "This value should not be blank.")
	}
	if err := j.st.CreateEncounterReport(ctx, orgID, r); err != nil {
		return err
	}
	j.mu.Lock()
	j.queue = append(j.queue, job{report: *r, password: []byte(password)})
	j.running[r.ID] = true
	j.mu.Unlock()
	select {
	case j.signal <- struct{}{}:
	default:
	}
	return nil
}

// WriteCSV writes the CSV of an organisation's appointments starting in
// [from, to) with the given columns to w (CSV with the jobs' store), and
// returns how many rows it wrote.
func (j *Jobs) WriteCSV(ctx context.Context, orgID int64, from, to time.Time, columns []string, w io.Writer) (int, error) {
	return CSV(ctx, j.st, orgID, from, to, columns, w)
}

// Run generates queued reports until ctx ends.
func (j *Jobs) Run(ctx context.Context) error {
	j.mu.Lock()
	known := make([]int64, 0, len(j.running))
	for id := range j.running {
		known = append(known, id)
	}
	j.mu.Unlock()
	if n, err := j.st.FailPendingEncounterReports(ctx, "interrupted by a restart of the appliance; order the report again", known); err != nil {
		j.log.Error("reports: fail orphaned reports", "err", err)
	} else if n > 0 {
		j.log.Warn("reports: orders interrupted by a restart marked failed", "count", n)
	}
	for {
		j.mu.Lock()
		var next *job
		if len(j.queue) > 0 {
			next = &j.queue[0]
			j.queue = j.queue[1:]
		}
		j.mu.Unlock()
		if next == nil {
			select {
			case <-ctx.Done():
				return nil
			case <-j.signal:
				continue
			}
		}
		j.generate(ctx, next)
		clear(next.password)
		j.mu.Lock()
		delete(j.running, next.report.ID)
		j.mu.Unlock()
	}
}

// generate writes one report and records the outcome.
func (j *Jobs) generate(ctx context.Context, jb *job) {
	r := jb.report
	zip, rows, err := EncryptedCSV(ctx, j.st, r.OrgID, &r, jb.password)
	bg := context.WithoutCancel(ctx)
	if err != nil {
		reason := "the report could not be generated"
		if errors.Is(err, context.Canceled) {
			reason = "interrupted by a restart of the appliance; order the report again"
		}
		j.log.Error("reports: encounter report failed", "report", r.UUID, "err", err)
		if err := j.st.FailEncounterReport(bg, r.ID, reason); err != nil {
			j.log.Error("reports: record failure", "report", r.UUID, "err", err)
		}
		return
	}
	if err := j.st.CompleteEncounterReport(bg, r.ID, zip, rows); err != nil {
		j.log.Error("reports: store encounter report", "report", r.UUID, "err", err)
		return
	}
	j.log.Info("reports: encounter report completed", "report", r.UUID, "rows", rows, "bytes", len(zip))
}

// EncryptedCSV writes the report's CSV (its preset's columns) into a zip
// encrypted with password and returns the zip. The plain CSV only ever
// exists in the compressor's window.
func EncryptedCSV(ctx context.Context, st *store.Store, orgID int64, r *store.EncounterReport, password []byte) ([]byte, int, error) {
	preset, err := st.ReportPresetByID(ctx, orgID, r.PresetID)
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	zw := NewZipWriter(&buf, st.Now())
	name := fmt.Sprintf("encounter-report-%s-%s.csv", r.From.UTC().Format("20060102T150405Z"), r.To.UTC().Format("20060102T150405Z"))
	entry, err := zw.Create(name, password)
	if err != nil {
		return nil, 0, err
	}
	rows, err := CSV(ctx, st, orgID, r.From, r.To, preset.Columns, entry)
	if err != nil {
		entry.Close()
		return nil, 0, err
	}
	if err := entry.Close(); err != nil {
		return nil, 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), rows, nil
}
