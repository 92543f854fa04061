package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SyncDelay bounds how long an appended record stays without an fsync: a
// power cut can lose at most the records of the last SyncDelay.
const SyncDelay = 50 * time.Millisecond

// MaxRecord is the largest record Append takes; replay treats a larger
// length, or 0, as a torn tail.
const MaxRecord = 1 << 20

// headerSize is the length (uint32) and the CRC-32C of the payload
// (uint32), little-endian, before each record.
const headerSize = 8

// ErrLocked is Open's answer when another process (or another Open in this
// one) owns the journal.
var ErrLocked = errors.New("journal: owned by another process")

// ErrClosed is Append's answer after Close.
var ErrClosed = errors.New("journal: closed")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Pos is a place in the journal: a file number and the byte offset just
// past a record in it. The zero Pos is before everything.
type Pos struct{ File, Off int64 }

// Less reports whether p comes before q.
func (p Pos) Less(q Pos) bool { return p.File < q.File || p.File == q.File && p.Off < q.Off }

// Journal is the append-only record file series at one base path.
type Journal struct {
	base string
	lock *os.File // holds the flock for as long as the journal is open

	rotMu  sync.Mutex // one Rotate at a time
	oldest int64      // no file before this one is left (Release only)

	mu     sync.Mutex
	f      *os.File // the file appended to (nil before Start)
	seq    int64    // its number
	size   int64    // its length: the end of the last whole record
	buf    []byte
	broken error      // a failed append that could not be undone
	olds   []*os.File // rotated files the syncer has still to fsync and close
	dirty  bool       // appended since the syncer's last fsync
	closed bool

	syncKick chan struct{}
	stop     chan struct{}
	syncDone chan struct{}
	syncErr  error // the last fsync's error (under mu)
}

