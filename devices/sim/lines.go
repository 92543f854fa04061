package sim

import (
	"bytes"
	"context"
)

// sendLines prints each line of text with the configured line ending,
// pausing LineInterval between lines.
func (in *Instrument) sendLines(ctx context.Context, text []byte) error {
	lines := bytes.FieldsFunc(text, func(r rune) bool { return r == '\r' || r == '\n' })
	for i, l := range lines {
		if i > 0 && in.cfg.LineInterval > 0 {
			if err := in.wait(ctx, in.cfg.LineInterval); err != nil {
				return err
			}
		}
		if err := in.write(append(bytes.Clone(l), in.cfg.LineEnding...)); err != nil {
			return err
		}
	}
	return nil
}
