package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/pgtest"
	"github.com/lrs-dev/lrs/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// countingStore counts the reads the hub makes of a real store.
type countingStore struct {
	store.Backend
	streamReads, lists atomic.Int64
}

func (c *countingStore) StreamEvents(ctx context.Context, from []store.TenantAfter, limit int) ([]store.LiveEvent, bool, error) {
	c.streamReads.Add(1)
	return c.Backend.StreamEvents(ctx, from, limit)
}

func (c *countingStore) ListEvents(ctx context.Context, f store.EventFilter, after *store.Position, asc bool, limit int) ([]store.StoredEvent, error) {
	c.lists.Add(1)
	return c.Backend.ListEvents(ctx, f, after, asc, limit)
}

func runHub(t *testing.T, st StreamStore, cfg HubConfig) *Hub {
	t.Helper()
	h := NewHub(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

func save(t *testing.T, db store.Backend, tenant int64, n int, action string) []uuid.UUID {
	t.Helper()
	env := &store.Envelope{TenantID: tenant, Sensor: "urn:test", SendTime: time.Now(), DataVersion: "v", ItemCount: n}
	var ids []uuid.UUID
	for range n {
		id := uuid.New()
		ids = append(ids, id)
		env.Events = append(env.Events, store.Event{ID: id, Type: "ViewEvent", Action: action, EventTime: time.Now(),
			Data: []byte(fmt.Sprintf("{\n  \"id\": \"urn:uuid:%s\"\n}", id))})
	}
	if _, err := db.SaveEnvelope(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	return ids
}

// messageID is the event id of a message, whose data must be one line.
func messageID(t *testing.T, m *Message) uuid.UUID {
	t.Helper()
	if bytes.ContainsAny(m.Data, "\r\n") {
		t.Fatalf("message data on several lines: %q", m.Data)
	}
	var e struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(m.Data, &e); err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(strings.TrimPrefix(e.ID, "urn:uuid:"))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func receive(t *testing.T, s *Subscription, n int) []*Message {
	t.Helper()
	var out []*Message
	for len(out) < n {
		select {
		case m := <-s.Messages():
			out = append(out, m)
		case <-s.Done():
			t.Fatalf("subscription ended after %d of %d: %v", len(out), n, s.Err())
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d messages within 10 s", len(out), n)
		}
	}
	return out
}

// TestHubOneReadPerWake: many subscribers from now, with different
// filters, are served by the same reads — the store is read a few times
// per commit, however many subscribers — and none pages on its own. The
// hub is woken by commits only (it would poll once an hour).
func TestHubOneReadPerWake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		tenant, _ := db.EnsureTenant(ctx, "t")
		save(t, db, tenant, 3, "Viewed") // before: not streamed
		cs := &countingStore{Backend: db}
		h := runHub(t, cs, HubConfig{Poll: time.Hour})
		const subscribers = 200
		subs := make([]*Subscription, subscribers)
		for i := range subs {
			params := url.Values{}
			if i%2 == 1 {
				params.Set("action", "Started")
			}
			s, err := h.Subscribe(ctx, tenant, params, "")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			subs[i] = s
		}
		before := cs.streamReads.Load()
		const commits = 5
		var started []uuid.UUID
		for range commits {
			save(t, db, tenant, 2, "Viewed")
			started = append(started, save(t, db, tenant, 1, "Started")...)
		}
		for i, s := range subs {
			want := 3 * commits
			if i%2 == 1 {
				want = commits
			}
			got := receive(t, s, want)
			if i%2 == 1 {
				for j, m := range got {
					if id := messageID(t, m); id != started[j] {
						t.Fatalf("subscriber %d message %d: event %s, want %s", i, j, id, started[j])
					}
				}
			}
		}
		reads := cs.streamReads.Load() - before
		if reads > 4*2*commits {
			t.Errorf("%d store reads for %d commits and %d subscribers", reads, 2*commits, subscribers)
		}
		if n := cs.lists.Load(); n != 0 {
			t.Errorf("%d pages read by subscribers from now", n)
		}
		t.Logf("%d store reads for %d commits and %d subscribers", reads, 2*commits, subscribers)
	})
}

// TestHubSlowSubscriber: a subscriber that does not read is closed once
// its buffer is full, with ErrSlowSubscriber; the others go on.
func TestHubSlowSubscriber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		tenant, _ := db.EnsureTenant(ctx, "t")
		h := runHub(t, db, HubConfig{Buffer: 8})
		slow, err := h.Subscribe(ctx, tenant, url.Values{}, "")
		if err != nil {
			t.Fatal(err)
		}
		defer slow.Close()
		fast, err := h.Subscribe(ctx, tenant, url.Values{}, "")
		if err != nil {
			t.Fatal(err)
		}
		defer fast.Close()
		for range 5 {
			save(t, db, tenant, 4, "Viewed")
			receive(t, fast, 4)
		}
		select {
		case <-slow.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("slow subscriber still open")
		}
		if !errors.Is(slow.Err(), ErrSlowSubscriber) {
			t.Errorf("err %v", slow.Err())
		}
		if n := len(slow.Messages()); n != 8 {
			t.Errorf("slow subscriber holds %d messages, want its buffer of 8", n)
		}
		save(t, db, tenant, 1, "Viewed")
		receive(t, fast, 1)
	})
}

// TestHubWakesAcrossNodes: on PostgreSQL the hub of one node streams what
// another node commits, woken by LISTEN/NOTIFY (it would poll once an hour).
func TestHubWakesAcrossNodes(t *testing.T) {
	url1 := storetest.URL(t, "postgres")
	writer, err := store.Open(context.Background(), url1)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	reader, err := store.Open(context.Background(), url1)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	ctx := context.Background()
	tenant, _ := writer.EnsureTenant(ctx, "t")
	h := runHub(t, reader, HubConfig{Poll: time.Hour})
	s, err := h.Subscribe(ctx, tenant, url.Values{}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		ids := save(t, writer, tenant, 2, "Viewed")
		got := receive(t, s, 2)
		for j := range got {
			if id := messageID(t, got[j]); id != ids[j] {
				t.Fatalf("commit %d: event %s, want %s", i, id, ids[j])
			}
		}
	}
}
