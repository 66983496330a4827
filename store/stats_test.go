package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// TestPoolStats: the pool reports its cap and open connections, and
// envelopes saved at once show as waiting for a writer while they queue,
// none once all are stored.
func TestPoolStats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		tenant, err := db.EnsureTenant(ctx, "t")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		p := db.PoolStats()
		if p.Max < 2 || p.InUse+p.Idle < 1 || p.InUse+p.Idle > p.Max || p.WritesWaiting != 0 {
			t.Fatalf("idle store: %+v", p)
		}
		const n = 64
		var (
			wg          sync.WaitGroup
			done        atomic.Int64
			sawWaiting  int
			saveFailure atomic.Value
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer done.Add(1)
				env := &store.Envelope{TenantID: tenant, Sensor: "s", ItemCount: 1, Events: []store.Event{testEvent(uuid.New(), "Viewed")}}
				if _, err := db.SaveEnvelope(ctx, env); err != nil {
					saveFailure.Store(err)
				}
			}()
		}
		for done.Load() < n {
			sawWaiting = max(sawWaiting, db.PoolStats().WritesWaiting)
		}
		wg.Wait()
		if err := saveFailure.Load(); err != nil {
			t.Fatal(err)
		}
		if sawWaiting == 0 || sawWaiting > n {
			t.Errorf("%d envelopes saved at once: at most %d seen waiting", n, sawWaiting)
		}
		if p := db.PoolStats(); p.WritesWaiting != 0 {
			t.Errorf("after the saves: %+v", p)
		}
	})
}
