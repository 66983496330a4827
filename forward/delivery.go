package forward

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
)

// errStop ends a delivery: the lease is lost, or the forwarder was paused
// or deleted.
var errStop = errors.New("delivery stops")

// delivery is one forwarder delivered by this node. The events table is
// its queue: it reads after its position with the read API's ascending
// page (which stops below transactions that may still commit), sends, and
// only then writes the new position.
type delivery struct {
	w          *Worker
	f          store.Forwarder
	creds      Credentials
	credsErr   error
	filter     store.EventFilter
	params     url.Values
	pos        store.Position // acknowledged (or skipped by the filter) up to here
	wake       chan struct{}
	leaseUntil time.Time
	attempts   int
	replayAt   time.Time // when to look for replay requests next
}

// settings takes f's settings (at the start and after each renewal).
func (d *delivery) settings(f store.Forwarder) {
	first := d.f.ID == 0
	d.f = f
	d.creds, d.credsErr = d.w.seal.Open(f.Credentials)
	filter, params, err := filterOf(f.Filter, f.TenantID)
	if err == nil {
		d.filter, d.params = filter, params
	}
	if first {
		d.pos = f.Position
	}
}

func (d *delivery) run(ctx context.Context) {
	defer func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = d.w.st.ReleaseForwarder(c, d.f.ID, d.w.cfg.Owner)
	}()
	log := d.w.log.With(slog.Int64("forwarder", d.f.ID))
	for ctx.Err() == nil {
		err := d.replays(ctx)
		var evs []store.StoredEvent
		var end store.Position
		if err == nil {
			evs, end, err = d.next(ctx)
		}
		if err == nil {
			err = d.deliverAll(ctx, evs, end)
		}
		switch {
		case errors.Is(err, errStop) || ctx.Err() != nil:
			return
		case err != nil:
			log.Warn("forwarder: store failed; retrying", slog.Any("err", err))
			if d.sleep(ctx, time.Second) != nil {
				return
			}
		}
	}
}

// renew renews the lease when a third of it is gone, taking new settings;
// errStop if the lease is lost or the forwarder paused or deleted.
func (d *delivery) renew(ctx context.Context) error {
	if time.Now().Before(d.renewAt()) {
		return nil
	}
	f, held, err := d.w.st.LeaseForwarder(ctx, d.f.ID, d.w.cfg.Owner, d.w.cfg.Lease)
	if err != nil {
		if time.Now().After(d.leaseUntil) {
			return errStop // another node may deliver now
		}
		return nil // try again at the next wait
	}
	if !held {
		return errStop
	}
	d.leaseUntil = time.Now().Add(d.w.cfg.Lease)
	d.settings(f)
	return nil
}

func (d *delivery) renewAt() time.Time { return d.leaseUntil.Add(-2 * d.w.cfg.Lease / 3) }

// wait returns at until, on a commit, or when the lease needs renewing.
func (d *delivery) wait(ctx context.Context, until time.Time) error {
	t := time.NewTimer(time.Until(minTime(until, d.renewAt())))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-d.wake:
	case <-t.C:
	}
	return d.renew(ctx)
}

