package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/pgtest"
	"github.com/lrs-dev/lrs/store/storetest"
)

// containsCases are the JSON-containment rules of the contains filter:
// PostgreSQL's jsonb @>, which the embedded store must reproduce.
var containsCases = []struct {
	name, doc, pattern string
	want               bool
}{
	{"Same", `{"a":1}`, `{"a":1}`, true},
	{"Subset", `{"a":1,"b":2}`, `{"a":1}`, true},
	{"OtherValue", `{"a":1}`, `{"a":2}`, false},
	{"MissingKey", `{"a":1}`, `{"b":1}`, false},
	{"Empty", `{"a":1}`, `{}`, true},
	{"NumberFormat", `{"a":1.0}`, `{"a":1}`, true},
	{"Exponent", `{"a":1e2}`, `{"a":100}`, true},
	{"Fraction", `{"a":0.10}`, `{"a":0.1}`, true},
	{"StringNotNumber", `{"a":"1"}`, `{"a":1}`, false},
	{"BoolNotNumber", `{"a":true}`, `{"a":1}`, false},
	{"Null", `{"a":null}`, `{"a":null}`, true},
	{"NullNotMissing", `{"b":1}`, `{"a":null}`, false},
	{"CaseMatters", `{"a":"x"}`, `{"a":"X"}`, false},
	{"Escapes", `{"a":"é"}`, `{"a":"\u00e9"}`, true},
	{"ArrayAnyOrder", `{"a":[1,2,3]}`, `{"a":[3,1]}`, true},
	{"ArrayRepeats", `{"a":[1,2]}`, `{"a":[1,1]}`, true},
	{"ArrayMissing", `{"a":[1,2]}`, `{"a":[4]}`, false},
	{"ScalarNotInArray", `{"a":[1,2]}`, `{"a":1}`, false},
	{"ArrayNotScalar", `{"a":1}`, `{"a":[1]}`, false},
	{"NestedObject", `{"a":{"b":{"c":1},"d":2}}`, `{"a":{"b":{}}}`, true},
	{"NestedDeep", `{"a":{"b":{"c":1}}}`, `{"a":{"b":{"c":2}}}`, false},
	{"ObjectsInArray", `{"a":[{"b":1,"c":2},{"d":3}]}`, `{"a":[{"b":1}]}`, true},
	{"ObjectsInArrayNoMatch", `{"a":[{"b":1},{"c":2}]}`, `{"a":[{"b":1,"c":2}]}`, false},
}

// TestContainsMatchesPostgres checks each case against PostgreSQL's own
// operator, then runs it as a contains filter on both stores.
func TestContainsMatchesPostgres(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, c := range containsCases {
		var got bool
		if err := conn.QueryRow(ctx, `SELECT $1::jsonb @> $2::jsonb`, c.doc, c.pattern).Scan(&got); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: PostgreSQL says %s @> %s is %v, the table %v", c.name, c.doc, c.pattern, got, c.want)
		}
	}
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		for i, c := range containsCases {
			t.Run(c.name, func(t *testing.T) {
				tenant := saveDocs(t, db, fmt.Sprintf("contains-%d", i), c.doc)
				events, err := db.ListEvents(ctx, store.EventFilter{TenantID: tenant, Contains: [][]byte{[]byte(c.pattern)}}, nil, false, 10)
				if err != nil {
					t.Fatal(err)
				}
				if got := len(events) == 1; got != c.want {
					t.Errorf("%s contains %s: got %v, want %v", c.doc, c.pattern, got, c.want)
				}
			})
		}
	})
}

// saveDocs stores one event per doc (an event's JSON) for a new tenant and
// returns the tenant's id.
func saveDocs(t *testing.T, db store.Backend, tenant string, docs ...string) int64 {
	t.Helper()
	ctx := context.Background()
	id, err := db.EnsureTenant(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	env := &store.Envelope{TenantID: id, Sensor: "urn:test", SendTime: at, DataVersion: "v", ItemCount: len(docs)}
	for i, doc := range docs {
		env.Events = append(env.Events, store.Event{ID: uuid.New(), Type: "Event", Action: "Viewed",
			ActorID: fmt.Sprintf("urn:actor:%d", i%2), EventTime: at.Add(time.Duration(i) * time.Hour), Data: []byte(doc)})
	}
	if _, err := db.SaveEnvelope(ctx, env); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestStatDimensions: every dimension query offers has SQL in both stores,
// and both count alike.
func TestStatDimensions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		tenant := saveDocs(t, db, "stats", `{"n":1}`, `{"n":2}`, `{"n":3}`)
		for _, d := range query.StatDimensions {
			ans, err := db.Stats(context.Background(), store.StatsQuery{Filter: store.EventFilter{TenantID: tenant}, By: []string{d}, Limit: 10})
			rows := ans.Rows
			if err != nil {
				t.Fatalf("by %s: %v", d, err)
			}
			var total int64
			for _, r := range rows {
				total += r.Count
			}
			if total != 3 {
				t.Errorf("by %s: %d events counted, want 3", d, total)
			}
		}
		ans, err := db.Stats(context.Background(), store.StatsQuery{Filter: store.EventFilter{TenantID: tenant}, By: []string{"hour"}, Limit: 10})
		rows := ans.Rows
		if err != nil || len(rows) != 3 || *rows[0].Keys[0] != "2026-01-02T03:00:00Z" {
			t.Errorf("by hour: %v, %v", rows, err)
		}
		if _, err := db.Stats(context.Background(), store.StatsQuery{Filter: store.EventFilter{TenantID: tenant}, By: []string{"nope"}, Limit: 10}); err == nil {
			t.Error("unknown dimension: no error")
		}
	})
}

// TestFilterAnyOf: several values of one filter are alternatives, in both
// dialects (an array on PostgreSQL, IN (…) on SQLite); times bound as given.
func TestFilterAnyOf(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		tenant := saveDocs(t, db, "anyof", `{"n":1}`, `{"n":2}`, `{"n":3}`)
		since := time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			name string
			f    store.EventFilter
			want int
		}{
			{"One", store.EventFilter{Actors: []string{"urn:actor:0"}}, 2},
			{"Two", store.EventFilter{Actors: []string{"urn:actor:0", "urn:actor:1"}}, 3},
			{"None", store.EventFilter{Actors: []string{"urn:actor:9", "urn:actor:8"}}, 0},
			{"Since", store.EventFilter{Since: &since}, 2},
			{"SinceAndActor", store.EventFilter{Since: &since, Actors: []string{"urn:actor:0"}}, 1},
			{"Until", store.EventFilter{Until: &since}, 1},
			{"Sensor", store.EventFilter{Sensors: []string{"urn:other", "urn:test"}}, 3},
			{"ContainsEither", store.EventFilter{Contains: [][]byte{[]byte(`{"n":1}`), []byte(`{"n":3}`)}}, 2},
		} {
			c.f.TenantID = tenant
			events, err := db.ListEvents(context.Background(), c.f, nil, false, 10)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if len(events) != c.want {
				t.Errorf("%s: %d events, want %d", c.name, len(events), c.want)
			}
		}
	})
}
