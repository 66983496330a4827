package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

const (
	erasedActor = "https://example.edu/users/erase-me"
	otherActor  = "https://example.edu/users/stays"
)

// eraseFixture is a store where erasedActor appears as actor, object, group
// member, grader, in extensions and as an entity, among other learners'
// data, in two tenants.
type eraseFixture struct {
	db        store.Backend
	url, kind string
	a, b      int64
	envelopes map[string]string // envelope id → what it holds
}

func calEvent(id, actor, object string, extra string) string {
	return `{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:` + id + `","type":"ViewEvent",` +
		`"actor":` + actor + `,"action":"Viewed","object":` + object + `,"eventTime":"2026-03-02T10:00:00.000Z"` + extra + `}`
}

func setupErase(t *testing.T, kind string) *eraseFixture {
	t.Helper()
	url := storetest.URL(t, kind)
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	ctx := context.Background()
	f := &eraseFixture{db: db, url: url, kind: kind, envelopes: map[string]string{}}
	f.a, _ = db.EnsureTenant(ctx, "a")
	f.b, _ = db.EnsureTenant(ctx, "b")
	svc := ingest.NewService(db, caliper.NewValidator(caliper.Lenient))
	post := func(tenant int64, what string, items ...string) {
		t.Helper()
		body := `{"sensor":"https://example.edu/sensor","sendTime":"2026-03-02T10:00:00.000Z","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[` +
			strings.Join(items, ",") + `]}`
		batch, err := svc.Prepare(ingest.Source{TenantID: tenant}, []byte(body))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		res, err := svc.Save(ctx, batch)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if tenant == f.a {
			f.envelopes[res.EnvelopeID] = what
		}
	}
	person := func(id string) string { return `{"id":"` + id + `","type":"Person","name":"Someone"}` }
	doc := `{"id":"https://example.edu/docs/1","type":"Document"}`
	post(f.a, "only-erased", calEvent(uuid.NewString(), person(erasedActor), doc, ""), calEvent(uuid.NewString(), `"`+erasedActor+`"`, doc, ""))
	post(f.a, "mixed",
		calEvent(uuid.NewString(), person(erasedActor), doc, ""),
		calEvent(uuid.NewString(), person(otherActor), person(erasedActor), ""), // as object
		calEvent(uuid.NewString(), person(otherActor), doc, `,"group":{"id":"https://example.edu/groups/7","type":"Group","members":[`+person(erasedActor)+`,`+person(otherActor)+`]}`),
		calEvent(uuid.NewString(), person(otherActor), doc, `,"generated":{"id":"https://example.edu/scores/1","type":"Score","scoredBy":"`+erasedActor+`"},"extensions":{"peer":"`+erasedActor+`","`+erasedActor+`":1}`),
		calEvent(uuid.NewString(), person(otherActor), `{"id":"`+erasedActor+`/portfolio","type":"Document"}`, ""), // a longer IRI: not the actor's
		person(erasedActor),
		`{"id":"https://example.edu/groups/7","type":"Group","members":["`+erasedActor+`"]}`,
	)
	post(f.a, "others", calEvent(uuid.NewString(), person(otherActor), doc, ""))
	post(f.b, "tenant b", calEvent(uuid.NewString(), person(erasedActor), doc, ""), person(erasedActor))
	return f
}

// saveActorEvents stores n events of actor for tenant, varied as the roll-up
// tests vary them.
func saveActorEvents(t *testing.T, db store.Backend, tenant int64, actor string, n int, rng *rand.Rand) {
	t.Helper()
	env := &store.Envelope{TenantID: tenant, Sensor: "urn:test", SendTime: rollupDay0, DataVersion: "v", ItemCount: n}
	for range n {
		env.Events = append(env.Events, store.Event{ID: uuid.New(), Action: []string{"Viewed", "Graded"}[rng.IntN(2)], Type: "ViewEvent",
			Profile: []string{"", "ReadingProfile"}[rng.IntN(2)], GroupID: []string{"", "https://example.edu/c/1", "https://example.edu/c/2"}[rng.IntN(3)],
			ActorID:   actor,
			EventTime: rollupDay0.Add(time.Duration(rng.Int64N(int64(240 * time.Hour)))).Truncate(time.Microsecond),
			Data:      []byte(`{"actor":"` + actor + `"}`)})
	}
	if _, err := db.SaveEnvelope(context.Background(), env); err != nil {
		t.Fatal(err)
	}
}

