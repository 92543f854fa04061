package devices_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/store/storetest"
)

// env is a store with one clinic, a patient, and a running Manager.
type env struct {
	st      *store.Store
	org     *store.Org
	patient *store.Patient
	mgr     *devices.Manager
	ctx     context.Context
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := storetest.Open(t) // closed after the manager has stopped
	e := &env{st: st, ctx: ctx, org: storetest.Org(t, st, "Clinic", "clinic")}
	e.patient = &store.Patient{MRN: "PAT-100234", NationalID: "NI-7781234", Active: true,
		Names: []store.HumanName{{FirstName: "Erika", LastName: "Mustermann"}}, BirthDate: "1978-05-12", Gender: "female"}
	if err := st.CreatePatient(ctx, e.org.ID, e.patient); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e.mgr = devices.NewManager(st, devices.Options{Log: log, PollInterval: 50 * time.Millisecond,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	var wg sync.WaitGroup
	wg.Go(func() { e.mgr.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return e
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// link re-points a symlink (the configured device path) at target.
func link(t *testing.T, linkPath, target string) {
	t.Helper()
	tmp := linkPath + ".tmp"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, linkPath); err != nil {
		t.Fatal(err)
	}
}

func (e *env) addDevice(t testing.TB, d *store.Device) *store.Device {
	t.Helper()
	if err := e.st.CreateDevice(e.ctx, e.org.ID, d); err != nil {
		t.Fatal(err)
	}
	e.mgr.Reload()
	waitFor(t, "device connected", func() bool {
		s, ok := e.mgr.State(e.org.ID, d.ID)
		return ok && s.Connected
	})
	return d
}

func (e *env) observations(t testing.TB, f store.ObservationFilter) []store.Observation {
	t.Helper()
	obs, err := e.st.Observations(e.ctx, e.org.ID, f)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func (e *env) messages(t *testing.T, deviceID int64) []store.DeviceMessage {
	t.Helper()
	ms, err := e.st.DeviceMessages(e.ctx, e.org.ID, store.DeviceMessageFilter{DeviceID: deviceID, Oldest: true, WithRaw: true})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// pullablePTY is a pty pair whose instrument end can really be pulled out:
// the master is put in non-blocking mode so the runtime poller owns it,
// and Close interrupts a read in progress (on a blocking *os.File, Close
// waits for the pending read to return, so the "cable" would stay in).
func pullablePTY(t *testing.T) (master *os.File, path string) {
	t.Helper()
	m, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	tio.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	tio.Oflag &^= unix.OPOST
	tio.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	if err := unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, tio); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Dup(int(m.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	master = os.NewFile(uintptr(fd), "ptmx")
	path = tty.Name()
	tty.Close() // the pts lives as long as the master: closing it is pulling the cable
	t.Cleanup(func() { master.Close() })
	return master, path
}
