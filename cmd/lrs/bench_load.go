package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/synth"
	"github.com/lrs-dev/lrs/store"
)

// The synthetic dataset of lrs bench query: written through SaveEnvelope, or
// with COPY where the store has it.

// saveEvents writes n synthetic events through the store's own SaveEnvelope,
// 5,000 to an envelope: the embedded store has no COPY.
func saveEvents(ctx context.Context, db store.Backend, tenantID int64, pop synth.Population, n int, seed uint64, stderr io.Writer) error {
	const batch = 5000
	for b := 0; b*batch < n; b++ {
		size := min(batch, n-b*batch)
		env := syntheticEnvelope(tenantID, pop, seed+uint64(b)*7919, size)
		if _, err := db.SaveEnvelope(ctx, env); err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if done := (b + 1) * batch; done%500_000 == 0 {
			fmt.Fprintf(stderr, "loaded %d of %d\n", done, n)
		}
	}
	return nil
}

// eventCopier is a store that can bulk-load events with COPY (PostgreSQL).
type eventCopier interface {
	CopyEvents(ctx context.Context, env *store.Envelope) error
}

// loadEvents writes n synthetic events with COPY, in batches of 5,000 (one
// envelope row each), from two workers.
func loadEvents(ctx context.Context, db eventCopier, tenantID int64, pop synth.Population, n int, seed uint64, stderr io.Writer) error {
	const batch = 5000
	var (
		next   atomic.Int64
		loaded atomic.Int64
		wg     sync.WaitGroup
		errc   = make(chan error, 2)
	)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := next.Add(1) - 1
				if int(b)*batch >= n {
					return
				}
				size := min(batch, n-int(b)*batch)
				if err := db.CopyEvents(ctx, syntheticEnvelope(tenantID, pop, seed+uint64(b)*7919, size)); err != nil {
					errc <- fmt.Errorf("load: %w", err)
					return
				}
				if done := loaded.Add(int64(size)); done/500_000 != (done-int64(size))/500_000 {
					fmt.Fprintf(stderr, "loaded %d of %d\n", done, n)
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// syntheticEnvelope is one envelope of size synthetic events from seed.
func syntheticEnvelope(tenantID int64, pop synth.Population, seed uint64, size int) *store.Envelope {
	g := synth.New(pop, seed)
	env := &store.Envelope{TenantID: tenantID, Sensor: "https://example.edu/sensors/lms", SendTime: time.Now(),
		DataVersion: caliper.V1p2, ItemCount: size, Events: make([]store.Event, 0, size)}
	for i := 0; i < size; i++ {
		r := g.Row()
		env.Events = append(env.Events, store.Event{ID: r.ID, Type: r.Type, Action: r.Action, ActorID: r.ActorID,
			ObjectID: r.ObjectID, ObjectType: r.ObjectType, GroupID: r.GroupID, SessionID: r.SessionID,
			EdAppID: r.EdAppID, Profile: r.Profile, EventTime: r.EventTime, Data: r.Data})
	}
	return env
}
