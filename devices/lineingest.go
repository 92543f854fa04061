package devices

import (
	"context"
	"errors"
	"time"

	"github.com/clinicbox/clinicbox/devices/line"
	"github.com/clinicbox/clinicbox/store"
)

// ingestLine turns one stored text line into an observation. Line devices
// (scales, thermometers) name no patient: the reading goes to the patient
// selected at the device's station, else to the unmatched queue. The
// device's options may set pattern (a regular expression with named groups
// code, value, unit, flags), code (when the line has none) and category.
func ingestLine(ctx context.Context, st *store.Store, dev *store.Device, raw []byte, received time.Time, loc *time.Location) (*store.Ingestion, error) {
	opts := dev.OptionMap()
	in := &store.Ingestion{Kind: "results"}
	p, err := line.NewParser(opts["pattern"])
	if err != nil {
		in.Status, in.Error = store.MessageFailed, err.Error()
		return in, nil
	}
	rd, err := p.Parse(string(raw))
	if errors.Is(err, line.ErrNoMatch) {
		in.Status, in.Kind, in.Error = store.MessageIgnored, "text", "not a reading"
		return in, nil
	}
	if err != nil {
		in.Status, in.Error = store.MessageFailed, err.Error()
		return in, nil
	}
	var refs []string
	pid, err := matchOrNote(ctx, st, dev, identifiers{}, &refs)
	if err != nil {
		return nil, err
	}
	if len(refs) > 0 {
		in.PatientRef = refs[0]
	}
	obs := store.Observation{DeviceID: dev.ID, PatientID: pid, Source: "serial", Category: opts["category"],
		CodeSystem: "local", Code: firstNonEmpty(rd.Code, opts["code"], "reading"), Value: rd.Value, Unit: rd.Unit,
		Flags: rd.Flags, Instrument: dev.Name}
	if !received.IsZero() {
		obs.MeasuredAt = received
		obs.MeasuredAtText = received.In(loc).Format(time.RFC3339)
	}
	in.PatientID = pid
	in.Observations = []store.Observation{obs}
	in.Status = store.MessageIngested
	return in, nil
}
