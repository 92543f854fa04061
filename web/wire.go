package web

import (
	"context"
	"net/http"

	"github.com/a-h/templ"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/ui/admin"
	"github.com/clinicbox/clinicbox/web/ui/notes"
)

// adminDevices is the instrument manager as the admin pages declare it
// (admin.Devices): pages do not import package devices.
type adminDevices struct {
	m  *devices.Manager // nil: the server runs no instruments
	st *store.Store
}

func (d adminDevices) State(orgID, deviceID int64) (admin.DeviceState, bool) {
	s, ok := d.m.State(orgID, deviceID)
	return admin.DeviceState(s), ok
}

func (d adminDevices) Reload() { d.m.Reload() }

func (d adminDevices) Ports() ([]admin.Port, error) {
	ps, err := devices.ListPorts()
	out := make([]admin.Port, len(ps))
	for i, p := range ps {
		out[i] = admin.Port(p)
	}
	return out, err
}

func (d adminDevices) Reingest(ctx context.Context, orgID, messageID int64) (*store.Ingestion, error) {
	return devices.Reingest(ctx, d.st, orgID, messageID)
}

func (d adminDevices) Transcript(raw []byte) string { return devices.Transcript(raw) }

// noteSection is the visit-note editor as the appointment page declares it
// (ui.Notes): the clinician pages do not import package notes.
type noteSection struct{ st *store.Store }

func (n noteSection) Section(ctx context.Context, r *http.Request, apptID int64) (templ.Component, error) {
	return notes.Section(ctx, n.st, r, apptID)
}

func (noteSection) Script() string { return notes.NoteScript }