// exported returns every event of tenant as exported, by id.
func exported(t *testing.T, db store.Backend, tenant int64) map[uuid.UUID]string {
	t.Helper()
	out := map[uuid.UUID]string{}
	err := db.ExportEvents(context.Background(), store.EventFilter{TenantID: tenant}, false, func(e *store.StoredEvent) error {
		out[e.ID] = string(e.Data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sketchesOff counts the days whose distinct actors from the sketches are
// not the scan's exact count, for the tenant and for each course of the
// fixture. It has a few actors a day, where the sketch counts exactly
// (linear counting), so any difference is a stale sketch.
func sketchesOff(t *testing.T, db store.Backend, tenant int64) int {
	t.Helper()
	off := 0
	for _, courses := range [][]string{nil, {"https://example.edu/c/1"}, {"https://example.edu/c/2"}} {
		q := store.StatsQuery{Filter: store.EventFilter{TenantID: tenant, Courses: courses}, By: []string{"day"}, Limit: 1000, Distinct: store.DistinctActors}
		got, err := db.Stats(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		q.Scan = true
		want, err := db.Stats(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		exact := map[string]int64{}
		for _, r := range want.Rows {
			exact[*r.Keys[0]] = r.Count
		}
		for _, r := range got.Rows {
			if exact[*r.Keys[0]] != r.Count {
				off++
			}
		}
	}
	return off
}

// countHolding counts the events whose JSON holds the IRI.
func countHolding(events map[uuid.UUID]string) int {
	n := 0
	for _, data := range events {
		if holds(data) {
			n++
		}
	}
	return n
}

// holds reports whether JSON text holds the IRI as a whole string.
func holds(s string) bool { return strings.Contains(s, `"`+erasedActor+`"`) }

// TestEraseActor: erasing an actor who appears as actor, object, group
// member, grader, in extensions and as an entity leaves no occurrence of
// the IRI in events, entities, envelopes or exports; other learners' data
// and other tenants are untouched; a dry run changes nothing; roll-ups stay
// equal to a scan; the audit record has a hash, not the IRI.
func TestEraseActor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		f := setupErase(t, kind)
		db, ctx := f.db, context.Background()
		rng := rand.New(rand.NewPCG(3, 4))
		saveMixed(t, db, f.a, 300, rng)
		saveActorEvents(t, db, f.a, erasedActor, 200, rng)
		rollUp(t, db)
		saveActorEvents(t, db, f.a, erasedActor, 50, rng) // after the roll-up position
		saveMixed(t, db, f.a, 50, rng)

		before := exported(t, db, f.a)
		beforeB := exported(t, db, f.b)
		counts, _ := db.TableCounts(ctx)
		dry, err := db.EraseActor(ctx, store.EraseRequest{TenantID: f.a, Actor: erasedActor, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		// At once: the actor's events, the one with the actor as object
		// (indexed), the entities, the envelopes of the deleted events.
		want := store.ActorErasure{DryRun: true, Subject: dry.Subject, EventsDeleted: 3 + 250, EventsRedacted: 1,
			EntitiesDeleted: 1, EntitiesRedacted: 1, EnvelopesDeleted: 3, EnvelopesRedacted: 1}
		if dry != want || len(dry.Subject) != 64 {
			t.Fatalf("dry run: %+v, want %+v", dry, want)
		}
		if after, _ := db.TableCounts(ctx); after != counts {
			t.Fatalf("the dry run changed the tables: %+v, then %+v", counts, after)
		}
		if after := exported(t, db, f.a); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatal("the dry run changed events")
		}
		checkRollupsExact(t, db, f.a)

		res, err := db.EraseActor(ctx, store.EraseRequest{TenantID: f.a, Actor: erasedActor, KeyID: 0})
		want.DryRun, want.ID = false, res.ID
		if err != nil || res != want || res.ID == 0 {
			t.Fatalf("erase: %+v %v, want %+v", res, err, want)
		}
		// Before the sweep: the member, the grader and the extensions still
		// hold the IRI, and the record says the erasure is not complete.
		if n := countHolding(exported(t, db, f.a)); n != 2 {
			t.Errorf("%d events hold the IRI before the sweep, want 2 (member; grader and extensions)", n)
		}
		if recs, err := db.Erasures(ctx, f.a, res.ID); err != nil || len(recs) != 1 || recs[0].Complete || recs[0].CompletedAt != nil {
			t.Fatalf("record before the sweep: %+v %v", recs, err)
		}
		checkRollupCounts(t, db, f.a)
		if off := sketchesOff(t, db, f.a); off == 0 {
			t.Error("before the sweep, no day's distinct actors count the erased actor: the test cannot see the rebuild")
		}
		if done, err := store.SweepFor(ctx, db, time.Minute); err != nil || !done {
			t.Fatalf("sweep: done %v, %v", done, err)
		}
		recs, err := db.Erasures(ctx, f.a, 0)
		want.Complete, want.EventsRedacted = true, 3
		if err != nil || len(recs) != 1 || recs[0].ActorErasure != want || recs[0].CompletedAt == nil || recs[0].KeyID != 0 {
			t.Fatalf("record after the sweep: %+v %v, want %+v", recs, err, want)
		}
		if _, err := db.Erasures(ctx, f.b, res.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another tenant's record: %v, want not found", err)
		}

		// No occurrence left: events and exports, the indexed columns,
		// entities, rebuilt envelopes.
		after := exported(t, db, f.a)
		for id, data := range after {
			if holds(data) {
				t.Errorf("event %s still holds the IRI: %s", id, data)
			}
			if b := before[id]; b != data && !holds(b) {
				t.Errorf("event %s changed without holding the IRI:\n%s\n%s", id, b, data)
			}
		}
		if len(after) != len(before)-253 {
			t.Errorf("%d events left of %d, want 253 fewer", len(after), len(before))
		}
		for _, filter := range []store.EventFilter{{TenantID: f.a, Actors: []string{erasedActor}}, {TenantID: f.a, Objects: []string{erasedActor}}} {
			if evs, err := db.ListEvents(ctx, filter, nil, true, 10); err != nil || len(evs) != 0 {
				t.Errorf("filter %+v still finds %d events (%v)", filter, len(evs), err)
			}
		}
		if evs, _ := db.ListEvents(ctx, store.EventFilter{TenantID: f.a, Objects: []string{store.ErasedIRI}}, nil, true, 10); len(evs) != 1 {
			t.Errorf("%d events with object %s, want the one that had the actor as object", len(evs), store.ErasedIRI)
		}
		if _, err := db.EntityByID(ctx, f.a, erasedActor); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the actor's entity: %v", err)
		}
		if g, err := db.EntityByID(ctx, f.a, "https://example.edu/groups/7"); err != nil || holds(string(g)) {
			t.Errorf("group entity: %s %v", g, err)
		}
		for id, what := range f.envelopes {
			env, err := db.EnvelopeByID(ctx, f.a, id)
			switch {
			case what == "only-erased":
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("envelope of the actor's events alone: %v, want it deleted", err)
				}
			case err != nil:
				t.Errorf("envelope %s: %v", what, err)
			case holds(string(env)) || bytes.Contains(env, []byte(`"$event"`)):
				t.Errorf("envelope %s rebuilt with the IRI or a reference to an erased event: %s", what, env)
			}
		}
		if got := exported(t, db, f.b); fmt.Sprint(got) != fmt.Sprint(beforeB) {
			t.Error("tenant b changed")
		}
		if _, err := db.EntityByID(ctx, f.b, erasedActor); err != nil {
			t.Errorf("tenant b's entity: %v", err)
		}
		checkRollupsExact(t, db, f.a)
		rollUp(t, db)
		checkRollupsExact(t, db, f.a)
		if off := sketchesOff(t, db, f.a); off != 0 {
			t.Errorf("after the sweep, %d days' distinct actors differ from the scan", off)
		}
		checkAudit(t, f, res.Subject)

		again, err := db.EraseActor(ctx, store.EraseRequest{TenantID: f.a, Actor: erasedActor})
		if err != nil || again != (store.ActorErasure{ID: again.ID, Subject: res.Subject}) || again.ID <= res.ID {
			t.Errorf("erasing again: %+v %v, want nothing to do", again, err)
		}
	})
}

// checkAudit finds the erasure's record, with its hash and without the IRI.
func checkAudit(t *testing.T, f *eraseFixture, subject string) {
	t.Helper()
	type record struct {
		tenant        int64
		kind, subject string
		counts        string
	}
	var records []record
	const q = `SELECT tenant_id, kind, subject, counts::text FROM erasures`
	if f.kind == "postgres" {
		conn, err := pgx.Connect(context.Background(), f.url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		rows, _ := conn.Query(context.Background(), q)
		var r record
		if _, err := pgx.ForEachRow(rows, []any{&r.tenant, &r.kind, &r.subject, &r.counts}, func() error {
			records = append(records, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	} else {
		raw, err := sql.Open("sqlite", strings.TrimPrefix(f.url, "sqlite:"))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		rows, err := raw.Query(strings.Replace(q, "counts::text", "counts", 1))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var r record
			if err := rows.Scan(&r.tenant, &r.kind, &r.subject, &r.counts); err != nil {
				t.Fatal(err)
			}
			records = append(records, r)
		}
	}
	if len(records) != 1 {
		t.Fatalf("%d audit records, want 1 (a dry run records nothing): %+v", len(records), records)
	}
	if n := rawCount(t, f, `SELECT count(*) FROM erasure_sweeps`); n != 0 {
		t.Errorf("%d sweep rows left: a completed sweep must forget the IRI", n)
	}
	r := records[0]
	var counts store.ActorErasure
	if err := json.Unmarshal([]byte(r.counts), &counts); err != nil || r.tenant != f.a || r.kind != "actor" || r.subject != subject ||
		counts.EventsDeleted != 253 || strings.Contains(r.counts, erasedActor) {
		t.Errorf("audit record %+v (%v)", r, err)
	}
}

// rawCount runs a count query on the fixture's database directly.
func rawCount(t *testing.T, f *eraseFixture, q string) int64 {
	t.Helper()
	var n int64
	if f.kind == "postgres" {
		conn, err := pgx.Connect(context.Background(), f.url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if err := conn.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	raw, err := sql.Open("sqlite", strings.TrimPrefix(f.url, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
