package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

func testEvent(id uuid.UUID, action string) store.Event {
	return store.Event{ID: id, Type: "Event", Action: action, EventTime: time.Unix(1700000000, 0).UTC(),
		Data: fmt.Appendf(nil, `{"id":"urn:uuid:%s","type":"Event","action":%q}`, id, action)}
}

// TestGroupCommit posts many envelopes at once so that they share commits,
// with refusals among them: each envelope gets exactly the outcome it would
// have had alone, and a refused one stores nothing while its neighbours do.
func TestGroupCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		tenant, err := db.EnsureTenant(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		stored := testEvent(uuid.New(), "Viewed")
		if _, err := db.SaveEnvelope(ctx, &store.Envelope{TenantID: tenant, Sensor: "s", Events: []store.Event{stored}}); err != nil {
			t.Fatal(err)
		}
		grouped := db.(interface{ GroupStats() store.GroupStats })
		// Under load envelopes share commits; rounds repeat until they have.
		for round := 0; round < 5; round++ {
			before := grouped.GroupStats()
			groupRound(t, db, tenant, stored)
			after := grouped.GroupStats()
			if commits, envs := after.Commits-before.Commits, after.Envelopes-before.Envelopes; commits < envs {
				t.Logf("round %d: %d envelopes in %d commits", round, envs, commits)
				return
			}
		}
		t.Fatal("64 concurrent envelopes never shared a commit")
	})
}

// groupRound saves 64 envelopes concurrently: one in four repeats the stored
// event with other content (409), one in four repeats it unchanged (a
// duplicate), the rest are new; each carries two events of its own.
func groupRound(t *testing.T, db store.Backend, tenant int64, stored store.Event) {
	ctx := context.Background()
	const n = 64
	envs := make([]*store.Envelope, n)
	for i := range envs {
		evs := []store.Event{testEvent(uuid.New(), "Started"), testEvent(uuid.New(), "Ended")}
		switch i % 4 {
		case 0:
			evs = append(evs, testEvent(stored.ID, "Paused"))
		case 1:
			evs = append(evs, stored)
		}
		envs[i] = &store.Envelope{TenantID: tenant, Sensor: "s", ItemCount: len(evs), Events: evs}
	}
	results := make([]store.SaveResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range envs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = db.SaveEnvelope(ctx, envs[i])
		}()
	}
	wg.Wait()
	for i, env := range envs {
		own := env.Events[:2]
		switch i % 4 {
		case 0:
			var conflict *store.ConflictError
			if !errors.As(errs[i], &conflict) || len(conflict.IDs) != 1 || conflict.IDs[0] != stored.ID {
				t.Fatalf("envelope %d: got %v, want a conflict on %s", i, errs[i], stored.ID)
			}
			for _, e := range own {
				if _, err := db.EventByID(ctx, tenant, e.ID); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("envelope %d was refused but its event %s is stored (%v)", i, e.ID, err)
				}
			}
		default:
			wantDups := 0
			if i%4 == 1 {
				wantDups = 1
			}
			if errs[i] != nil || results[i].EventsStored != 2 || results[i].Duplicates != wantDups || results[i].EnvelopeID == "" {
				t.Fatalf("envelope %d: got %+v, %v; want 2 stored, %d duplicates", i, results[i], errs[i], wantDups)
			}
			for _, e := range own {
				if _, err := db.EventByID(ctx, tenant, e.ID); err != nil {
					t.Fatalf("envelope %d: event %s: %v", i, e.ID, err)
				}
			}
		}
	}
}

// TestGroupSameIDInFlight sends two envelopes at once that carry the same new
// event id with different content: whichever is first stores it, the other
// is refused as a conflict — never both stored, never both refused.
func TestGroupSameIDInFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		tenant, err := db.EnsureTenant(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 20; round++ {
			id := uuid.New()
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, action := range []string{"Started", "Ended"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = db.SaveEnvelope(ctx, &store.Envelope{TenantID: tenant, Sensor: "s", ItemCount: 1,
						Events: []store.Event{testEvent(id, action)}})
				}()
			}
			wg.Wait()
			ok, conflicts := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					t.Fatal(err)
				}
			}
			if ok != 1 || conflicts != 1 {
				t.Fatalf("round %d: %d stored and %d conflicts, want one of each", round, ok, conflicts)
			}
		}
	})
}