// sleep waits for dur whatever commits, renewing the lease.
func (d *delivery) sleep(ctx context.Context, dur time.Duration) error {
	end := time.Now().Add(dur)
	for time.Now().Before(end) {
		t := time.NewTimer(time.Until(minTime(end, d.renewAt())))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err := d.renew(ctx); err != nil {
			return err
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// next reads the next batch after the position: a full one at once, else
// what came within the forwarder's max wait of the first event seen. end
// is the position to write once the batch is acknowledged: past its last
// event up to events the filter skips.
func (d *delivery) next(ctx context.Context) ([]store.StoredEvent, store.Position, error) {
	var since time.Time // when the first event of a partial batch was seen
	for {
		// The head, read first, is below the horizon: every event up to it
		// has committed, so a page shorter than asked holds every selected
		// event up to it, and the position may pass what the filter skips.
		head, err := d.w.st.StreamHead(ctx, d.f.TenantID)
		if err != nil {
			return nil, store.Position{}, err
		}
		page, err := d.w.st.ListEvents(ctx, d.filter, &d.pos, true, d.f.Batch)
		if err != nil {
			return nil, store.Position{}, err
		}
		end := d.pos
		if len(page) > 0 {
			end = page[len(page)-1].Position
		}
		if len(page) < d.f.Batch && head.After(end) {
			end = head
		}
		now := time.Now()
		if len(page) > 0 && since.IsZero() {
			since = now
		}
		if len(page) == d.f.Batch || (len(page) > 0 && now.Sub(since) >= d.f.MaxWait) {
			return page, end, nil
		}
		until := now.Add(d.w.cfg.Lease / 3) // a look now and then: commits of other processes on SQLite, a lost notification
		if len(page) > 0 {
			until = since.Add(d.f.MaxWait)
		} else if end.After(d.pos) {
			if err := d.advance(ctx, store.ForwardProgress{Position: end}); err != nil {
				return nil, store.Position{}, err
			}
		}
		if err := d.replays(ctx); err != nil { // asked while nothing new comes
			return nil, store.Position{}, err
		}
		if err := d.wait(ctx, minTime(until, d.replayAt)); err != nil {
			return nil, store.Position{}, err
		}
		if len(page) > 0 {
			// Commits come often under load: look again at most every 20 ms.
			if err := d.sleep(ctx, min(20*time.Millisecond, time.Until(until))); err != nil {
				return nil, store.Position{}, err
			}
		}
	}
}

// deliverAll delivers a batch: for a caliper forwarder one envelope per
// Caliper version in it, in order.
func (d *delivery) deliverAll(ctx context.Context, evs []store.StoredEvent, end store.Position) error {
	parts := [][]store.StoredEvent{evs}
	if d.f.Kind == store.ForwardCaliper {
		parts = runs(evs)
	}
	before := d.pos
	for i, p := range parts {
		pEnd := p[len(p)-1].Position
		if i == len(parts)-1 {
			pEnd = end
		}
		if err := d.deliver(ctx, p, before, pEnd); err != nil {
			return err
		}
		before = pEnd
	}
	return nil
}

// deliver sends evs (the events after before) until the receiver takes
// them, then writes end as the position. A batch refused for good (a 4xx
// other than 408 and 429) is halved until the refused events are found:
// each is parked as a dead letter (or, with on-reject block, retried).
func (d *delivery) deliver(ctx context.Context, evs []store.StoredEvent, before, end store.Position) error {
	for {
		var a answer
		if d.credsErr != nil {
			a = answer{err: d.credsErr}
		} else {
			a = d.send(ctx, evs, query.ForwardCursor(d.params, d.f.TenantID, end))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch a.outcome() {
		case delivered:
			d.attempts = 0
			return d.advance(ctx, store.ForwardProgress{Position: end, Delivered: len(evs), Success: true})
		case refused:
			if len(evs) > 1 {
				mid := len(evs) / 2
				if err := d.deliver(ctx, evs[:mid], before, evs[mid-1].Position); err != nil {
					return err
				}
				return d.deliver(ctx, evs[mid:], evs[mid-1].Position, end)
			}
			if d.f.OnReject != store.RejectBlock {
				d.attempts = 0
				d.w.log.Warn("forwarder: event refused; parked as a dead letter", slog.Int64("forwarder", d.f.ID),
					slog.String("event", evs[0].ID.String()), slog.Int("status", a.status))
				return d.advance(ctx, store.ForwardProgress{Position: end, DeadLetter: &store.DeadLetter{
					After: before, Last: evs[0].Position, Events: 1, Status: a.status, Response: a.body}})
			}
		}
		if err := d.fail(ctx, a); err != nil {
			return err
		}
	}
}

// fail records a failed attempt and waits: exponential backoff with
// jitter, or the receiver's Retry-After if longer.
func (d *delivery) fail(ctx context.Context, a answer) error {
	d.attempts++
	until := time.Now().Add(d.w.cfg.Lease)
	if err := d.w.st.FailForwarder(ctx, d.f.ID, d.w.cfg.Owner, a.String(), until); errors.Is(err, store.ErrLeaseLost) {
		return errStop
	} else if err == nil {
		d.leaseUntil = until
	}
	wait := d.w.cfg.MinBackoff << min(d.attempts-1, 20)
	wait = min(wait, d.w.cfg.MaxBackoff)
	wait = wait/2 + rand.N(wait/2+1) // jitter: nodes retrying at once spread out
	if a.retryAfter > wait {
		wait = a.retryAfter
	}
	d.w.log.Info("forwarder: attempt failed; retrying", slog.Int64("forwarder", d.f.ID), slog.Int("attempts", d.attempts),
		slog.String("error", a.String()), slog.Duration("retry_in", wait))
	return d.sleep(ctx, wait)
}

// advance writes the position (and counts, a dead letter) once the
// receiver acknowledged, retrying a failing store: the batch was taken.
func (d *delivery) advance(ctx context.Context, p store.ForwardProgress) error {
	for {
		now := time.Now()
		p.At, p.LeaseUntil = now, now.Add(d.w.cfg.Lease)
		err := d.w.st.AdvanceForwarder(ctx, d.f.ID, d.w.cfg.Owner, p)
		switch {
		case err == nil:
			d.pos, d.leaseUntil = p.Position, p.LeaseUntil
			return nil
		case errors.Is(err, store.ErrLeaseLost):
			return errStop
		case ctx.Err() != nil:
			return ctx.Err()
		}
		d.w.log.Warn("forwarder: writing the position failed; retrying", slog.Int64("forwarder", d.f.ID), slog.Any("err", err))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
