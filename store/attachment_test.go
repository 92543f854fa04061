package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// newAttachment stores an attachment of size random bytes on a fresh
// appointment of the clinic.
func newAttachment(t testing.TB, st *store.Store, c *storetest.Clinic, size int) (*store.Attachment, []byte) {
	t.Helper()
	ctx := context.Background()
	appt := &store.Appointment{PatientID: c.Patients[0].ID, WaitingRoomID: c.Room.ID,
		Start: time.Now().Add(48 * time.Hour).Truncate(time.Hour), Duration: 900}
	if err := st.CreateAppointment(ctx, c.Org.ID, appt); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(uint64(size), 7))
	for i := range data {
		data[i] = byte(rng.UintN(256))
	}
	a := &store.Attachment{AppointmentID: appt.ID, Title: "scan.pdf", MimeType: "application/pdf", Data: data}
	if err := st.CreateAttachment(ctx, c.Org.ID, a); err != nil {
		t.Fatal(err)
	}
	return a, data
}

// TestCopyAttachment: a download streamed a chunk per query is the stored
// file byte for byte, at and either side of the chunk size and at the
// 5 MB maximum; an attachment deleted before or while it is sent is an
// error, never a short file passed off as whole.
func TestCopyAttachment(t *testing.T) {
	st := storetest.Open(t)
	c := storetest.NewClinic(t, st, "att")
	ctx := context.Background()
	for _, size := range []int{1, 256<<10 - 1, 256 << 10, 256<<10 + 1, store.MaxAttachmentSize} {
		a, data := newAttachment(t, st, c, size)
		meta, err := st.AttachmentMeta(ctx, c.Org.ID, a.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if meta.Data != nil || meta.Size != size || meta.MimeType != "application/pdf" || meta.Title != "scan.pdf" {
			t.Errorf("size %d: meta %+v", size, meta)
		}
		var buf bytes.Buffer
		n, err := st.CopyAttachment(ctx, meta, &buf)
		if err != nil || n != int64(size) || !bytes.Equal(buf.Bytes(), data) {
			t.Errorf("size %d: copied %d bytes, err %v, equal %v", size, n, err, bytes.Equal(buf.Bytes(), data))
		}
	}

	a, _ := newAttachment(t, st, c, 600<<10)
	meta, _ := st.AttachmentMeta(ctx, c.Org.ID, a.UUID)
	// Deleted after the first chunk went out.
	w := &deleteAfterFirst{st: st, orgID: c.Org.ID, a: meta}
	n, err := st.CopyAttachment(ctx, meta, w)
	if !errors.Is(err, store.ErrNotFound) || n != 256<<10 {
		t.Errorf("deleted while sent: %d bytes, err %v", n, err)
	}
	if _, err := st.AttachmentMeta(ctx, c.Org.ID, a.UUID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("meta of a deleted attachment: %v", err)
	}
	if n, err := st.CopyAttachment(ctx, meta, io.Discard); err == nil || n != 0 {
		t.Errorf("copy of a deleted attachment: %d, %v", n, err)
	}
}

type deleteAfterFirst struct {
	st    *store.Store
	orgID int64
	a     *store.Attachment
	done  bool
}

func (d *deleteAfterFirst) Write(p []byte) (int, error) {
	if !d.done {
		d.done = true
		if err := d.st.DeleteAttachment(context.Background(), d.orgID, d.a.AppointmentID, d.a.UUID); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// BenchmarkAttachmentDownload: one 5 MB attachment sent to a writer, read
// whole (AttachmentData, as downloads did) and streamed (CopyAttachment);
// run with -benchmem: B/op is the Go heap a download takes.
func BenchmarkAttachmentDownload(b *testing.B) {
	st := storetest.Open(b)
	c := storetest.NewClinic(b, st, "bench")
	a, _ := newAttachment(b, st, c, store.MaxAttachmentSize)
	ctx := context.Background()
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			full, err := st.AttachmentData(ctx, c.Org.ID, a.UUID)
			if err != nil {
				b.Fatal(err)
			}
			io.Discard.Write(full.Data)
		}
	})
	b.Run("streamed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			meta, err := st.AttachmentMeta(ctx, c.Org.ID, a.UUID)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := st.CopyAttachment(ctx, meta, io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
