package reports

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"golang.org/x/crypto/pbkdf2"
)

// ZipWriter writes a zip archive whose entries are deflated and encrypted
// with WinZip AES-256 (AE-2), which 7-Zip, WinZip and most archivers open
// with the password:
//
//   - keys: PBKDF2-HMAC-SHA1(password, 16-byte random salt, 1000 rounds)
//     gives 32 bytes of AES key, 32 bytes of HMAC key and a 2-byte password
//     verifier, stored after the salt;
//   - data: deflated, then AES-256 in CTR mode with a little-endian block
//     counter starting at 1;
//   - authentication: the first 10 bytes of HMAC-SHA1 over the encrypted
//     data; AE-2 stores CRC-32 as 0 (the HMAC replaces it).
//
// Plain data is never buffered: it is compressed and encrypted as it is
// written, and only the encrypted entry is held until the entry is closed
// (so that its local header can carry the final sizes).
type ZipWriter struct {
	w       io.Writer
	off     int64
	entries []zipEntry
	open    *entryWriter
	closed  bool
	now     time.Time
}

type zipEntry struct {
	name             string
	offset           int64
	compressed, size int64
	dosTime, dosDate uint16
}

// NewZipWriter starts an archive on w; its entries are dated now.
func NewZipWriter(w io.Writer, now time.Time) *ZipWriter { return &ZipWriter{w: w, now: now} }

const (
	aesKeyLen      = 32 // AES-256
	aesSaltLen     = 16 // for AES-256
	pbkdf2Rounds   = 1000
	authCodeLen    = 10
	methodAES      = 99
	methodDeflate  = 8
	versionAES     = 51 // 5.1: AES encryption
	aesExtraID     = 0x9901
	aesVendorAE2   = 2
	aesStrength256 = 3
)

