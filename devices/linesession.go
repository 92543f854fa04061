package devices

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/clinicbox/clinicbox/devices/line"
	"github.com/clinicbox/clinicbox/store"
)

// runLine reads one reading per text line until the port fails. Each line
// is stored, then ingested; line devices expect no acknowledgement.
func (r *runner) runLine(ctx context.Context, port io.ReadWriter) error {
	rd := line.NewReader(port, 0)
	for {
		l, err := rd.ReadLine()
		if errors.Is(err, line.ErrLineTooLong) {
			r.fail(err)
			continue
		}
		if err != nil {
			return err
		}
		m := &store.DeviceMessage{Direction: "in", Raw: []byte(l)}
		if err := r.save(ctx, m); err != nil {
			return err
		}
		in, err := ingestLine(context.WithoutCancel(ctx), r.m.st, &r.dev, m.Raw, m.ReceivedAt, r.loc)
		if err != nil {
			return fmt.Errorf("ingest message %d: %w", m.ID, err)
		}
		if err := r.record(ctx, m.ID, in); err != nil {
			return err
		}
	}
}
