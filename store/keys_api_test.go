package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// TestKeyExpiry: a key is refused from its expiry on, by the node whose
// cache holds it too (expiry is checked at every use, not when cached).
func TestKeyExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		_, a, b := openTwice(t, kind)
		ctx := context.Background()
		at := time.Now().Add(700 * time.Millisecond)
		k, token, err := a.IssueKey(ctx, store.KeySpec{Tenant: "t1", Label: "short", Scopes: []string{store.ScopeWrite}, ExpiresAt: &at})
		if err != nil {
			t.Fatal(err)
		}
		if k.ExpiresAt == nil || k.ExpiresAt.Sub(at).Abs() > time.Microsecond {
			t.Fatalf("issued key expires %v, want %v", k.ExpiresAt, at)
		}
		_, forever, err := a.IssueKey(ctx, store.KeySpec{Tenant: "t1", Scopes: []string{store.ScopeRead}})
		if err != nil {
			t.Fatal(err)
		}
		warm(t, a, token)
		warm(t, b, token)
		time.Sleep(time.Until(at) + 10*time.Millisecond)
		for i, db := range []store.Backend{a, b} {
			if _, err := db.KeyByToken(ctx, token); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("node %d accepts the key after its expiry: %v", i, err)
			}
			if _, err := db.KeyByToken(ctx, forever); err != nil {
				t.Errorf("node %d refuses a key without expiry: %v", i, err)
			}
		}
		keys, err := a.ListKeys(ctx)
		if err != nil || len(keys) != 2 || keys[0].ExpiresAt == nil || keys[1].ExpiresAt != nil {
			t.Fatalf("list: %+v %v", keys, err)
		}
		tenants, err := a.Tenants(ctx)
		if err != nil || len(tenants) != 1 || tenants[0].LiveKeys != 1 {
			t.Fatalf("tenants: %+v %v (want one live key: the other expired)", tenants, err)
		}
	})
}

// TestKeyLastUsed: a lookup notes when a key was used; the time is listed
// at once on that node and stored by the batched write, for every node.
func TestKeyLastUsed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		_, a, b := openTwice(t, kind)
		ctx := context.Background()
		k, token, err := a.CreateKey(ctx, "t1", "", []string{store.ScopeWrite})
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func(db store.Backend) *time.Time {
			t.Helper()
			keys, err := db.ListKeys(ctx)
			if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
				t.Fatalf("list: %+v %v", keys, err)
			}
			return keys[0].LastUsedAt
		}
		if at := lastUsed(a); at != nil {
			t.Fatalf("a new key was last used %v", at)
		}
		before := time.Now().Add(-time.Millisecond)
		for range 3 {
			if _, err := a.KeyByToken(ctx, token); err != nil {
				t.Fatal(err)
			}
		}
		if at := lastUsed(a); at == nil || at.Before(before) {
			t.Fatalf("the node that used the key lists last use %v, want after %v", at, before)
		}
		if err := a.FlushKeyUse(ctx); err != nil {
			t.Fatal(err)
		}
		if at := lastUsed(b); at == nil || at.Before(before.Truncate(time.Microsecond)) {
			t.Fatalf("another node lists last use %v after the write, want after %v", at, before)
		}
	})
}

// TestKeyLastUsedDoesNotNotify: writing last-used times sends no
// notification on lrs_keys (it would empty every node's key cache on every
// batch), while revoking a key still does.
func TestKeyLastUsedDoesNotNotify(t *testing.T) {
	url, a, _ := openTwice(t, "postgres")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "LISTEN lrs_keys"); err != nil {
		t.Fatal(err)
	}
	k, token, err := a.CreateKey(ctx, "t1", "", []string{store.ScopeWrite})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.KeyByToken(ctx, token); err != nil {
		t.Fatal(err)
	}
	if err := a.FlushKeyUse(ctx); err != nil {
		t.Fatal(err)
	}
	var stored *time.Time
	if err := conn.QueryRow(ctx, `SELECT last_used_at FROM api_keys WHERE id = $1`, k.ID).Scan(&stored); err != nil || stored == nil {
		t.Fatalf("last_used_at not written: %v %v", stored, err)
	}
	// Notifications come in commit order: the marker must be the first.
	next := func() string {
		t.Helper()
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		n, err := conn.WaitForNotification(wait)
		if err != nil {
			t.Fatal(err)
		}
		return n.Payload
	}
	if _, err := conn.Exec(ctx, `SELECT pg_notify('lrs_keys', 'marker')`); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "marker" {
		t.Fatalf("first notification %q: the last-used write notified", got)
	}
	if err := a.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != "api_keys" {
		t.Fatalf("revoking notified %q, want api_keys", got)
	}
}

