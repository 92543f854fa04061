package web

import (
	"context"

	"github.com/clinicbox/clinicbox/devices"
	"github.com/clinicbox/clinicbox/store"
	"github.com/clinicbox/clinicbox/web/ui/station"
)

// stationDevices is the instrument manager as the station pages declare
// it (station.Devices): pages do not import package devices.
type stationDevices struct {
	m  *devices.Manager // nil: the server runs no instruments
	st *store.Store
}

func (d stationDevices) State(orgID, deviceID int64) (station.DeviceState, bool) {
	s, ok := d.m.State(orgID, deviceID)
	return station.DeviceState(s), ok
}

func (d stationDevices) Reload() { d.m.Reload() }

func (d stationDevices) Ports() ([]station.Port, error) {
	ps, err := devices.ListPorts()
	out := make([]station.Port, len(ps))
	for i, p := range ps {
		out[i] = station.Port(p)
	}
	return out, err
}

func (d stationDevices) Reingest(ctx context.Context, orgID, messageID int64) (*store.Ingestion, error) {
	return devices.Reingest(ctx, d.st, orgID, messageID)
}

func (d stationDevices) Transcript(raw []byte) string { return devices.Transcript(raw) }
