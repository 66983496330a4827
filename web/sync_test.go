package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// TestSyncWhileWriting: writers commit out of order — transactions that hold
// their rows uncommitted for a while, some rolled back, alongside ordinary
// posts — while a reader pages in stored order with the cursor. The reader
// ends with exactly the set committed: nothing skipped, nothing twice.
func TestSyncWhileWriting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		rb := setupReadOn(t, kind)
		ctx := context.Background()
		tenant := rb.tenant
		committed := sync.Map{}
		for _, e := range rb.events {
			committed.Store(e.id, true)
		}
		var seq atomic.Int64
		newID := func() string { return fmt.Sprintf("aaaaaaaa-0000-4000-8000-%012d", seq.Add(1)) }

		const writers, txPerWriter, perTx = 4, 20, 5
		var wg sync.WaitGroup
		var writeErr atomic.Value
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 1))
				for i := 0; i < txPerWriter; i++ {
					ids := make([]string, perTx)
					for j := range ids {
						ids[j] = newID()
					}
					// SQLite has one writer at a time, so every writer posts over
					// HTTP; on PostgreSQL, writers other than the first hold their
					// transactions open to commit out of order.
					pg, isPG := rb.db.(*store.Postgres)
					if w == 0 || !isPG {
						var items []string
						for _, id := range ids {
							e := rb.events[0]
							e.id = id
							items = append(items, e.json())
						}
						res := rb.post(t, rb.token, "application/json", envelope(items...))
						if res.StatusCode != 200 {
							writeErr.Store(fmt.Errorf("post: %d", res.StatusCode))
							return
						}
						for _, id := range ids {
							committed.Store(id, true)
						}
						continue
					}
					// A slow transaction: rows inserted (and sequence numbers taken) now, committed later.
					tx, err := pg.Pool().Begin(ctx)
					if err != nil {
						writeErr.Store(err)
						return
					}
					var envID int64
					if err := tx.QueryRow(ctx, `INSERT INTO envelopes (tenant_id, sensor, send_time, data_version, item_count)
	VALUES ($1, 'urn:test', now(), 'http://purl.imsglobal.org/ctx/caliper/v1p2', $2) RETURNING id`, tenant, perTx).Scan(&envID); err != nil {
						writeErr.Store(err)
						return
					}
					for _, id := range ids {
						data, _ := json.Marshal(map[string]string{"id": "urn:uuid:" + id})
						if _, err := tx.Exec(ctx, `INSERT INTO events (tenant_id, envelope_id, id, type, action, event_time, data)
	VALUES ($1, $2, $3, 'Event', 'Viewed', now(), $4)`, tenant, envID, id, data); err != nil {
							writeErr.Store(err)
							return
						}
					}
					time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
					if rng.IntN(5) == 0 {
						tx.Rollback(ctx) // aborted: its rows must never appear
						continue
					}
					if err := tx.Commit(ctx); err != nil {
						writeErr.Store(err)
						return
					}
					for _, id := range ids {
						committed.Store(id, true)
					}
				}
			}(w)
		}
		writersDone := make(chan struct{})
		go func() { wg.Wait(); close(writersDone) }()

		seen := map[string]int{}
		cursor := ""
		done, emptyAfterDone := false, 0
		deadline := time.Now().Add(60 * time.Second)
		for polls := 0; emptyAfterDone < 2; polls++ {
			if time.Now().After(deadline) || polls > 20000 {
				t.Fatalf("reader did not finish: %d polls, %d events", polls, len(seen))
			}
			select {
			case <-writersDone:
				done = true
			default:
			}
			q := url.Values{"ascending": {"true"}, "limit": {"10"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			res, body := rb.get(t, rb.readToken, "/api/v1/events?"+q.Encode())
			if res.StatusCode != 200 {
				t.Fatalf("poll: %d %s", res.StatusCode, body)
			}
			var p pageBody
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Events {
				seen[e["id"].(string)[len("urn:uuid:"):]]++
			}
			if p.Cursor != "" {
				cursor = p.Cursor
			}
			if done && len(p.Events) == 0 {
				emptyAfterDone++
			}
			if len(p.Events) == 0 && !done {
				time.Sleep(2 * time.Millisecond)
			}
		}
		if err, _ := writeErr.Load().(error); err != nil {
			t.Fatal(err)
		}
		want := 0
		committed.Range(func(k, _ any) bool {
			want++
			if seen[k.(string)] != 1 {
				t.Errorf("event %s seen %d times", k, seen[k.(string)])
			}
			return true
		})
		if len(seen) != want {
			t.Errorf("reader saw %d distinct events, %d were committed", len(seen), want)
		}
		t.Logf("%d events committed, all seen exactly once", want)
	})
}
