package store

import (
	"context"
	"log/slog"
	"time"
)

// Sweeper is what sweeps erasures (both backends).
type Sweeper interface {
	SweepErasures(ctx context.Context) (bool, error)
}

// SweepFor runs sweep steps until none is left or d has passed, and
// reports whether none is left.
func SweepFor(ctx context.Context, db Sweeper, d time.Duration) (bool, error) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		worked, err := db.SweepErasures(ctx)
		if err != nil || !worked {
			return !worked, err
		}
	}
	return false, nil
}

// RunErasureSweeps sweeps erasures until ctx ends, looking for new ones
// every idle; lrs serve runs it on every node (a PostgreSQL node skips the
// sweeps another is stepping).
func RunErasureSweeps(ctx context.Context, db Sweeper, idle time.Duration) {
	wait := idle
	for {
		worked, err := db.SweepErasures(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			slog.Warn("erasure sweep", "err", err, "retry", wait)
			wait = min(2*wait, time.Minute)
		case worked:
			wait = idle
			continue
		default:
			wait = idle
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
