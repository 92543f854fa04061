package devices

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// ingestStored parses a stored message of a device and records the
// observations it carries together with the message's new status, in one
// transaction. A message that cannot be parsed is marked failed (nothing is
// dropped: its raw bytes stay, and an admin can re-run ingestion).
func ingestStored(ctx context.Context, st *store.Store, dev *store.Device, msg *store.DeviceMessage, loc *time.Location) (*store.Ingestion, error) {
	in, err := parseStored(ctx, st, dev, msg, loc)
	if err != nil {
		return nil, err
	}
	if err := st.RecordIngestion(ctx, dev.OrgID, msg.ID, in); err != nil {
		var ve *store.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		// The message parsed but holds something the model refuses (a
		// result without a code, a value too long): keep it as failed.
		failed := &store.Ingestion{Kind: in.Kind, Status: store.MessageFailed, Error: err.Error(), PatientRef: in.PatientRef}
		if err := st.RecordIngestion(ctx, dev.OrgID, msg.ID, failed); err != nil {
			return nil, err
		}
		return failed, nil
	}
	return in, nil
}

// parseStored turns a stored message into an Ingestion for its protocol.
func parseStored(ctx context.Context, st *store.Store, dev *store.Device, msg *store.DeviceMessage, loc *time.Location) (*store.Ingestion, error) {
	switch msg.Protocol {
	case store.ProtocolASTM:
		in, _, err := ingestASTM(ctx, st, dev, msg.Raw, loc)
		return in, err
	case store.ProtocolHL7:
		return ingestHL7(ctx, st, dev, msg.Raw, loc)
	case store.ProtocolLine:
		return ingestLine(ctx, st, dev, msg.Raw, msg.ReceivedAt, loc)
	}
	return &store.Ingestion{Status: store.MessageFailed, Error: fmt.Sprintf("unknown protocol %q", msg.Protocol)}, nil
}

// Reingest runs ingestion again on a stored message (after a parser fix, or
// once the patient exists): the observations of the earlier run are
// replaced in the same transaction. Host queries are not answered again.
func Reingest(ctx context.Context, st *store.Store, orgID, messageID int64) (*store.Ingestion, error) {
	msg, err := st.DeviceMessage(ctx, orgID, messageID)
	if err != nil {
		return nil, err
	}
	if msg.Direction != "in" {
		return nil, store.Invalid("message", "only messages received from a device can be ingested")
	}
	dev, err := st.Device(ctx, orgID, msg.DeviceID)
	if err != nil {
		return nil, err
	}
	return ingestStored(ctx, st, dev, msg, time.Local)
}
