package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// copyFixture is what fillStore wrote: enough to read everything back.
type copyFixture struct {
	tokens    map[string]string // key label → token
	envelopes map[int64][]string
	entities  map[int64][]string
}

// fillStore writes two tenants with keys (one revoked), envelopes with
// events, an envelope of duplicates only, entities (one re-described, one a
// bare IRI) and an envelope without a key.
func fillStore(t *testing.T, db store.Backend, round int, fx *copyFixture) {
	t.Helper()
	ctx := context.Background()
	if fx.tokens == nil {
		*fx = copyFixture{tokens: map[string]string{}, envelopes: map[int64][]string{}, entities: map[int64][]string{}}
	}
	for _, tenant := range []string{"uni", "school"} {
		k, token, err := db.CreateKey(ctx, tenant, fmt.Sprintf("%s-%d", tenant, round), []string{"write", "read"})
		if err != nil {
			t.Fatal(err)
		}
		fx.tokens[k.Label] = token
		if tenant == "uni" { // a key's own rate limit is copied with it
			limit := 12.5 + float64(round)
			if err := db.SetKeyRateLimit(ctx, k.ID, &limit); err != nil {
				t.Fatal(err)
			}
		}
		if _, old, err := db.CreateKey(ctx, tenant, fmt.Sprintf("%s-%d-revoked", tenant, round), []string{"admin"}); err != nil {
			t.Fatal(err)
		} else if k2, err := db.KeyByToken(ctx, old); err != nil {
			t.Fatal(err)
		} else if err := db.RevokeKey(ctx, k2.ID); err != nil {
			t.Fatal(err)
		}
		var first store.Event
		for i := 0; i < 7; i++ {
			evs := []store.Event{copyEvent(tenant, i), copyEvent(tenant, i)}
			evs[1].ID = uuid.New()
			if i == 0 {
				first = evs[0]
			}
			entity := fmt.Sprintf("https://example.edu/%s/doc/%d", tenant, i%3)
			env := &store.Envelope{TenantID: k.TenantID, APIKeyID: k.ID, Sensor: "https://example.edu/sensors/" + tenant,
				SendTime: time.Date(2026, 11, 1, 10, i, 0, 123456000, time.UTC), DataVersion: "http://purl.imsglobal.org/ctx/caliper/v1p2",
				ItemCount: 3, Events: evs,
				Entities: []store.Entity{{ID: entity, Type: "Document", Data: fmt.Appendf(nil, `{"id":%q,"type":"Document","name":"v%d"}`, entity, i)}}}
			if i == 6 {
				env.APIKeyID = 0 // stored by an import, not a key
				env.Entities = append(env.Entities, store.Entity{ID: "https://example.edu/bare/" + tenant, Data: fmt.Appendf(nil, "%q", "https://example.edu/bare/"+tenant)})
			}
			env.Skeleton = skeleton(env)
			res, err := db.SaveEnvelope(ctx, env)
			if err != nil {
				t.Fatal(err)
			}
			fx.envelopes[k.TenantID] = append(fx.envelopes[k.TenantID], res.EnvelopeID)
			fx.entities[k.TenantID] = append(fx.entities[k.TenantID], entity, "https://example.edu/bare/"+tenant)
		}
		dup := &store.Envelope{TenantID: k.TenantID, APIKeyID: k.ID, Sensor: "s", SendTime: time.Now().UTC(),
			DataVersion: "http://purl.imsglobal.org/ctx/caliper/v1p2", ItemCount: 1, Events: []store.Event{first}}
		dup.Skeleton = skeleton(dup)
		res, err := db.SaveEnvelope(ctx, dup)
		if err != nil || res.Duplicates != 1 {
			t.Fatalf("duplicate envelope: %+v %v", res, err)
		}
		fx.envelopes[k.TenantID] = append(fx.envelopes[k.TenantID], res.EnvelopeID)
	}
}

func copyEvent(tenant string, i int) store.Event {
	id := uuid.New()
	return store.Event{ID: id, Type: "ViewEvent", Action: "Viewed", ActorID: "https://example.edu/" + tenant + "/users/1",
		ObjectID: "https://example.edu/doc", ObjectType: "Document", GroupID: "https://example.edu/courses/" + tenant,
		Profile: "ReadingProfile", EventTime: time.Date(2026, 11, 1, 9, i, 0, 1000, time.UTC),
		Data: fmt.Appendf(nil, `{"id":"urn:uuid:%s", "type":"ViewEvent","action":"Viewed","n":%d,"nested":{"z":1,"a":[1,2.50,"x"]}}`, id, i)}
}

func skeleton(env *store.Envelope) []byte {
	data := []any{}
	for _, e := range env.Events {
		data = append(data, map[string]string{"$event": e.ID.String()})
	}
	for _, e := range env.Entities {
		data = append(data, json.RawMessage(e.Data))
	}
	b, _ := json.Marshal(map[string]any{"sensor": env.Sensor, "sendTime": env.SendTime.Format(time.RFC3339Nano),
		"dataVersion": env.DataVersion, "data": data})
	return b
}