// Open takes ownership of the journal at base (files base.NNNNNNNN beside
// it). Replay what is there, then Start before appending.
func Open(base string) (*Journal, error) {
	lf, err := os.OpenFile(base+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lf.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	return &Journal{base: base, lock: lf, syncKick: make(chan struct{}, 1),
		stop: make(chan struct{}), syncDone: make(chan struct{})}, nil
}

func (j *Journal) name(seq int64) string { return fmt.Sprintf("%s.%08d", j.base, seq) }

// files lists the numbers of the journal's files, in order.
func (j *Journal) files() ([]int64, error) {
	ents, err := os.ReadDir(filepath.Dir(j.base))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	prefix := filepath.Base(j.base) + "."
	var out []int64
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || len(rest) < 8 {
			continue
		}
		if n, err := strconv.ParseInt(rest, 10, 64); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Replay calls fn with every whole record from position from on, in order,
// with the position just past it. In each file it stops at the first record
// that is cut short or fails its checksum (a torn tail: never acknowledged)
// and goes on with the next file. A missing file is empty. Call it before
// Start.
func (j *Journal) Replay(from Pos, fn func(rec []byte, end Pos) error) error {
	seqs, err := j.files()
	if err != nil {
		return err
	}
	for _, seq := range seqs {
		if seq < from.File {
			continue
		}
		data, err := os.ReadFile(j.name(seq))
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		off := int64(0)
		if seq == from.File {
			off = from.Off
		}
		for off+headerSize <= int64(len(data)) {
			n := int64(binary.LittleEndian.Uint32(data[off:]))
			sum := binary.LittleEndian.Uint32(data[off+4:])
			end := off + headerSize + n
			if n == 0 || n > MaxRecord || end > int64(len(data)) {
				break
			}
			rec := data[off+headerSize : end]
			if crc32.Checksum(rec, castagnoli) != sum {
				break
			}
			if err := fn(rec, Pos{seq, end}); err != nil {
				return err
			}
			off = end
		}
	}
	return nil
}

// Start opens a new file for appends, numbered after every existing file
// and after file after, and starts the syncer. It returns its number.
func (j *Journal) Start(after int64) (int64, error) {
	seqs, err := j.files()
	if err != nil {
		return 0, err
	}
	seq := after
	if len(seqs) > 0 {
		seq = max(seq, seqs[len(seqs)-1])
		j.oldest = seqs[0]
	} else {
		j.oldest = after + 1
	}
	seq++
	f, err := j.create(seq)
	if err != nil {
		return 0, err
	}
	j.mu.Lock()
	j.f, j.seq, j.size = f, seq, 0
	j.mu.Unlock()
	go j.syncLoop()
	return seq, nil
}

// create makes file seq and syncs the directory, so that the file itself
// survives a power cut once its data is synced.
func (j *Journal) create(seq int64) (*os.File, error) {
	f, err := os.OpenFile(j.name(seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if err := syncDir(filepath.Dir(j.base)); err != nil {
		f.Close()
		os.Remove(j.name(seq))
		return nil, err
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: sync %s: %w", dir, err)
	}
	return nil
}

// Append writes rec as one record with one write(2) and returns the
// position just past it. When it returns nil the record survives a crash
// of the process; it is on disk at most SyncDelay later.
func (j *Journal) Append(rec []byte) (Pos, error) {
	// An empty record would look like zeros, which a power cut can leave.
	if len(rec) == 0 || len(rec) > MaxRecord {
		return Pos{}, fmt.Errorf("journal: record of %d bytes (1 to %d)", len(rec), MaxRecord)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	switch {
	case j.closed || j.f == nil:
		return Pos{}, ErrClosed
	case j.broken != nil:
		return Pos{}, j.broken
	}
	b := binary.LittleEndian.AppendUint32(j.buf[:0], uint32(len(rec)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(rec, castagnoli))
	b = append(b, rec...)
	j.buf = b
	n, err := j.f.Write(b)
	if err != nil {
		// A part of the record may be in the file: cut it off, or the
		// records appended after it would be lost behind a torn one.
		if n > 0 {
			if terr := j.f.Truncate(j.size); terr != nil {
				j.broken = fmt.Errorf("journal: a failed append could not be undone: %w", terr)
			}
		}
		return Pos{}, fmt.Errorf("journal: %w", err)
	}
	j.size += int64(n)
	if !j.dirty {
		j.dirty = true
		select {
		case j.syncKick <- struct{}{}:
		default:
		}
	}
	return Pos{j.seq, j.size}, nil
}

// End is the position after the last record appended.
func (j *Journal) End() Pos {
	j.mu.Lock()
	defer j.mu.Unlock()
	return Pos{j.seq, j.size}
}

// Rotate starts a new file for appends; the current one is fsynced and
// closed by the syncer, and deleted by the Release that passes it.
func (j *Journal) Rotate() error {
	j.rotMu.Lock()
	defer j.rotMu.Unlock()
	j.mu.Lock()
	seq, closed := j.seq+1, j.closed
	j.mu.Unlock()
	if closed {
		return ErrClosed
	}
	f, err := j.create(seq)
	if err != nil {
		return err
	}
	j.mu.Lock()
	old := j.f
	j.f, j.seq, j.size, j.broken = f, seq, 0, nil
	j.olds = append(j.olds, old)
	j.dirty = true
	j.mu.Unlock()
	select {
	case j.syncKick <- struct{}{}:
	default:
	}
	return nil
}

// Release records that everything before upTo is stored elsewhere, durably:
// the files before upTo's file are deleted.
func (j *Journal) Release(upTo Pos) error {
	j.rotMu.Lock()
	defer j.rotMu.Unlock()
	var errs []error
	for ; j.oldest < upTo.File; j.oldest++ {
		if err := os.Remove(j.name(j.oldest)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("journal: %w", err))
		}
	}
	return errors.Join(errs...)
}

// SyncErr is the last fsync's error, nil once an fsync succeeds again.
func (j *Journal) SyncErr() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.syncErr
}

// syncLoop fsyncs the journal at most SyncDelay after an append.
func (j *Journal) syncLoop() {
	defer close(j.syncDone)
	for {
		select {
		case <-j.syncKick:
		case <-j.stop:
			j.sync()
			return
		}
		select {
		case <-time.After(SyncDelay):
		case <-j.stop:
		}
		j.sync()
	}
}

func (j *Journal) sync() {
	j.mu.Lock()
	f, olds, dirty := j.f, j.olds, j.dirty
	j.olds, j.dirty = nil, false
	j.mu.Unlock()
	var errs []error
	for _, o := range olds {
		errs = append(errs, o.Sync(), o.Close())
	}
	if dirty {
		errs = append(errs, f.Sync())
	}
	err := errors.Join(errs...)
	j.mu.Lock()
	j.syncErr = err
	if err != nil {
		j.dirty = true // try again SyncDelay later
	}
	j.mu.Unlock()
	if err != nil {
		select {
		case j.syncKick <- struct{}{}:
		default:
		}
	}
}

// Close fsyncs and closes the journal and gives up its ownership. When
// consumed is true every record is stored elsewhere and the files are
// deleted.
func (j *Journal) Close(consumed bool) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	started := j.f != nil
	j.mu.Unlock()
	var errs []error
	if started {
		close(j.stop)
		<-j.syncDone
		errs = append(errs, j.SyncErr(), j.f.Close())
		if consumed {
			errs = append(errs, j.Release(Pos{File: j.seq + 1}))
		}
	}
	errs = append(errs, j.lock.Close()) // closing the descriptor drops the flock
	return errors.Join(errs...)
}
