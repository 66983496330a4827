package store_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/internal/hll"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

var rollupDay0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// saveMixed stores n events of varied action, type, profile, course, actor
// and time (ten days from rollupDay0) for tenant.
func saveMixed(t *testing.T, db store.Backend, tenant int64, n int, rng *rand.Rand) {
	t.Helper()
	actions := []string{"Viewed", "Started", "Submitted", "Graded", "NavigatedTo"}
	types := []string{"ViewEvent", "AssessmentEvent", "NavigationEvent", "GradeEvent"}
	profiles := []string{"", "ReadingProfile", "AssessmentProfile"}
	courses := []string{"", "https://example.edu/c/1", "https://example.edu/c/2", "https://example.edu/c/3"}
	env := &store.Envelope{TenantID: tenant, Sensor: "urn:test", SendTime: rollupDay0, DataVersion: "v", ItemCount: n}
	for range n {
		e := store.Event{ID: uuid.New(), Action: actions[rng.IntN(len(actions))], Type: types[rng.IntN(len(types))],
			Profile: profiles[rng.IntN(len(profiles))], GroupID: courses[rng.IntN(len(courses))],
			EventTime: rollupDay0.Add(time.Duration(rng.Int64N(int64(240 * time.Hour)))).Truncate(time.Microsecond), Data: []byte(`{}`)}
		if rng.IntN(10) > 0 { // some events have no actor
			e.ActorID = fmt.Sprintf("https://example.edu/users/%d", rng.IntN(300))
		}
		env.Events = append(env.Events, e)
	}
	if _, err := db.SaveEnvelope(context.Background(), env); err != nil {
		t.Fatal(err)
	}
}

// rollUp runs the worker until it has nothing left to do.
func rollUp(t *testing.T, db store.Backend) {
	t.Helper()
	for range 100 {
		n, err := db.Rollup(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("roll-up never caught up")
}

func ptr[T any](v T) *T { return &v }

// rollupQueries are stats the count roll-ups answer.
func rollupQueries(tenant int64) []store.StatsQuery {
	f := store.EventFilter{TenantID: tenant}
	since, until := rollupDay0.Add(48*time.Hour), rollupDay0.Add(7*24*time.Hour)
	withF := func(mod func(*store.EventFilter)) store.EventFilter { g := f; mod(&g); return g }
	var qs []store.StatsQuery
	for _, by := range [][]string{{"action"}, {"type"}, {"day"}, {"hour"}, {"action", "day"}, {"type", "hour"}} {
		for _, filter := range []store.EventFilter{
			f,
			withF(func(g *store.EventFilter) { g.Actions = []string{"Viewed", "Graded"} }),
			withF(func(g *store.EventFilter) { g.Types = []string{"ViewEvent"}; g.Profiles = []string{"ReadingProfile"} }),
			withF(func(g *store.EventFilter) { g.Since, g.Until = &since, &until }),
			withF(func(g *store.EventFilter) { g.Since = ptr(since.Add(5 * time.Hour)) }),
		} {
			qs = append(qs, store.StatsQuery{Filter: filter, By: by, Limit: 10_000})
		}
	}
	return qs
}

// checkRollupsExact compares every roll-up answer with the scan's.
func checkRollupsExact(t *testing.T, db store.Backend, tenant int64) {
	t.Helper()
	checkRollupCounts(t, db, tenant)
	checkRollupActors(t, db, tenant)
}

// checkRollupCounts compares the count roll-ups' answers with the scan's.
func checkRollupCounts(t *testing.T, db store.Backend, tenant int64) {
	t.Helper()
	ctx := context.Background()
	for _, q := range rollupQueries(tenant) {
		got, err := db.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		q.Scan = true
		want, err := db.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != store.SourceRollup || want.Source != store.SourceScan {
			t.Fatalf("by %v: sources %q and %q", q.By, got.Source, want.Source)
		}
		if !reflect.DeepEqual(got.Rows, want.Rows) {
			t.Fatalf("by %v, filter %+v: roll-up %v, scan %v", q.By, q.Filter, statRows(got.Rows), statRows(want.Rows))
		}
	}
}

// checkRollupActors compares the sketches' distinct actors with the scan's,
// within the sketch's error.
func checkRollupActors(t *testing.T, db store.Backend, tenant int64) {
	t.Helper()
	ctx := context.Background()
	for _, courses := range [][]string{nil, {"https://example.edu/c/2"}, {"https://example.edu/c/1", "https://example.edu/c/3"}} {
		q := store.StatsQuery{Filter: store.EventFilter{TenantID: tenant, Courses: courses}, By: []string{"day"}, Limit: 100, Distinct: store.DistinctActors}
		got, err := db.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		q.Scan = true
		want, err := db.Stats(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != store.SourceRollup || !got.Approximate || len(got.Rows) != len(want.Rows) {
			t.Fatalf("distinct actors %v: %+v against %+v", courses, got, want)
		}
		for i, r := range got.Rows {
			w := want.Rows[i]
			if *r.Keys[0] != *w.Keys[0] || math.Abs(float64(r.Count-w.Count)) > math.Max(1, 3*hll.StdError*float64(w.Count)) {
				t.Fatalf("distinct actors %v on %s: estimate %d, exact %d", courses, *w.Keys[0], r.Count, w.Count)
			}
		}
	}
}

func statRows(rows []store.StatRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(*r.Keys[0], "=", r.Count)
	}
	return out
}

// TestRollupsEqualScan: stats from roll-ups equal the scan before the
// worker has run, with events after its position, and once it caught up;
// what the roll-ups cannot answer goes to the scan.
func TestRollupsEqualScan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		a, _ := db.EnsureTenant(ctx, "a")
		b, _ := db.EnsureTenant(ctx, "b")
		for range 3 {
			saveMixed(t, db, a, 400, rng)
		}
		saveMixed(t, db, b, 300, rng)
		// Before 1970 (negative times on SQLite): buckets still floor.
		old := &store.Envelope{TenantID: a, Sensor: "urn:test", SendTime: rollupDay0, DataVersion: "v", ItemCount: 2}
		for _, at := range []string{"1969-12-31T23:30:00Z", "1969-12-31T00:10:00Z"} {
			tm, _ := time.Parse(time.RFC3339, at)
			old.Events = append(old.Events, store.Event{ID: uuid.New(), Action: "Viewed", Type: "ViewEvent", EventTime: tm, Data: []byte(`{}`)})
		}
		if _, err := db.SaveEnvelope(ctx, old); err != nil {
			t.Fatal(err)
		}

		q := store.StatsQuery{Filter: store.EventFilter{TenantID: a}, By: []string{"action"}, Limit: 10}
		if ans, _ := db.Stats(ctx, q); ans.Source != store.SourceScan {
			t.Fatalf("before any roll-up: source %q", ans.Source)
		}
		rollUp(t, db)
		checkRollupsExact(t, db, a)
		saveMixed(t, db, a, 250, rng) // the tail after the position
		saveMixed(t, db, b, 100, rng)
		checkRollupsExact(t, db, a)
		checkRollupsExact(t, db, b)
		rollUp(t, db)
		checkRollupsExact(t, db, a)
		checkRollupsExact(t, db, b)

		for _, q := range []store.StatsQuery{
			{Filter: store.EventFilter{TenantID: a, Actors: []string{"x"}}, By: []string{"action"}, Limit: 10},
			{Filter: store.EventFilter{TenantID: a}, By: []string{"course"}, Limit: 10},
			{Filter: store.EventFilter{TenantID: a, Since: ptr(rollupDay0.Add(time.Minute))}, By: []string{"action"}, Limit: 10},
			{Filter: store.EventFilter{TenantID: a}, By: []string{"action"}, Limit: 10, Distinct: store.DistinctActors},
		} {
			if ans, err := db.Stats(ctx, q); err != nil || ans.Source != store.SourceScan {
				t.Errorf("%+v: source %q, %v; want a scan", q, ans.Source, err)
			}
		}
	})
}

