package store

import (
	"context"
	"time"
)

// A durable outbox consumer (the telehealth and POCT webhook workers, the
// LIS worker) stores its cursor in the same write as what it derived from
// the events (setCursor), so that a crash neither loses nor repeats what
// it produced. Most groups of events concern a given consumer not at all:
// a patient:created is never a POCT result. Skipping such an event
// produces nothing, so reading it again after a crash produces nothing
// again, and the stored cursor need not follow a skip at once. Writing it
// after every group of writes cost each consumer a write (and an fsync of
// its own) per group, for nothing: a third of what made patient creates
// slower (BENCHMARKS.md, issue 8). A ConsumerCursor therefore keeps the
// position in memory and stores it only when it has got far ahead of the
// stored one (CursorLagEvents events, or CursorLagAge since the last
// store), or when the consumer stops, which bounds what a restart reads
// again. A write that produces output still stores the cursor with it.
//
// What a re-read after a crash sees is the consumer's configuration as it
// is then (which webhooks subscribe, which LIS destinations exist), as for
// any consumer catching up; the webhooks' own rule (a webhook hears only
// what happened after it was created) holds on a re-read too.

// CursorLagEvents and CursorLagAge bound how far a consumer's stored
// cursor may trail the events it has skipped.
const (
	CursorLagEvents = 1000
	CursorLagAge    = 30 * time.Second
)

// ConsumerCursor is a durable consumer's position in the outbox: the
// stored one and, ahead of it, the events skipped since. One goroutine
// (the consumer's) uses it.
type ConsumerCursor struct {
	st       *Store
	consumer string
	pos      int64 // every event up to here is dealt with
	stored   int64 // the cursor row
	storedAt time.Time
}

// OpenCursor reads a consumer's stored cursor.
func (s *Store) OpenCursor(ctx context.Context, consumer string) (*ConsumerCursor, error) {
	id, err := s.Cursor(ctx, consumer)
	if err != nil {
		return nil, err
	}
	return &ConsumerCursor{st: s, consumer: consumer, pos: id, stored: id, storedAt: s.Now()}, nil
}

// Position is the last event dealt with: read the outbox after it.
func (c *ConsumerCursor) Position() int64 { return c.pos }

// Stored is the cursor as stored (what a restart starts from).
func (c *ConsumerCursor) Stored() int64 { return c.stored }

// Wrote records a write of the consumer's that stored its cursor at
// through together with its output (EnqueueDeliveries,
// QueuePoctDeliveries, QueueLISMessages).
func (c *ConsumerCursor) Wrote(through int64) {
	c.pos = max(c.pos, through)
	c.stored = max(c.stored, through)
	c.storedAt = c.st.Now()
}

// Skip moves the position past events that produced nothing (through may
// be the position itself: an idle pass) and stores it when it trails by
// more than CursorLagEvents or CursorLagAge.
func (c *ConsumerCursor) Skip(ctx context.Context, through int64) error {
	c.pos = max(c.pos, through)
	if c.pos == c.stored || (c.pos-c.stored < CursorLagEvents && c.st.Now().Sub(c.storedAt) < CursorLagAge) {
		return nil
	}
	return c.Flush(ctx)
}

// Flush stores the position if it is ahead of the stored cursor (the
// consumer stops).
func (c *ConsumerCursor) Flush(ctx context.Context) error {
	if c.pos <= c.stored {
		return nil
	}
	if err := c.st.SetCursor(ctx, c.consumer, c.pos); err != nil {
		return err
	}
	c.Wrote(c.pos)
	return nil
}
