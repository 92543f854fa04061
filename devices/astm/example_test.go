package astm_test

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.bug.st/serial"

	"github.com/clinicbox/clinicbox/devices/astm"
)

// A receiver loop for an analyser that stays connected: receive, store
// the raw bytes, parse, answer host queries on the same link. When the
// port fails, Receive returns a non-abort error and the caller reopens the
// port and builds a new Link.
func ExampleLink() {
	ctx := context.Background()
	port, err := serial.Open("/dev/ttyUSB0", &serial.Mode{BaudRate: 9600})
	if err != nil {
		slog.Error("open port", "err", err)
		return
	}
	defer port.Close()
	link := astm.NewLink(port, astm.Config{
		// Store the raw bytes before the last frame is acknowledged.
		Commit: func(raw []byte) error { return nil /* store raw */ },
	})
	defer link.Close()

	for {
		tr, err := link.Receive(ctx)
		var abort *astm.AbortError
		switch {
		case errors.As(err, &abort):
			slog.Warn("message discarded", "err", err, "bytes", len(abort.Raw))
			continue // the link is fine; the instrument will resend
		case err != nil:
			slog.Error("port lost", "err", err)
			return // reopen the port and start again
		}
		msgs, err := astm.ParseMessages(tr.Text)
		if err != nil {
			slog.Warn("unparseable message kept raw", "err", err)
			continue
		}
		for _, m := range msgs {
			if len(m.Queries) == 0 {
				continue // results: hand m to ingestion
			}
			answer := &astm.Message{
				Delimiters: m.Delimiters,
				Header:     astm.Header{SenderName: "CLINICBOX", Timestamp: time.Now().Format("20060102150405")},
				// Patients and orders for m.Queries[0].SpecimenID() go here.
			}
			text, err := astm.Encode(answer)
			if err == nil {
				err = link.Send(ctx, text)
			}
			if err != nil {
				slog.Warn("query answer not delivered", "err", err)
			}
		}
	}
}
