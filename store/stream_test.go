package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// streamAll reads every event of the tenants with StreamEvents, batch
// after batch as the hub does, and checks each batch is in stored order per tenant.
func streamAll(t *testing.T, db store.Backend, tenants []int64, limit int) map[int64][]store.LiveEvent {
	t.Helper()
	pos := map[int64]store.Position{}
	out := map[int64][]store.LiveEvent{}
	for range 1000 {
		var from []store.TenantAfter
		for _, tn := range tenants {
			from = append(from, store.TenantAfter{TenantID: tn, After: pos[tn]})
		}
		events, held, err := db.StreamEvents(context.Background(), from, limit)
		if err != nil {
			t.Fatal(err)
		}
		if held {
			t.Fatal("held with no transaction running")
		}
		if len(events) == 0 {
			return out
		}
		for _, ev := range events {
			if !ev.Position.After(pos[ev.TenantID]) {
				t.Fatalf("tenant %d: %+v not after %+v", ev.TenantID, ev.Position, pos[ev.TenantID])
			}
			pos[ev.TenantID] = ev.Position
			out[ev.TenantID] = append(out[ev.TenantID], ev)
		}
	}
	t.Fatal("StreamEvents never ends")
	return nil
}

// TestStreamEvents: batches of StreamEvents over several tenants give each
// tenant's events once, in the order of ascending ListEvents, with the
// tenant and the envelope's sensor; StreamHead is the last of them.
func TestStreamEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		a, _ := db.EnsureTenant(ctx, "a")
		b, _ := db.EnsureTenant(ctx, "b")
		empty, _ := db.EnsureTenant(ctx, "empty")
		if p, err := db.StreamHead(ctx, empty); err != nil || p != (store.Position{}) {
			t.Fatalf("head of an empty tenant: %+v %v", p, err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 3 {
			saveMixed(t, db, a, 17, rng)
			saveMixed(t, db, b, 5, rng)
		}
		got := streamAll(t, db, []int64{a, b, empty}, 7)
		for _, tn := range []int64{a, b} {
			want, err := db.ListEvents(ctx, store.EventFilter{TenantID: tn}, nil, true, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(got[tn]) != len(want) {
				t.Fatalf("tenant %d: %d events streamed, %d stored", tn, len(got[tn]), len(want))
			}
			for i := range want {
				g := got[tn][i]
				if g.ID != want[i].ID || g.Position != want[i].Position || g.TenantID != tn || g.Sensor != "urn:test" {
					t.Fatalf("tenant %d event %d: %+v, want %+v", tn, i, g, want[i])
				}
			}
			head, err := db.StreamHead(ctx, tn)
			if err != nil || head != want[len(want)-1].Position {
				t.Errorf("head %+v %v, want %+v", head, err, want[len(want)-1].Position)
			}
		}
		if len(got[empty]) != 0 {
			t.Errorf("empty tenant streamed %d", len(got[empty]))
		}
	})
}

// TestStreamMatchEqualsSQL: EventFilter.Match, which filters the live
// stream in memory, selects exactly what the SQL of ListEvents selects,
// for every filter of the read API.
func TestStreamMatchEqualsSQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		tenant, _ := db.EnsureTenant(ctx, "t")
		other, _ := db.EnsureTenant(ctx, "other")
		t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 60 {
			env := &store.Envelope{TenantID: tenant, Sensor: fmt.Sprintf("urn:sensor:%d", i%4), SendTime: t0, DataVersion: "v", ItemCount: 1}
			if i%10 == 9 {
				env.TenantID = other
			}
			e := store.Event{ID: uuid.New(), Type: []string{"ViewEvent", "GradeEvent"}[i%2], Action: []string{"Viewed", "Graded", "Started"}[i%3],
				ActorID: fmt.Sprintf("urn:actor:%d", i%4), ObjectID: fmt.Sprintf("urn:object:%d", i%5), ObjectType: "Document",
				GroupID: []string{"", "urn:course:1", "urn:course:2"}[i%3], SessionID: fmt.Sprintf("urn:session:%d", i%2),
				EdAppID: []string{"", "urn:app"}[i%2], Profile: []string{"", "ReadingProfile"}[i%2],
				EventTime: t0.Add(time.Duration(i) * time.Hour),
				Data:      fmt.Appendf(nil, `{"id":"urn:uuid:x","extensions":{"attempt":%d,"tags":["a","b%d"]},"score":%d.0}`, i%3, i%2, i%4)}
			if i%7 == 0 {
				e.ActorID = "" // no actor: NULL
			}
			env.Events = []store.Event{e}
			if _, err := db.SaveEnvelope(ctx, env); err != nil {
				t.Fatal(err)
			}
		}
		all := streamAll(t, db, []int64{tenant, other}, 1000)
		events := append(all[tenant], all[other]...)
		at := func(h int) *time.Time { v := t0.Add(time.Duration(h)*time.Hour + 500*time.Nanosecond); return &v }
		past := t0.Add(-time.Hour)
		for name, f := range map[string]store.EventFilter{
			"none":        {},
			"actors":      {Actors: []string{"urn:actor:1", "urn:actor:3"}},
			"action":      {Actions: []string{"Graded"}},
			"type":        {Types: []string{"ViewEvent"}},
			"object":      {Objects: []string{"urn:object:2"}, ObjectTypes: []string{"Document"}},
			"course":      {Courses: []string{"urn:course:2"}},
			"session":     {Sessions: []string{"urn:session:1"}},
			"edapp":       {EdApps: []string{"urn:app"}},
			"profile":     {Profiles: []string{"ReadingProfile"}},
			"sensor":      {Sensors: []string{"urn:sensor:1"}},
			"since-until": {Since: at(10), Until: at(30)},
			"until-exact": {Until: &[]time.Time{t0.Add(20 * time.Hour)}[0]},
			"stored":      {StoredSince: &past},
			"contains":    {Contains: [][]byte{[]byte(`{"extensions":{"attempt":2}}`), []byte(`{"extensions":{"tags":["b1"]}}`)}},
			"number":      {Contains: [][]byte{[]byte(`{"score":3}`)}},
			"combined":    {Actions: []string{"Viewed", "Started"}, Courses: []string{"urn:course:2"}, Sensors: []string{"urn:sensor:0", "urn:sensor:1"}},
		} {
			f.TenantID = tenant
			want, err := db.ListEvents(ctx, f, nil, true, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var got, wantIDs []uuid.UUID
			for i := range events {
				if f.Match(&events[i], docOf(t, events[i].Data)) {
					got = append(got, events[i].ID)
				}
			}
			for _, e := range want {
				wantIDs = append(wantIDs, e.ID)
			}
			if name != "none" && name != "stored" && (len(wantIDs) == 0 || len(wantIDs) == 54) {
				t.Errorf("%s: selects %d of 54: not a test of the filter", name, len(wantIDs))
			}
			if !slices.Equal(got, wantIDs) {
				t.Errorf("%s: Match selects %d events, SQL %d", name, len(got), len(wantIDs))
			}
		}
	})
}

