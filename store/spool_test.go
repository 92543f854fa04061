package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/clinicbox/clinicbox/store"
)

// A spooled file is stored in chunks and read back byte for byte, whatever
// its size against the chunk size; the spool's file is gone after Close.
func TestSpooledPatientFile(t *testing.T) {
	st, _ := newStore(t)
	f := newFixture(t, st, "spool")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 3<<20 + 17} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		copy(data, "%PDF-1.7")
		sp, err := st.NewSpool(store.MaxPatientFileSize)
		if err != nil {
			t.Fatal(err)
		}
		// Written in uneven pieces, as a decoder hands them over.
		for rest, step := data, 1; len(rest) > 0; step = step*7 + 3 {
			n := min(step, len(rest))
			if _, err := sp.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		pf := &store.PatientFile{PatientID: f.patient.ID, Filename: "ecg.pdf", Spool: sp, Source: "instrument-api"}
		if size == 0 {
			pf.Filename = "empty"
		}
		if err := st.AddPatientFile(ctx, f.org.ID, pf); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		spoolName := spoolFiles(t, st)
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
		if len(spoolName) != 1 || len(spoolFiles(t, st)) != 0 {
			t.Fatalf("spool files %v before Close, %v after", spoolName, spoolFiles(t, st))
		}
		got, err := st.PatientFileByUUID(ctx, f.org.ID, pf.UUID)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if !bytes.Equal(got.Data, data) || got.Size != int64(size) || got.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%d bytes: read back %d bytes, size %d, sha %s", size, len(got.Data), got.Size, got.SHA256)
		}
		if size > 0 && got.ContentType != "application/pdf" {
			t.Errorf("%d bytes: content type %q", size, got.ContentType)
		}
	}
}

// A spool refuses more than its limit; a write that fails stores nothing,
// chunks included; spools left by a crash are removed at the next Open.
func TestSpoolLimitsAndRollback(t *testing.T) {
	st, _ := newStore(t)
	f := newFixture(t, st, "spool")
	ctx := context.Background()
	sp, err := st.NewSpool(10)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	if _, err := sp.Write(make([]byte, 8)); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Write(make([]byte, 3)); !errors.Is(err, store.ErrSpoolFull) {
		t.Fatalf("past the limit: %v", err)
	}

	big, _ := st.NewSpool(store.MaxPatientFileSize)
	defer big.Close()
	big.Write(make([]byte, 1<<20))
	files := []store.PatientFile{{Filename: "a.bin", Spool: big, Source: "instrument-api"}, {Filename: "../b", Source: "instrument-api", Data: []byte("x")}}
	if err := st.RecordInstrumentResults(ctx, f.org.ID, f.patient.ID, nil, files); err == nil {
		t.Fatal("a file name with a path was stored")
	}
	list, err := st.PatientFiles(ctx, f.org.ID, f.patient.ID)
	if err != nil || len(list) != 0 {
		t.Fatalf("after a refused write: %d files, %v", len(list), err)
	}
	var chunks int
	if err := st.QueryRowForTest(ctx, `SELECT count(*) FROM patient_file_chunks`).Scan(&chunks); err != nil || chunks != 0 {
		t.Fatalf("after a refused write: %d chunks, %v", chunks, err)
	}

	// A crash leaves a spool behind; the next Open removes it.
	left := filepath.Join(filepath.Dir(st.Path()), "spool", "upload-left")
	if err := os.WriteFile(left, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := st.Path()
	st.Close()
	st2, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Fatalf("left-over spool: %v", err)
	}
}

func spoolFiles(t *testing.T, st *store.Store) []string {
	ents, _ := os.ReadDir(filepath.Join(filepath.Dir(st.Path()), "spool"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
