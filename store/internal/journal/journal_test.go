package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

type got struct {
	rec string
	end Pos
}

func replayAll(t *testing.T, j *Journal, from Pos) []got {
	t.Helper()
	var out []got
	if err := j.Replay(from, func(rec []byte, end Pos) error {
		out = append(out, got{string(rec), end})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func recs(gs []got) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.rec)
	}
	return out
}

// Records appended, the journal closed without being consumed (as a killed
// process leaves it), then a tail appended by hand: replay returns every
// whole record and ignores the torn tail, and a new file after it is read.
func TestReplayIgnoresTornTail(t *testing.T) {
	whole := func(rec string) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(len(rec)))
		b = binary.LittleEndian.AppendUint32(b, crc32.Checksum([]byte(rec), castagnoli))
		return append(b, rec...)
	}
	for _, tc := range []struct {
		name string
		tail []byte
		want []string
	}{
		{"no tail", nil, []string{"a", "bb", "ccc"}},
		{"half a header", []byte{5, 0, 0}, []string{"a", "bb", "ccc"}},
		{"header without its record", whole("dddd")[:headerSize+2], []string{"a", "bb", "ccc"}},
		{"bad checksum", append(whole("dddd")[:headerSize], "xxxx"...), []string{"a", "bb", "ccc"}},
		{"zeros (a power cut after the size grew)", make([]byte, 64), []string{"a", "bb", "ccc"}},
		{"absurd length", append(binary.LittleEndian.AppendUint32(nil, MaxRecord+1), make([]byte, 12)...), []string{"a", "bb", "ccc"}},
		{"a whole record", whole("dddd"), []string{"a", "bb", "ccc", "dddd"}},
		{"a whole record then a torn one", append(whole("dddd"), whole("eeeee")[:10]...), []string{"a", "bb", "ccc", "dddd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := filepath.Join(t.TempDir(), "db-reads")
			j, err := Open(base)
			if err != nil {
				t.Fatal(err)
			}
			seq, err := j.Start(0)
			if err != nil || seq != 1 {
				t.Fatalf("start: %d %v", seq, err)
			}
			for _, r := range []string{"a", "bb", "ccc"} {
				if _, err := j.Append([]byte(r)); err != nil {
					t.Fatal(err)
				}
			}
			if err := j.Close(false); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(j.name(1), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(tc.tail)
			f.Close()

			j, err = Open(base)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close(false)
			if g := recs(replayAll(t, j, Pos{})); !slices.Equal(g, tc.want) {
				t.Fatalf("replayed %q, want %q", g, tc.want)
			}
			// The next process appends to a new file: the torn tail stays
			// behind and records after it are not lost.
			seq, err = j.Start(0)
			if err != nil || seq != 2 {
				t.Fatalf("start: %d %v", seq, err)
			}
			if _, err := j.Append([]byte("after")); err != nil {
				t.Fatal(err)
			}
			if g := recs(replayAll(t, j, Pos{})); !slices.Equal(g, append(slices.Clone(tc.want), "after")) {
				t.Fatalf("replayed %q after a restart, want %q + after", g, tc.want)
			}
		})
	}
}

// Replay from a position returns exactly the records after it; Rotate and
// Release move appends to a new file and delete the consumed ones.
func TestReplayFromPositionRotateRelease(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "db-reads")
	j, err := Open(base)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close(false)
	if _, err := j.Start(6); err != nil { // the cursor's file was 6: appends start at 7
		t.Fatal(err)
	}
	var ends []Pos
	for i := range 6 {
		if i == 3 {
			if err := j.Rotate(); err != nil {
				t.Fatal(err)
			}
		}
		end, err := j.Append(fmt.Appendf(nil, "r%d", i))
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, end)
	}
	wantEnds := []Pos{{7, 10}, {7, 20}, {7, 30}, {8, 10}, {8, 20}, {8, 30}}
	if !slices.Equal(ends, wantEnds) {
		t.Fatalf("positions %v, want %v", ends, wantEnds)
	}
	for i, from := range append([]Pos{{}}, ends...) {
		g := replayAll(t, j, from)
		if len(g) != 6-i {
			t.Fatalf("from %v: %d records, want %d", from, len(g), 6-i)
		}
		for k, r := range g {
			if want := fmt.Sprintf("r%d", i+k); r.rec != want || r.end != ends[i+k] {
				t.Errorf("from %v: record %d is %q at %v, want %q at %v", from, k, r.rec, r.end, want, ends[i+k])
			}
		}
	}
	if err := j.Release(ends[2]); err != nil { // file 7 is still being consumed
		t.Fatal(err)
	}
	if _, err := os.Stat(j.name(7)); err != nil {
		t.Fatalf("file 7 released too early: %v", err)
	}
	if err := j.Release(ends[4]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(j.name(7)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file 7 left after a release past it: %v", err)
	}
	if g := recs(replayAll(t, j, ends[2])); !slices.Equal(g, []string{"r3", "r4", "r5"}) {
		t.Fatalf("replay from a deleted file's end: %q", g)
	}
}

// One owner at a time: a second Open fails until the first closes, and a
// consumed journal leaves no record files behind.
func TestOneOwner(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "db-reads")
	j, err := Open(base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Start(0); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(base); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if _, err := j.Append([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(true); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Append([]byte("y")); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	j2, err := Open(base)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	defer j2.Close(false)
	if seqs, err := j2.files(); err != nil || len(seqs) != 0 {
		t.Fatalf("files left after a consumed close: %v %v", seqs, err)
	}
}