// TestRollupWorkersRace: workers of two nodes and writers at once still
// count every event exactly once.
func TestRollupWorkersRace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		_, a, b := openTwice(t, kind)
		ctx := context.Background()
		tenant, _ := a.EnsureTenant(ctx, "race")
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for _, db := range []store.Backend{a, b} {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := db.Rollup(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for range 20 {
			saveMixed(t, a, tenant, 50, rng)
		}
		close(stop)
		wg.Wait()
		rollUp(t, b)
		checkRollupsExact(t, a, tenant)
		ans, err := a.Stats(ctx, store.StatsQuery{Filter: store.EventFilter{TenantID: tenant}, By: []string{"type"}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, r := range ans.Rows {
			total += r.Count
		}
		if total != 1000 {
			t.Fatalf("%d events counted, want 1000", total)
		}
	})
}

// TestRollupOutOfOrderCommit: a transaction that began first and commits
// last is not skipped by the worker (PostgreSQL: positions follow the
// storing transaction, and the worker never passes a running one).
func TestRollupOutOfOrderCommit(t *testing.T) {
	db := storetest.Open(t, "postgres")
	pg := db.(*store.Postgres)
	ctx := context.Background()
	tenant, _ := db.EnsureTenant(ctx, "slow")
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
	if _, err := slow.Exec(ctx, `INSERT INTO events (tenant_id, envelope_id, id, type, action, event_time, data)
VALUES ($1, $2, gen_random_uuid(), 'ViewEvent', 'Viewed', $3, '{}')`, tenant, env, rollupDay0); err != nil {
		t.Fatal(err)
	}
	saveMixed(t, db, tenant, 200, rand.New(rand.NewPCG(5, 6))) // commits first
	rollUp(t, db)
	if err := slow.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	checkRollupsExact(t, db, tenant)
	rollUp(t, db)
	checkRollupsExact(t, db, tenant)
}

// TestRollupPositionCreatedTwice: two nodes meeting a new tenant at the same
// moment both create its position; neither may fail (the loser's snapshot
// did not see the winner's row).
func TestRollupPositionCreatedTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		_, a, b := openTwice(t, kind)
		ctx := context.Background()
		for i := range 60 {
			if _, err := a.EnsureTenant(ctx, fmt.Sprintf("new-%d", i)); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, db := range []store.Backend{a, b} {
				wg.Go(func() {
					<-start
					if _, err := db.Rollup(ctx); err != nil {
						t.Errorf("round %d: %v", i, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if t.Failed() {
				return
			}
		}
	})
}
