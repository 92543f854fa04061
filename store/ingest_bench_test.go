package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// writtenBytes is what the process has handed to write(2) and pwrite(2)
// so far (/proc/self/io wchar): in a store benchmark, the WAL frames and
// the checkpoints' copies into the database file.
func writtenBytes(tb testing.TB) int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0 // not Linux: the metric is left out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// BenchmarkRecordReadingParallel measures the monitoring ingest's store
// side as the API drives it: 16 concurrent writers recording readings of
// 200 enrolled patients (default alert rules, every reading checked),
// durable (synchronous=FULL, group commit). Besides wall time it reports
// the process's CPU per reading and the bytes written per reading (WAL
// frames and checkpoints), which a busy machine does not distort.
func BenchmarkRecordReadingParallel(b *testing.B) {
	st, _ := newStore(b)
	f := newFixture(b, st, "a")
	ctx := context.Background()
	var patients []int64
	for i := range 200 {
		p := &store.Patient{Names: []store.HumanName{{FirstName: "Load", LastName: fmt.Sprint(i)}}, Active: true}
		if err := st.CreatePatient(ctx, f.org.ID, p); err != nil {
			b.Fatal(err)
		}
		if err := st.CreateEnrollment(ctx, f.org.ID, &store.Enrollment{PatientID: p.ID, Program: store.ProgramRPM,
			StartDate: "2026-01-01", Rules: store.DefaultAlertRules()}); err != nil {
			b.Fatal(err)
		}
		patients = append(patients, p.ID)
	}
	base := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	var seq atomic.Int64
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	cpu, wrote := cpuTime(), writtenBytes(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			o := &store.Observation{PatientID: patients[rand.IntN(len(patients))], MetricKey: "bp_systolic",
				ValueNum: float64(110 + i%60), Unit: "mmHg", Source: store.SourceMonitoringDevice,
				MeasuredAt: base.Add(time.Duration(i) * time.Second)}
			if _, err := st.RecordReading(ctx, f.org.ID, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e3, "cpu-µs/op")
	b.ReportMetric(float64(writtenBytes(b)-wrote)/float64(b.N)/1024, "KiB-written/op")
}