func docOf(t *testing.T, data []byte) func() any {
	return func() any {
		v, err := caliper.DecodeJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestStreamHeldBehindRunningTx: on PostgreSQL, events committed after a
// transaction that is still running are not streamed yet (it may commit
// before them in stored order), and held says they wait; once it commits,
// its events come first.
func TestStreamHeldBehindRunningTx(t *testing.T) {
	db := storetest.Open(t, "postgres")
	pg := db.(*store.Postgres)
	ctx := context.Background()
	tenant, _ := db.EnsureTenant(ctx, "t")
	slow, err := pg.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback(ctx) //nolint:errcheck
	var env int64
	if err := slow.QueryRow(ctx, `INSERT INTO envelopes (tenant_id, sensor, send_time, data_version, item_count)
VALUES ($1, 'urn:slow', now(), 'v', 1) RETURNING id`, tenant).Scan(&env); err != nil {
		t.Fatal(err)
	}
	slowID := uuid.New()
	if _, err := slow.Exec(ctx, `INSERT INTO events (tenant_id, envelope_id, id, type, action, event_time, data)
VALUES ($1, $2, $3, 'ViewEvent', 'Viewed', now(), '{}')`, tenant, env, slowID); err != nil {
		t.Fatal(err)
	}
	saveMixed(t, db, tenant, 5, rand.New(rand.NewPCG(3, 4))) // commits first
	from := []store.TenantAfter{{TenantID: tenant}}
	events, held, err := db.StreamEvents(ctx, from, 100)
	if err != nil || len(events) != 0 || !held {
		t.Fatalf("behind a running transaction: %d events, held %v, %v", len(events), held, err)
	}
	if head, err := db.StreamHead(ctx, tenant); err != nil || head != (store.Position{}) {
		t.Errorf("head %+v %v behind a running transaction", head, err)
	}
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	events, held, err = db.StreamEvents(ctx, from, 100)
	if err != nil || len(events) != 6 || held || events[0].ID != slowID || events[0].Sensor != "urn:slow" {
		t.Fatalf("after the commit: %d events, held %v, %v", len(events), held, err)
	}
}

// TestWatchCommits: a commit that stores events calls wake (PostgreSQL:
// through NOTIFY, from another connection pool as another node would).
func TestWatchCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		url := storetest.URL(t, kind)
		watcher, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer watcher.Close()
		writer := watcher
		if kind == "postgres" {
			if writer, err = store.Open(context.Background(), url); err != nil {
				t.Fatal(err)
			}
			defer writer.Close()
		}
		ctx, cancel := context.WithCancel(context.Background())
		woken := make(chan struct{}, 100)
		done := make(chan error, 1)
		go func() { done <- watcher.WatchCommits(ctx, func() { woken <- struct{}{} }) }()
		wait := func(what string) {
			t.Helper()
			select {
			case <-woken:
			case <-time.After(10 * time.Second):
				t.Fatalf("no wake-up %s", what)
			}
		}
		wait("when listening starts")
		tenant, _ := writer.EnsureTenant(context.Background(), "t")
		select {
		case <-woken:
			t.Fatal("woken by a commit that stored no events")
		case <-time.After(200 * time.Millisecond):
		}
		saveMixed(t, writer, tenant, 3, rand.New(rand.NewPCG(1, 1)))
		wait("after a commit")
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("WatchCommits returned %v", err)
		}
	})
}
