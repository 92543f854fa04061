package store_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// readAuditCounts pages through the organisation's whole audit log and
// counts the read rows of actor by entity id.
func readAuditCounts(t *testing.T, st *store.Store, org int64, actor string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	var before int64
	for {
		rows, err := st.AuditLog(context.Background(), org, store.AuditFilter{BeforeID: before, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rows {
			if e.Actor == actor && e.Action == "read" {
				counts[e.EntityID]++
			}
		}
		if len(rows) < 500 {
			return counts
		}
		before = rows[len(rows)-1].ID
	}
}

// A read audit still in the journal (the mover has not run) is in the
// audit log as soon as someone reads the log, in order and chained; after
// a restart it is there once, and a clean close leaves no journal file.
func TestReadAuditsVisibleBeforeTheyAreMoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "test.db")
	st := storetest.OpenFile(t, path, store.WithReadMoveEvery(time.Hour))
	f := newFixture(t, st, "a")
	actx := store.WithActor(ctx, store.Actor{OrgID: f.org.ID, Name: "apikey:journal"})
	for _, id := range []string{"r1", "r2", "r3"} {
		st.AuditRead(actx, f.org.ID, "patient", id, f.patient.ID)
	}
	var inTable int
	if err := st.QueryRowForTest(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'apikey:journal'`).Scan(&inTable); err != nil {
		t.Fatal(err)
	}
	if inTable != 0 {
		t.Fatalf("%d reads in audit_log before any move: the test needs them in the journal", inTable)
	}
	if files, err := st.ReadJournalFiles(); err != nil || len(files) != 1 {
		t.Fatalf("journal files %v (%v), want one", files, err)
	}
	rows, err := st.AuditLog(ctx, f.org.ID, store.AuditFilter{PatientID: f.patient.ID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range rows {
		if e.Actor == "apikey:journal" {
			got = append(got, e.EntityID)
		}
	}
	if fmt.Sprint(got) != "[r3 r2 r1]" {
		t.Fatalf("patient's audit log shows reads %v, want [r3 r2 r1] (newest first)", got)
	}
	if bad, err := st.VerifyAuditChain(ctx); err != nil || bad != 0 {
		t.Fatalf("audit chain broken at row %d: %v", bad, err)
	}
	st.AuditRead(actx, f.org.ID, "patient", "r4", f.patient.ID)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = storetest.OpenFile(t, path)
	counts := readAuditCounts(t, st, f.org.ID, "apikey:journal")
	if fmt.Sprint(counts) != "map[r1:1 r2:1 r3:1 r4:1]" {
		t.Fatalf("after a restart: %v, want r1..r4 once each", counts)
	}
	if bad, err := st.VerifyAuditChain(ctx); err != nil || bad != 0 {
		t.Fatalf("audit chain broken at row %d: %v", bad, err)
	}
}

// A second store on the same file (a command-line tool beside the server)
// does not own the journal: its reads go through the writer and are in
// audit_log when AuditRead returns; the owner's reads chain after them.
func TestReadAuditsOfASecondProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "test.db")
	owner := storetest.OpenFile(t, path, store.WithReadMoveEvery(time.Hour))
	f := newFixture(t, owner, "a")
	tool := storetest.OpenFile(t, path)
	if files, err := tool.ReadJournalFiles(); err != nil || len(files) != 1 {
		t.Fatalf("journal files %v (%v), want the owner's one", files, err)
	}
	actx := store.WithActor(ctx, store.Actor{OrgID: f.org.ID, Name: "apikey:two"})
	owner.AuditRead(actx, f.org.ID, "patient", "owner", f.patient.ID)
	tool.AuditRead(actx, f.org.ID, "patient", "tool", f.patient.ID)
	var inTable int
	if err := tool.QueryRowForTest(ctx, `SELECT count(*) FROM audit_log WHERE actor = 'apikey:two' AND entity_id = 'tool'`).Scan(&inTable); err != nil {
		t.Fatal(err)
	}
	if inTable != 1 {
		t.Fatalf("the tool's read: %d rows in audit_log, want 1 at once", inTable)
	}
	if counts := readAuditCounts(t, owner, f.org.ID, "apikey:two"); fmt.Sprint(counts) != "map[owner:1 tool:1]" {
		t.Fatalf("reads %v, want owner and tool once each", counts)
	}
	if bad, err := owner.VerifyAuditChain(ctx); err != nil || bad != 0 {
		t.Fatalf("audit chain broken at row %d: %v", bad, err)
	}
}

// Reads answered while the child moves journal rows into audit_log all the
// time (every millisecond), killed with SIGKILL in the middle: after the
// restart every answered read is in the log exactly once, no read is there
// twice, and the chain verifies.
func TestReadAuditJournalExactlyOnceAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	f := newFixture(t, st, "a")
	path := st.Path()
	st.Close()

	const rounds, concurrent = 4, 8
	var answered []string
	for round := range rounds {
		cmd, url := startAuditChild(t, path, f.org.ID, "1ms")
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := range concurrent {
			wg.Go(func() {
				client := &http.Client{Transport: &http.Transport{}}
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("r%d-%d-%d", round, g, i)
					res, err := client.Get(url + "/?read=" + id)
					if err != nil {
						return // killed
					}
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						mu.Lock()
						answered = append(answered, id)
						mu.Unlock()
					}
				}
			})
		}
		// Load for a while, then kill in the middle of it.
		time.Sleep(300 * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		close(stop)
		wg.Wait()
		cmd.Wait()
	}
	if len(answered) < rounds*concurrent {
		t.Fatalf("only %d reads answered in %d rounds", len(answered), rounds)
	}

	st = storetest.OpenFile(t, path)
	counts := readAuditCounts(t, st, f.org.ID, "apikey:kill-test")
	for _, id := range answered {
		if counts[id] != 1 {
			t.Errorf("read %s was answered 200 and is in the log %d times, want once", id, counts[id])
		}
	}
	for id, n := range counts {
		if n != 1 {
			t.Errorf("read %s is in the log %d times", id, n)
		}
	}
	if bad, err := st.VerifyAuditChain(ctx); err != nil || bad != 0 {
		t.Fatalf("audit chain broken at row %d: %v", bad, err)
	}
	t.Logf("%d answered reads over %d kills, each in the log once (%d rows)", len(answered), rounds, len(counts))
}

// A journal whose last record was cut short (a power cut, or a kill in the
// middle of a write) is replayed up to that record: every answered read is
// there once, the tail is ignored, and reads after the restart are kept.
func TestReadAuditJournalTornTail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Parallel()
	for _, tc := range []struct {
		name string
		tail []byte
	}{
		{"half a header", []byte{40, 0, 0}},
		{"a header and part of its record", []byte{40, 0, 0, 0, 1, 2, 3, 4, 1, 2, 3}},
		{"a whole record with a wrong checksum", []byte{3, 0, 0, 0, 1, 2, 3, 4, 1, 2, 3}},
		{"zeros", make([]byte, 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, _ := newStore(t)
			f := newFixture(t, st, "a")
			path := st.Path()
			st.Close()

			// The child never moves rows: they are only in its journal.
			cmd, url := startAuditChild(t, path, f.org.ID, "1h")
			const reads = 20
			for i := range reads {
				res, err := http.Get(fmt.Sprintf("%s/?read=r%d", url, i))
				if err != nil || res.StatusCode != http.StatusOK {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("read %d: %v", i, err)
				}
				res.Body.Close()
			}
			cmd.Process.Kill()
			cmd.Wait()
			files, _ := filepath.Glob(path + "-reads.[0-9]*")
			if len(files) != 1 {
				t.Fatalf("journal files %v, want one", files)
			}
			jf, err := os.OpenFile(files[0], os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := jf.Write(tc.tail); err != nil {
				t.Fatal(err)
			}
			jf.Close()

			st = storetest.OpenFile(t, path)
			counts := readAuditCounts(t, st, f.org.ID, "apikey:kill-test")
			for i := range reads {
				if n := counts[fmt.Sprintf("r%d", i)]; n != 1 {
					t.Errorf("read r%d is in the log %d times after the restart, want once", i, n)
				}
			}
			if len(counts) != reads {
				t.Errorf("%d reads in the log, want %d", len(counts), reads)
			}
			actx := store.WithActor(ctx, store.Actor{OrgID: f.org.ID, Name: "apikey:kill-test"})
			st.AuditRead(actx, f.org.ID, "patient", "after", 1)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if files, _ := filepath.Glob(path + "-reads.[0-9]*"); len(files) != 0 {
				t.Errorf("journal files left after a clean close: %v", files)
			}

			st = storetest.OpenFile(t, path)
			if counts := readAuditCounts(t, st, f.org.ID, "apikey:kill-test"); len(counts) != reads+1 || counts["after"] != 1 {
				t.Errorf("after a second restart: %d reads (after: %d), want %d", len(counts), counts["after"], reads+1)
			}
			if bad, err := st.VerifyAuditChain(ctx); err != nil || bad != 0 {
				t.Fatalf("audit chain broken at row %d: %v", bad, err)
			}
		})
	}
}
