package forward

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// replays sends again the dead letters whose replay was asked (POST
// …/dead-letters/{id}/replay), looking for requests every third of a lease.
func (d *delivery) replays(ctx context.Context) error {
	if time.Now().Before(d.replayAt) {
		return nil
	}
	d.replayAt = time.Now().Add(d.w.cfg.Lease / 3)
	dls, err := d.w.st.DeadLetters(ctx, d.f.TenantID, d.f.ID)
	if err != nil {
		return err
	}
	for _, dl := range dls {
		if dl.ReplayPending() {
			if err := d.replay(ctx, dl); err != nil {
				return err
			}
		}
	}
	return nil
}

// replay sends the events of dl (after After up to Last, as the filter
// selects them) and records the outcome: delivered, or refused again with
// the new answer. A receiver that fails now is tried at the next look.
func (d *delivery) replay(ctx context.Context, dl store.DeadLetter) error {
	pos := dl.After
	for {
		page, err := d.w.st.ListEvents(ctx, d.filter, &pos, true, d.f.Batch)
		if err != nil {
			return err
		}
		n := 0
		for n < len(page) && !page[n].Position.After(dl.Last) {
			n++
		}
		parts := [][]store.StoredEvent{page[:n]}
		if d.f.Kind == store.ForwardCaliper {
			parts = runs(page[:n])
		}
		for _, p := range parts {
			if len(p) == 0 {
				continue
			}
			a := answer{err: d.credsErr}
			if d.credsErr == nil {
				a = d.send(ctx, p, "")
			}
			switch a.outcome() {
			case refused:
				return d.w.st.FinishReplay(ctx, dl.ID, false, a.status, a.body)
			case retry:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				err := d.w.st.FailForwarder(ctx, d.f.ID, d.w.cfg.Owner, "replay of dead letter: "+a.String(), time.Now().Add(d.w.cfg.Lease))
				if errors.Is(err, store.ErrLeaseLost) {
					return errStop
				}
				return nil
			}
		}
		if n < len(page) || len(page) < d.f.Batch {
			break
		}
		pos = page[n-1].Position
	}
	d.w.log.Info("forwarder: dead letter replayed", slog.Int64("forwarder", d.f.ID), slog.Int64("dead_letter", dl.ID))
	return d.w.st.FinishReplay(ctx, dl.ID, true, 0, "")
}
