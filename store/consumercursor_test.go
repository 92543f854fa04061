package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/clinicbox/clinicbox/store"
)

// TestConsumerCursorStoresLazily: skips move a consumer's cursor in memory
// and store it only when it trails by CursorLagEvents or CursorLagAge, or
// on Flush; a write with output (Wrote) counts as stored.
func TestConsumerCursorStoresLazily(t *testing.T) {
	t.Parallel()
	type step struct {
		skip    int64         // Skip(through) with this through (0: none)
		wrote   int64         // Wrote(through) (0: none)
		advance time.Duration // move the clock first
		flush   bool
		// after the step:
		wantStored int64 // the cursor row
		wantWrites uint64
	}
	tests := []struct {
		name  string
		start int64 // stored before OpenCursor
		steps []step
	}{
		{"skips below the lag write nothing", 0, []step{
			{skip: 10, wantStored: 0},
			{skip: 500, wantStored: 0},
			{skip: store.CursorLagEvents - 1, wantStored: 0},
			{skip: store.CursorLagEvents - 1, wantStored: 0}, // an idle pass
		}},
		{"a skip past the lag stores the position", 40, []step{
			{skip: 41, wantStored: 40},
			{skip: 40 + store.CursorLagEvents, wantStored: 40 + store.CursorLagEvents, wantWrites: 1},
			{skip: 41 + store.CursorLagEvents, wantStored: 40 + store.CursorLagEvents, wantWrites: 1},
		}},
		{"an idle pass after the age stores the position", 0, []step{
			{skip: 7, wantStored: 0},
			{advance: store.CursorLagAge - time.Second, skip: 7, wantStored: 0},
			{advance: time.Second, skip: 7, wantStored: 7, wantWrites: 1},
			{advance: time.Hour, skip: 7, wantStored: 7, wantWrites: 1}, // nothing new: no write
		}},
		{"a write with output counts as stored", 0, []step{
			{skip: 900, wantStored: 0},
			{wrote: 950, wantStored: 950}, // stored by the test as by the output write; not counted
			{skip: 951 + store.CursorLagEvents - 2, wantStored: 950},
			{skip: 950 + store.CursorLagEvents, wantStored: 950 + store.CursorLagEvents, wantWrites: 1},
		}},
		{"flush stores what trails, once", 3, []step{
			{skip: 9, wantStored: 3},
			{flush: true, wantStored: 9, wantWrites: 1},
			{flush: true, wantStored: 9, wantWrites: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, clock := newStore(t)
			const consumer = "test-consumer"
			if tt.start > 0 {
				if err := st.SetCursor(ctx, consumer, tt.start); err != nil {
					t.Fatal(err)
				}
			}
			cur, err := st.OpenCursor(ctx, consumer)
			if err != nil {
				t.Fatal(err)
			}
			if cur.Position() != tt.start || cur.Stored() != tt.start {
				t.Fatalf("opened at %d (stored %d), want %d", cur.Position(), cur.Stored(), tt.start)
			}
			base := st.WritesRun()
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				if s.wrote > 0 {
					// What EnqueueDeliveries and the like do with their output.
					if err := st.SetCursor(ctx, consumer, s.wrote); err != nil {
						t.Fatal(err)
					}
					base++
					cur.Wrote(s.wrote)
				}
				if s.skip > 0 {
					if err := cur.Skip(ctx, s.skip); err != nil {
						t.Fatal(err)
					}
				}
				if s.flush {
					if err := cur.Flush(ctx); err != nil {
						t.Fatal(err)
					}
				}
				stored, err := st.Cursor(ctx, consumer)
				if err != nil {
					t.Fatal(err)
				}
				if stored != s.wantStored || cur.Stored() != s.wantStored {
					t.Errorf("step %d: cursor row %d, Stored() %d, want %d", i, stored, cur.Stored(), s.wantStored)
				}
				if got := st.WritesRun() - base; got != s.wantWrites {
					t.Errorf("step %d: %d writes, want %d", i, got, s.wantWrites)
				}
			}
			// A restart starts from the stored cursor.
			again, err := st.OpenCursor(ctx, consumer)
			if err != nil {
				t.Fatal(err)
			}
			if again.Position() != cur.Stored() {
				t.Errorf("reopened at %d, want the stored %d", again.Position(), cur.Stored())
			}
		})
	}
}