// TestTenants: create, list and delete tenants; deleting one removes all of
// its rows (dry run: none) and leaves the others' alone.
func TestTenants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		_, db, other := openTwice(t, kind)
		ctx := context.Background()
		a, err := db.CreateTenant(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateTenant(ctx, "a"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second create: %v, want ErrConflict", err)
		}
		kb, tokenB, err := db.CreateKey(ctx, "b", "", []string{store.ScopeWrite})
		if err != nil {
			t.Fatal(err)
		}
		save := func(tenant int64, n int) {
			t.Helper()
			env := &store.Envelope{TenantID: tenant, Sensor: "urn:s", SendTime: time.Now(), DataVersion: "v", ItemCount: n + 1, Skeleton: []byte(`{"data":[]}`)}
			for range n {
				env.Events = append(env.Events, store.Event{ID: uuid.New(), Type: "ViewEvent", Action: "Viewed", ActorID: "urn:a", EventTime: time.Now(), Data: []byte(`{}`)})
			}
			env.Entities = []store.Entity{{ID: "urn:e", Type: "Person", Data: []byte(`{"id":"urn:e"}`)}}
			if _, err := db.SaveEnvelope(ctx, env); err != nil {
				t.Fatal(err)
			}
		}
		save(a.ID, 3)
		save(kb.TenantID, 5)
		save(kb.TenantID, 2)
		rollUp(t, db)
		if err := db.SaveCheckpoint(ctx, store.Checkpoint{Sink: "tenant:b", FirstLineHash: "h", Source: "/x", UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		warm(t, other, tokenB)
		list, err := db.Tenants(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "a" || list[1].Name != "b" || list[0].LiveKeys != 0 || list[1].LiveKeys != 1 {
			t.Fatalf("tenants: %+v %v", list, err)
		}
		before, _ := db.TableCounts(ctx)
		want := store.TenantDeletion{TenantID: kb.TenantID, Events: 7, Entities: 1, Envelopes: 2, Keys: 1}
		d, err := db.DeleteTenant(ctx, "b", true)
		if err != nil || d != want {
			t.Fatalf("dry run: %+v %v, want %+v", d, err, want)
		}
		if after, _ := db.TableCounts(ctx); after != before {
			t.Fatalf("the dry run changed the tables: %+v, then %+v", before, after)
		}
		if d, err = db.DeleteTenant(ctx, "b", false); err != nil || d != want {
			t.Fatalf("delete: %+v %v, want %+v", d, err, want)
		}
		after, _ := db.TableCounts(ctx)
		if after != (store.TableCounts{Envelopes: 1, Events: 3, Entities: 1}) {
			t.Fatalf("after deleting b: %+v, want a's rows alone", after)
		}
		refusedWithin(t, other, tokenB, 5*time.Second)
		if cps, err := db.Checkpoints(ctx, "tenant:b"); err != nil || len(cps) != 0 {
			t.Fatalf("b's import checkpoints: %+v %v", cps, err)
		}
		if list, _ := db.Tenants(ctx); len(list) != 1 || list[0].Name != "a" {
			t.Fatalf("tenants after delete: %+v", list)
		}
		if _, err := db.DeleteTenant(ctx, "b", false); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting again: %v, want ErrNotFound", err)
		}
		checkRollupsExact(t, db, a.ID)
	})
}