// storeView is everything the read API shows of a store, with JSON decoded
// so that key order and white space do not count.
type storeView struct {
	Keys      []store.Key
	Events    map[int64][]any
	Envelopes map[string]any
	Entities  map[string]any
	Counts    store.TableCounts
}

func viewStore(t *testing.T, db store.Backend, fx *copyFixture) storeView {
	t.Helper()
	ctx := context.Background()
	v := storeView{Events: map[int64][]any{}, Envelopes: map[string]any{}, Entities: map[string]any{}}
	var err error
	if v.Keys, err = db.ListKeys(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range v.Keys {
		v.Keys[i].CreatedAt = v.Keys[i].CreatedAt.UTC()
		// When a key was last used is each store's own activity: lrs copy
		// does not carry it (docs/operations.md).
		v.Keys[i].LastUsedAt = nil
		if r := v.Keys[i].RevokedAt; r != nil {
			u := r.UTC()
			v.Keys[i].RevokedAt = &u
		}
	}
	if v.Counts, err = db.TableCounts(ctx); err != nil {
		t.Fatal(err)
	}
	for tenant, envs := range fx.envelopes {
		evs, err := db.ListEvents(ctx, store.EventFilter{TenantID: tenant}, nil, true, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			var data any
			if err := json.Unmarshal(e.Data, &data); err != nil {
				t.Fatal(err)
			}
			row := e.Event
			row.Data = nil
			row.EventTime = row.EventTime.UTC()
			v.Events[tenant] = append(v.Events[tenant], []any{row, e.EnvelopeID, e.StoredAt.UTC(), data})
		}
		for _, id := range envs {
			raw, err := db.EnvelopeByID(ctx, tenant, id)
			if err != nil {
				t.Fatalf("envelope %s: %v", id, err)
			}
			var doc any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			v.Envelopes[id] = doc
		}
		for _, id := range fx.entities[tenant] {
			raw, err := db.EntityByID(ctx, tenant, id)
			if err != nil {
				t.Fatalf("entity %s: %v", id, err)
			}
			var doc any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			v.Entities[fmt.Sprint(tenant, " ", id)] = doc
		}
	}
	return v
}

func sameView(t *testing.T, what string, got, want storeView) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("%s: the copy differs from the source\ngot  %s\nwant %s", what, g, w)
	}
}

// TestCopy copies a store between every pair of backends, in batches of 3:
// the target shows what the source shows (keys, events in stored order,
// envelopes and entities by id), its keys authenticate and revoked ones do
// not; a second run changes nothing; a run after the source changed brings
// the changes (new rows, a revocation); the target then takes writes of its
// own with fresh ids, and an event sent again is a duplicate there too.
func TestCopy(t *testing.T) {
	for _, from := range storetest.Kinds {
		for _, to := range storetest.Kinds {
			t.Run(from+"-to-"+to, func(t *testing.T) {
				ctx := context.Background()
				src, dst := storetest.Open(t, from), storetest.Open(t, to)
				var fx copyFixture
				fillStore(t, src, 1, &fx)
				var calls int
				opt := store.CopyOptions{Batch: 3, Progress: func(store.CopyProgress) { calls++ }}
				rep, err := store.Copy(ctx, src, dst, opt)
				if err != nil {
					t.Fatal(err)
				}
				want := viewStore(t, src, &fx)
				sameView(t, "first run", viewStore(t, dst, &fx), want)
				if rep.EventsLoaded != want.Counts.Events || rep.EventsTotal != want.Counts.Events || calls < 10 {
					t.Errorf("report %+v after %d progress calls, want %d events in batches", rep, calls, want.Counts.Events)
				}
				for label, token := range fx.tokens {
					if _, err := dst.KeyByToken(ctx, token); err != nil {
						t.Errorf("key %s does not authenticate on the copy: %v", label, err)
					}
				}

				rep, err = store.Copy(ctx, src, dst, opt)
				if err != nil || rep.EventsLoaded != 0 {
					t.Fatalf("second run: %+v, %v; want nothing loaded", rep, err)
				}
				sameView(t, "second run", viewStore(t, dst, &fx), want)

				fillStore(t, src, 2, &fx)
				keys, _ := src.ListKeys(ctx)
				if err := src.RevokeKey(ctx, keys[0].ID); err != nil {
					t.Fatal(err)
				}
				if _, err := store.Copy(ctx, src, dst, opt); err != nil {
					t.Fatal(err)
				}
				want = viewStore(t, src, &fx)
				sameView(t, "after the source changed", viewStore(t, dst, &fx), want)
				if _, err := dst.KeyByToken(ctx, fx.tokens[keys[0].Label]); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("key revoked in the source still authenticates on the copy: %v", err)
				}
				checkWritesAfterCopy(t, src, dst, &fx)
			})
		}
	}
}