// Create starts an encrypted entry named name; write its content and Close
// it before the next Create or Close of the archive.
func (z *ZipWriter) Create(name string, password []byte) (io.WriteCloser, error) {
	if z.closed {
		return nil, errors.New("zip: archive is closed")
	}
	if z.open != nil {
		return nil, errors.New("zip: previous entry is still open")
	}
	if len(password) == 0 {
		return nil, errors.New("zip: empty password")
	}
	if len(name) == 0 || len(name) > 0xffff {
		return nil, errors.New("zip: bad entry name")
	}
	salt := make([]byte, aesSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	keys := pbkdf2.Key(password, salt, pbkdf2Rounds, 2*aesKeyLen+2, sha1.New)
	block, err := aes.NewCipher(keys[:aesKeyLen])
	if err != nil {
		return nil, fmt.Errorf("zip: %w", err)
	}
	e := &entryWriter{z: z, name: name}
	e.enc.Write(salt)
	e.enc.Write(keys[2*aesKeyLen:]) // password verifier
	e.ctr = &ctrWriter{w: &e.enc, block: block, mac: hmac.New(sha1.New, keys[aesKeyLen:2*aesKeyLen])}
	e.fl, _ = flate.NewWriter(e.ctr, flate.DefaultCompression)
	z.open = e
	return e, nil
}

// Close writes the central directory. It does not close the underlying
// writer.
func (z *ZipWriter) Close() error {
	if z.open != nil {
		return errors.New("zip: an entry is still open")
	}
	if z.closed {
		return nil
	}
	z.closed = true
	var cd bytes.Buffer
	for _, e := range z.entries {
		le := binary.LittleEndian
		b := make([]byte, 46)
		le.PutUint32(b[0:], 0x02014b50)
		le.PutUint16(b[4:], versionAES) // made by: MS-DOS attributes, spec 5.1
		le.PutUint16(b[6:], versionAES)
		le.PutUint16(b[8:], 0x0001) // encrypted
		le.PutUint16(b[10:], methodAES)
		le.PutUint16(b[12:], e.dosTime)
		le.PutUint16(b[14:], e.dosDate)
		le.PutUint32(b[16:], 0) // CRC-32: none in AE-2
		le.PutUint32(b[20:], uint32(e.compressed))
		le.PutUint32(b[24:], uint32(e.size))
		le.PutUint16(b[28:], uint16(len(e.name)))
		le.PutUint16(b[30:], 11)
		// comment length, disk, internal and external attributes stay 0
		le.PutUint32(b[42:], uint32(e.offset))
		cd.Write(b)
		cd.WriteString(e.name)
		cd.Write(aesExtra())
	}
	eocd := make([]byte, 22)
	le := binary.LittleEndian
	le.PutUint32(eocd[0:], 0x06054b50)
	le.PutUint16(eocd[8:], uint16(len(z.entries)))
	le.PutUint16(eocd[10:], uint16(len(z.entries)))
	le.PutUint32(eocd[12:], uint32(cd.Len()))
	le.PutUint32(eocd[16:], uint32(z.off))
	cd.Write(eocd)
	_, err := z.w.Write(cd.Bytes())
	return err
}

// aesExtra is the AES extra field: AE-2, vendor "AE", AES-256, deflate.
func aesExtra() []byte {
	b := make([]byte, 11)
	le := binary.LittleEndian
	le.PutUint16(b[0:], aesExtraID)
	le.PutUint16(b[2:], 7)
	le.PutUint16(b[4:], aesVendorAE2)
	b[6], b[7] = 'A', 'E'
	b[8] = aesStrength256
	le.PutUint16(b[9:], methodDeflate)
	return b
}

// dosDateTime is t in the MS-DOS format of zip headers (local time fields,
// here taken from UTC).
func dosDateTime(t time.Time) (tm, dt uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	tm = uint16(t.Hour()<<11 | t.Minute()<<5 | t.Second()/2)
	dt = uint16((t.Year()-1980)<<9 | int(t.Month())<<5 | t.Day())
	return tm, dt
}

// entryWriter compresses and encrypts one entry's content.
type entryWriter struct {
	z    *ZipWriter
	name string
	fl   *flate.Writer
	ctr  *ctrWriter
	enc  bytes.Buffer // salt, verifier, encrypted data, then the auth code
	size int64
	err  error
}

func (e *entryWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.fl.Write(p)
	e.size += int64(n)
	if err != nil {
		e.err = err
	}
	return n, err
}

// Close finishes the entry and writes it (local header, encrypted data) to
// the archive.
func (e *entryWriter) Close() error {
	z := e.z
	if z.open != e {
		return errors.New("zip: entry already closed")
	}
	z.open = nil
	if e.err != nil {
		return e.err
	}
	if err := e.fl.Close(); err != nil {
		return err
	}
	e.enc.Write(e.ctr.mac.Sum(nil)[:authCodeLen])
	if e.size > 0xfffffffe || int64(e.enc.Len()) > 0xfffffffe || z.off > 0xfffffffe {
		return errors.New("zip: report too large (zip64 is not supported)")
	}
	tm, dt := dosDateTime(z.now)
	ent := zipEntry{name: e.name, offset: z.off, compressed: int64(e.enc.Len()), size: e.size, dosTime: tm, dosDate: dt}
	h := make([]byte, 30)
	le := binary.LittleEndian
	le.PutUint32(h[0:], 0x04034b50)
	le.PutUint16(h[4:], versionAES)
	le.PutUint16(h[6:], 0x0001) // encrypted
	le.PutUint16(h[8:], methodAES)
	le.PutUint16(h[10:], tm)
	le.PutUint16(h[12:], dt)
	le.PutUint32(h[14:], 0) // CRC-32: none in AE-2
	le.PutUint32(h[18:], uint32(ent.compressed))
	le.PutUint32(h[22:], uint32(ent.size))
	le.PutUint16(h[26:], uint16(len(e.name)))
	le.PutUint16(h[28:], 11)
	for _, part := range [][]byte{h, []byte(e.name), aesExtra(), e.enc.Bytes()} {
		n, err := z.w.Write(part)
		z.off += int64(n)
		if err != nil {
			return err
		}
	}
	z.entries = append(z.entries, ent)
	return nil
}

// ctrWriter encrypts with AES in WinZip's CTR mode (16-byte little-endian
// counter, starting at 1) and authenticates the ciphertext.
type ctrWriter struct {
	w       io.Writer
	block   cipher.Block
	mac     hash.Hash
	counter uint64
	stream  [aes.BlockSize]byte
	used    int // bytes of stream consumed
}

func (c *ctrWriter) Write(p []byte) (int, error) {
	out := make([]byte, len(p))
	for i := range p {
		if c.used == 0 || c.used == aes.BlockSize {
			c.counter++
			var ctr [aes.BlockSize]byte
			binary.LittleEndian.PutUint64(ctr[:8], c.counter)
			c.block.Encrypt(c.stream[:], ctr[:])
			c.used = 0
		}
		out[i] = p[i] ^ c.stream[c.used]
		c.used++
	}
	c.mac.Write(out)
	return c.w.Write(out)
}
