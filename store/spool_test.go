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
	"github.com/clinicbox/clinicbox/store/storetest"
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
		// Streamed, as downloads send it: the same bytes, in writes of at
		// most one chunk.
		meta, err := st.PatientFileMetaByUUID(ctx, f.org.ID, pf.UUID)
		if err != nil {
			t.Fatal(err)
		}
		var w chunkWriter
		if n, err := st.CopyPatientFile(ctx, meta, &w); err != nil || n != int64(size) || !bytes.Equal(w.buf.Bytes(), data) || meta.Data != nil {
			t.Errorf("%d bytes: streamed %d bytes (%v), equal %v", size, n, err, bytes.Equal(w.buf.Bytes(), data))
		}
		if w.largest > 256<<10 {
			t.Errorf("%d bytes: a write of %d bytes, more than a chunk", size, w.largest)
		}
	}
}

// chunkWriter keeps what is written and the largest single write.
type chunkWriter struct {
	buf     bytes.Buffer
	largest int
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	return w.buf.Write(p)
}

// CopyPatientFile streams a file kept in its row (written before chunks
// existed) at once, refuses another organisation's file, and reports a
// file whose chunks do not add up to its size instead of sending it short
// as if complete.
func TestCopyPatientFile(t *testing.T) {
	st, _ := newStore(t)
	f := newFixture(t, st, "copy")
	other := newFixture(t, st, "other")
	ctx := context.Background()
	inRow := &store.PatientFile{PatientID: f.patient.ID, Filename: "old.pdf", Data: []byte("%PDF-1.4 kept in its row"), Source: "upload"}
	if err := st.AddPatientFile(ctx, f.org.ID, inRow); err != nil {
		t.Fatal(err)
	}
	meta, err := st.PatientFileMeta(ctx, f.org.ID, inRow.ID)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if n, err := st.CopyPatientFile(ctx, meta, &buf); err != nil || n != meta.Size || buf.String() != string(inRow.Data) {
		t.Errorf("in-row file: %d bytes %q (%v)", n, buf.String(), err)
	}
	if _, err := st.PatientFileMeta(ctx, other.org.ID, inRow.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another organisation's file: %v", err)
	}
	if _, err := st.PatientFileMetaByUUID(ctx, other.org.ID, inRow.UUID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another organisation's file by uuid: %v", err)
	}

	sp, err := st.NewSpool(store.MaxPatientFileSize)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	data := bytes.Repeat([]byte("0123456789abcdef"), (600<<10)/16) // three chunks
	sp.Write(data)
	chunked := &store.PatientFile{PatientID: f.patient.ID, Filename: "big.bin", Spool: sp, Source: "upload"}
	if err := st.AddPatientFile(ctx, f.org.ID, chunked); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM patient_file_chunks WHERE file_id = ? AND seq = 2`, chunked.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	meta, err = st.PatientFileMeta(ctx, f.org.ID, chunked.ID)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	n, err := st.CopyPatientFile(ctx, meta, &buf)
	if err == nil || n != 512<<10 || !bytes.Equal(buf.Bytes(), data[:n]) {
		t.Errorf("a file missing its last chunk: %d bytes sent, err %v", n, err)
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
	storetest.Reopen(t, st)
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
