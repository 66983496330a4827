package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

// outOfOrderWriters stores events while the test reads: over HTTP, and on
// PostgreSQL also in transactions held open for a while (so that they
// commit after later ones), a fifth of them rolled back. Every committed id
// goes into committed; done is closed when all writers are through.
func outOfOrderWriters(t *testing.T, rb *readBundle, committed *sync.Map, prefix string) (done <-chan struct{}, failed *atomic.Value) {
	t.Helper()
	ctx := context.Background()
	var seq atomic.Int64
	newID := func() string { return fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, seq.Add(1)) }
	const writers, txPerWriter, perTx = 4, 20, 5
	var wg sync.WaitGroup
	failed = &atomic.Value{}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			pg, isPG := rb.db.(*store.Postgres)
			for range txPerWriter {
				ids := make([]string, perTx)
				for j := range ids {
					ids[j] = newID()
				}
				if w == 0 || !isPG {
					var items []string
					for _, id := range ids {
						e := rb.events[0]
						e.id = id
						items = append(items, e.json())
					}
					res := rb.post(t, rb.token, "application/json", envelope(items...))
					if res.StatusCode != 200 {
						failed.Store(fmt.Errorf("post: %d", res.StatusCode))
						return
					}
				} else if err := slowTx(ctx, pg, rb.tenant, ids, rng); err != nil {
					if err != errRolledBack {
						failed.Store(err)
						return
					}
					continue
				}
				for _, id := range ids {
					committed.Store(id, true)
				}
			}
		}()
	}
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	return c, failed
}

var errRolledBack = fmt.Errorf("rolled back")

// slowTx inserts ids (taking their sequence numbers now) and commits them
// up to 40 ms later, or rolls back (errRolledBack).
func slowTx(ctx context.Context, pg *store.Postgres, tenant int64, ids []string, rng *rand.Rand) error {
	tx, err := pg.Pool().Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var envID int64
	if err := tx.QueryRow(ctx, `INSERT INTO envelopes (tenant_id, sensor, send_time, data_version, item_count)
VALUES ($1, 'urn:test', now(), 'http://purl.imsglobal.org/ctx/caliper/v1p2', $2) RETURNING id`, tenant, len(ids)).Scan(&envID); err != nil {
		return err
	}
	for _, id := range ids {
		data, _ := json.Marshal(map[string]string{"id": "urn:uuid:" + id})
		if _, err := tx.Exec(ctx, `INSERT INTO events (tenant_id, envelope_id, id, type, action, event_time, data)
VALUES ($1, $2, $3, 'Event', 'Viewed', now(), $4)`, tenant, envID, id, data); err != nil {
			return err
		}
	}
	time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	if rng.IntN(5) == 0 {
		return errRolledBack
	}
	return tx.Commit(ctx)
}

// TestStreamResumeWhileWriting: a client reads the stream from the
// beginning and disconnects again and again, each time after a few events,
// reconnecting with Last-Event-ID as EventSource does, while writers commit
// out of order. It ends with every committed event exactly once: nothing
// missed across reconnects or late commits, nothing repeated.
func TestStreamResumeWhileWriting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		base, _ := startStream(t, rb.bundle, web.Config{}, query.HubConfig{})
		committed := &sync.Map{}
		for _, e := range rb.events {
			committed.Store(e.id, true)
		}
		writersDone, failed := outOfOrderWriters(t, rb, committed, "aaaaaaaa")
		rng := rand.New(rand.NewPCG(7, 7))
		seen := map[string]int{}
		count := func() int {
			n := 0
			committed.Range(func(k, _ any) bool {
				if seen[k.(string)] > 0 {
					n++
				}
				return true
			})
			return n
		}
		total := func() int {
			n := 0
			committed.Range(func(_, _ any) bool { n++; return true })
			return n
		}
		lastID, connects := "", 0
		deadline := time.Now().Add(60 * time.Second)
		for done := false; ; {
			select {
			case <-writersDone:
				done = true
			default:
			}
			if done && count() == total() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("after %d connections: %d of %d committed events seen", connects, count(), total())
			}
			s := openStream(t, base, rb.readToken, "from=beginning", lastID)
			connects++
			for n := 1 + rng.IntN(60); n > 0; n-- {
				select {
				case ev := <-s.events:
					seen[eventID(t, ev)]++
					lastID = ev.id
					continue
				case <-time.After(300 * time.Millisecond):
				}
				break
			}
			s.close()
		}
		// One more connection: nothing may come that was seen already.
		s := openStream(t, base, rb.readToken, "from=beginning", lastID)
		select {
		case ev := <-s.events:
			t.Errorf("after everything: %s", ev.data)
		case <-time.After(300 * time.Millisecond):
		}
		if err, _ := failed.Load().(error); err != nil {
			t.Fatal(err)
		}
		for id, n := range seen {
			if _, ok := committed.Load(id); !ok {
				t.Errorf("event %s seen but never committed", id)
			}
			if n != 1 {
				t.Errorf("event %s seen %d times", id, n)
			}
		}
		t.Logf("%d committed events seen exactly once over %d connections", total(), connects)
	})
}
