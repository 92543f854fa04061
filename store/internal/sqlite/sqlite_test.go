package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

var testMigrations = fstest.MapFS{
	"0001_init.sql": {Data: []byte(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE, at INTEGER NOT NULL);`)},
	"0002_more.sql": {Data: []byte(`ALTER TABLE t ADD COLUMN note TEXT NOT NULL DEFAULT '';`)},
}

func open(t *testing.T, dir fstest.MapFS) *DB {
	t.Helper()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), dir, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrationsNumbered(t *testing.T) {
	t.Parallel()
	db := open(t, testMigrations)
	if err := db.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]fstest.MapFS{
		"gap":       {"0001_a.sql": {Data: []byte(`SELECT 1;`)}, "0003_c.sql": {Data: []byte(`SELECT 1;`)}},
		"no number": {"init.sql": {Data: []byte(`SELECT 1;`)}},
	} {
		if _, err := ReadMigrations(dir); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Concurrent writes share a transaction; one that fails rolls back alone,
// with the in-memory state it changed, and the others commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	t.Parallel()
	db := open(t, testMigrations)
	ctx := context.Background()
	type counter struct{ n int }
	var mu sync.Mutex
	var lastSeen []int
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Write(ctx, func(tx *Tx) error {
				c := tx.Shared("count", func() any { return &counter{} }).(*counter)
				saved := c.n
				tx.OnRollback(func() { c.n = saved })
				c.n++
				tx.AfterCommit(func() { mu.Lock(); lastSeen = append(lastSeen, c.n); mu.Unlock() })
				v := "row"
				if i%10 != 0 {
					v = strings.Repeat("x", i) // unique
				}
				if _, err := tx.Exec(`INSERT INTO t (v, at) VALUES (?, ?)`, v, tx.Now.Unix()); err != nil {
					return err
				}
				if i%10 == 0 {
					return errors.New("refused")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if (err != nil) != (i%10 == 0) {
			t.Errorf("write %d: %v", i, err)
		}
		if err != nil {
			failed++
		}
	}
	var rows int
	if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM t`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(errs)-failed {
		t.Errorf("%d rows, want %d", rows, len(errs)-failed)
	}
	// Each batch's counter counts only its committed writes.
	total := 0
	mu.Lock()
	for _, n := range lastSeen {
		total += n
	}
	mu.Unlock()
	if total < rows {
		t.Errorf("after-commit hooks saw %d writes in all, want at least %d", total, rows)
	}
}

func TestSubscribeAfterNotify(t *testing.T) {
	t.Parallel()
	db := open(t, testMigrations)
	ch, stop := db.Subscribe()
	defer stop()
	ctx := context.Background()
	if err := db.Write(ctx, func(tx *Tx) error { _, err := tx.Exec(`INSERT INTO t (v, at) VALUES ('a', 1)`); return err }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
		t.Fatal("signalled without Notify")
	default:
	}
	if err := db.Write(ctx, func(tx *Tx) error {
		tx.Notify()
		_, err := tx.Exec(`INSERT INTO t (v, at) VALUES ('b', 1)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("no signal after a notifying write")
	}
}

// SubscribeEvery: a lone write signals at once, a stream of writes signals
// at most once a gap, and the stream's last write is never left unsignalled.
// The bounds leave room for a starved machine (make test runs this package
// at nice 19 beside the browser tests): a late receiver may see two signals
// close together, so signals are counted, not timed one by one.
func TestSubscribeEveryPaces(t *testing.T) {
	t.Parallel()
	db := open(t, testMigrations)
	const gap = 500 * time.Millisecond
	ch, stop := db.SubscribeEvery(gap)
	defer stop()
	ctx := context.Background()
	n := 0
	write := func() time.Time {
		t.Helper()
		n++
		if err := db.Write(ctx, func(tx *Tx) error {
			tx.Notify()
			_, err := tx.Exec(`INSERT INTO t (v, at) VALUES (?, 1)`, fmt.Sprint("paced-", n))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return time.Now()
	}

	// A lone write: signalled at once, not at the end of a gap.
	first := write()
	select {
	case <-ch:
		if d := time.Since(first); d >= gap {
			t.Errorf("the first write after a quiet spell was signalled %v late (gap %v)", d, gap)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no signal for a lone write")
	}

	// A stream of writes inside that first gap and past it.
	var mu sync.Mutex
	var got []time.Time
	quit := make(chan struct{})
	var counting sync.WaitGroup
	counting.Go(func() {
		for {
			select {
			case <-ch:
				mu.Lock()
				got = append(got, time.Now())
				mu.Unlock()
			case <-quit:
				return
			}
		}
	})
	const writes = 40
	var last time.Time // when the last write began: its signal is sent after that
	for range writes {
		last = time.Now()
		write()
	}
	time.Sleep(2 * gap)
	close(quit)
	counting.Wait()
	span := time.Since(first)
	mu.Lock()
	defer mu.Unlock()
	if most := int(span/gap) + 1; len(got) > most {
		t.Errorf("%d signals for %d writes over %v, want at most %d (one per %v gap)", len(got), writes, span.Round(time.Millisecond), most, gap)
	}
	if len(got) == 0 || !got[len(got)-1].After(last) {
		t.Errorf("no signal after the stream's last write (%d signals)", len(got))
	}

	// Unsubscribing with a gathered signal pending drops it.
	ch2, stop2 := db.SubscribeEvery(100 * time.Millisecond)
	write()
	<-ch2
	write()
	stop2()
	select {
	case <-ch2:
		t.Error("signalled after unsubscribing")
	case <-time.After(300 * time.Millisecond):
	}
}

// Every Add returns once its row is committed; concurrent Adds share
// transactions; a group whose write fails rolls back alone while an
// ordinary write of the same moment commits.
func TestRidersGroups(t *testing.T) {
	t.Parallel()
	db := open(t, testMigrations)
	ctx := context.Background()
	var mu sync.Mutex
	flushes := 0
	q := NewRiders(db, func(tx *Tx, vs []string) error {
		mu.Lock()
		flushes++
		mu.Unlock()
		for _, v := range vs {
			if _, err := tx.Exec(`INSERT INTO t (v, at) VALUES (?, ?)`, v, tx.Now.Unix()); err != nil {
				return err
			}
			if v == "poison" {
				return errors.New("refused")
			}
		}
		return nil
	})
	visible := func(v string) bool {
		var n int
		if err := db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM t WHERE v = ?`, v).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	var wg sync.WaitGroup
	const n = 300
	for i := range n {
		wg.Go(func() {
			v := fmt.Sprint("r", i)
			if err := q.Add(ctx, v); err != nil {
				t.Error(err)
				return
			}
			if !visible(v) {
				t.Errorf("Add(%s) returned before its row was committed", v)
			}
		})
		if i%50 == 0 {
			wg.Go(func() {
				if err := db.Write(ctx, func(tx *Tx) error {
					_, err := tx.Exec(`INSERT INTO t (v, at) VALUES (?, 1)`, fmt.Sprint("w", i))
					return err
				}); err != nil {
					t.Error(err)
				}
			})
		}
	}
	wg.Wait()
	if flushes >= n {
		t.Errorf("%d transactions for %d rows: nothing was grouped", flushes, n)
	}
	if err := q.Add(ctx, "poison"); err == nil {
		t.Error("a failing rider was answered nil")
	}
	if visible("poison") {
		t.Error("the failing rider's row was committed")
	}
	db.Close()
	if err := q.Add(ctx, "late"); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Close: %v", err)
	}
}

// Adds racing Close are either written (nil) or refused (ErrClosed),
// never left waiting, and every row answered nil is in the file.
func TestRidersCloseFlushes(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "t.db")
	now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	db, err := Open(context.Background(), path, testMigrations, now)
	if err != nil {
		t.Fatal(err)
	}
	q := NewRiders(db, func(tx *Tx, vs []string) error {
		for _, v := range vs {
			if _, err := tx.Exec(`INSERT INTO t (v, at) VALUES (?, 1)`, v); err != nil {
				return err
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var written []string
	for i := range 200 {
		wg.Go(func() {
			v := fmt.Sprint("c", i)
			switch err := q.Add(context.Background(), v); {
			case err == nil:
				mu.Lock()
				written = append(written, v)
				mu.Unlock()
			case !errors.Is(err, ErrClosed):
				t.Error(err)
			}
		})
	}
	time.Sleep(time.Millisecond)
	db.Close()
	wg.Wait()
	db, err = Open(context.Background(), path, testMigrations, now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, v := range written {
		var n int
		if err := db.Reader().QueryRowContext(context.Background(), `SELECT count(*) FROM t WHERE v = ?`, v).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s answered nil but not in the file (%d, %v)", v, n, err)
		}
	}
}

// A relaxed write is fsynced by the syncer within SyncDelay; an ordinary
// write after it covers it at once. Mixed batches commit as ordinary ones.
func TestRelaxedWritesGetSynced(t *testing.T) {
	t.Parallel()
	db := open(t, testMigrations)
	ctx := context.Background()
	insert := func(v string) func(*Tx) error {
		return func(tx *Tx) error { _, err := tx.Exec(`INSERT INTO t (v, at) VALUES (?, 1)`, v); return err }
	}
	if err := db.WriteRelaxed(ctx, insert("a")); err != nil {
		t.Fatal(err)
	}
	if !db.unsynced.Load() {
		t.Fatal("a relaxed commit is not marked unsynced")
	}
	deadline := time.Now().Add(SyncDelay + time.Second)
	for db.unsynced.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the relaxed commit was not synced")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := db.WriteRelaxed(ctx, insert("b")); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, insert("c")); err != nil {
		t.Fatal(err)
	}
	if db.unsynced.Load() {
		t.Error("an ordinary commit left the WAL unsynced")
	}
	var mode int
	if err := db.wconn.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&mode); err != nil || mode != 2 {
		t.Errorf("writer synchronous = %d (%v), want 2 (FULL) after an ordinary write", mode, err)
	}
}
