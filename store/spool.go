package store

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// A Spool holds an upload's bytes on disk while the request is read, so a
// large file never sits whole in memory: the face writes the decoded bytes
// into it as they arrive (from a raw body or a base64 string inside JSON),
// and the store copies it into the database in chunks within the write
// transaction. Reading the network inside the transaction would hold the one
// writer for as long as the slowest client takes to send; reading from disk
// takes as long as the disk.
//
// The spool counts and hashes what it is given and refuses more than its
// limit (ErrSpoolFull). Close removes the file; a spool left by a crash is
// removed at the next Open.
type Spool struct {
	f     *os.File
	w     *bufio.Writer
	h     hash.Hash
	size  int64
	limit int64
	head  []byte // the first bytes, for sniffing the content type
}

// ErrSpoolFull is a spool given more than its limit.
var ErrSpoolFull = errors.New("file is larger than its limit")

// spoolChunk is the size of one stored chunk of a large file (and of the
// spool's read and write buffers).
const spoolChunk = 256 << 10

// spoolDir is where uploads are spooled: beside the database, so on the
// same disk and never on a memory file system.
func (s *Store) spoolDir() string { return filepath.Join(filepath.Dir(s.Path()), "spool") }

// cleanSpools removes spool files left by a crash.
func (s *Store) cleanSpools() {
	ents, _ := os.ReadDir(s.spoolDir())
	for _, e := range ents {
		os.Remove(filepath.Join(s.spoolDir(), e.Name()))
	}
}

// NewSpool returns an empty spool that accepts at most limit bytes.
func (s *Store) NewSpool(limit int64) (*Spool, error) {
	if err := os.MkdirAll(s.spoolDir(), 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	f, err := os.CreateTemp(s.spoolDir(), "upload-*")
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return &Spool{f: f, w: bufio.NewWriterSize(f, 64<<10), h: sha256.New(), limit: limit}, nil
}

// Write appends p; past the limit it writes nothing and answers ErrSpoolFull.
func (sp *Spool) Write(p []byte) (int, error) {
	if sp.size+int64(len(p)) > sp.limit {
		return 0, ErrSpoolFull
	}
	if len(sp.head) < 512 {
		sp.head = append(sp.head, p[:min(len(p), 512-len(sp.head))]...)
	}
	n, err := sp.w.Write(p)
	sp.h.Write(p[:n])
	sp.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("spool: %w", err)
	}
	return n, nil
}

// ReadFrom copies r into the spool (io.Copy uses it): up to the limit, then
// ErrSpoolFull.
func (sp *Spool) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 32<<10)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := sp.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Size is the number of bytes written.
func (sp *Spool) Size() int64 { return sp.size }

// SHA256 is the hex SHA-256 of the bytes written.
func (sp *Spool) SHA256() string { return hex.EncodeToString(sp.h.Sum(nil)) }

// Head is the first (up to 512) bytes written.
func (sp *Spool) Head() []byte { return sp.head }

// reader rewinds the spool and returns its content from the start (a write
// may run more than once when its group commit is retried).
func (sp *Spool) reader() (io.Reader, error) {
	if err := sp.w.Flush(); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return io.LimitReader(sp.f, sp.size), nil
}

// Close removes the spool's file.
func (sp *Spool) Close() error {
	if sp == nil || sp.f == nil {
		return nil
	}
	name := sp.f.Name()
	err := sp.f.Close()
	sp.f = nil
	return errors.Join(err, os.Remove(name))
}