// checkWritesAfterCopy: new tenants, keys and envelopes on the copy get ids
// past the copied ones; an event the source had is a duplicate.
func checkWritesAfterCopy(t *testing.T, src, dst store.Backend, fx *copyFixture) {
	t.Helper()
	ctx := context.Background()
	keys, _ := src.ListKeys(ctx)
	k, _, err := dst.CreateKey(ctx, "new-tenant", "new", []string{"write"})
	if err != nil {
		t.Fatal(err)
	}
	if last := keys[len(keys)-1]; k.ID <= last.ID || k.TenantID <= last.TenantID {
		t.Errorf("new key %d of tenant %d on the copy, want ids past key %d and tenant %d", k.ID, k.TenantID, last.ID, last.TenantID)
	}
	tenant := keys[0].TenantID
	old, err := src.ListEvents(ctx, store.EventFilter{TenantID: tenant}, nil, true, 1)
	if err != nil || len(old) != 1 {
		t.Fatal(err)
	}
	env := &store.Envelope{TenantID: tenant, Sensor: "s", SendTime: time.Now(), DataVersion: "v", ItemCount: 2,
		Events: []store.Event{old[0].Event, copyEvent("x", 1)}}
	res, err := dst.SaveEnvelope(ctx, env)
	if err != nil || res.Duplicates != 1 || res.EventsStored != 1 {
		t.Fatalf("envelope on the copy: %+v, %v; want 1 stored, 1 duplicate", res, err)
	}
	for _, id := range fx.envelopes[tenant] {
		if id == res.EnvelopeID {
			t.Fatalf("the copy handed out envelope id %s again", id)
		}
	}
}

// TestCopyResume interrupts copies part-way (the context ends after a few
// batches, at a different table each time) and runs again: the last run
// ends with the same content as the source and nothing twice.
func TestCopyResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		other := map[string]string{"postgres": "sqlite", "sqlite": "postgres"}[kind]
		src, dst := storetest.Open(t, kind), storetest.Open(t, other)
		var fx copyFixture
		fillStore(t, src, 1, &fx)
		fillStore(t, src, 2, &fx)
		for _, stopAt := range []string{"keys", "envelopes", "events", "events", "entities"} {
			ctx, cancel := context.WithCancel(context.Background())
			n := 0
			_, err := store.Copy(ctx, src, dst, store.CopyOptions{Batch: 2, Progress: func(p store.CopyProgress) {
				if p.Table == stopAt {
					if n++; n == 2 {
						cancel()
					}
				}
			}})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted at %s: %v", stopAt, err)
			}
		}
		if _, err := store.Copy(context.Background(), src, dst, store.CopyOptions{Batch: 2}); err != nil {
			t.Fatal(err)
		}
		sameView(t, "after interrupted runs", viewStore(t, dst, &fx), viewStore(t, src, &fx))
	})
}

// TestCopyRefusesOtherStore: a target holding other data is refused before
// anything is written.
func TestCopyRefusesOtherStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		src := storetest.Open(t, kind)
		var fx copyFixture
		fillStore(t, src, 1, &fx)
		t.Run("KeysOnly", func(t *testing.T) {
			dst := storetest.Open(t, kind)
			if _, _, err := dst.CreateKey(ctx, "someone", "", []string{"read"}); err != nil {
				t.Fatal(err)
			}
			refused(t, src, dst)
		})
		t.Run("AnotherStore", func(t *testing.T) {
			dst := storetest.Open(t, kind)
			var other copyFixture
			fillStore(t, dst, 1, &other)
			refused(t, src, dst)
		})
		t.Run("WrittenSinceCopy", func(t *testing.T) {
			dst := storetest.Open(t, kind)
			if _, err := store.Copy(ctx, src, dst, store.CopyOptions{}); err != nil {
				t.Fatal(err)
			}
			keys, _ := dst.ListKeys(ctx)
			if _, err := dst.SaveEnvelope(ctx, &store.Envelope{TenantID: keys[0].TenantID, Sensor: "s", SendTime: time.Now(),
				DataVersion: "v", ItemCount: 1, Events: []store.Event{copyEvent("x", 1)}}); err != nil {
				t.Fatal(err)
			}
			if _, err := store.Copy(ctx, src, dst, store.CopyOptions{}); !errors.Is(err, store.ErrNotCopyTarget) {
				t.Fatalf("copy into a target written since: %v, want ErrNotCopyTarget", err)
			}
		})
	})
}

func refused(t *testing.T, src, dst store.Backend) {
	t.Helper()
	ctx := context.Background()
	before, _ := dst.CopyState(ctx)
	if _, err := store.Copy(ctx, src, dst, store.CopyOptions{}); !errors.Is(err, store.ErrNotCopyTarget) {
		t.Fatalf("copy into another store: %v, want ErrNotCopyTarget", err)
	}
	if after, _ := dst.CopyState(ctx); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused copy wrote to the target: %+v → %+v", before, after)
	}
}
