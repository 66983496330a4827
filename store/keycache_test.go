package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// openTwice opens two handles on one database, as two nodes would.
func openTwice(t *testing.T, kind string) (url string, a, b store.Backend) {
	t.Helper()
	url = storetest.URL(t, kind)
	open := func() store.Backend {
		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		return db
	}
	return url, open(), open()
}

// refusedWithin polls until db no longer accepts token, and says how long it took.
func refusedWithin(t *testing.T, db store.Backend, token string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		_, err := db.KeyByToken(context.Background(), token)
		if errors.Is(err, store.ErrNotFound) {
			return time.Since(start)
		}
		if err != nil {
			t.Fatalf("key by token: %v", err)
		}
		if time.Since(start) > limit {
			t.Fatalf("key still accepted %v after it was revoked", limit)
		}
		time.Sleep(time.Millisecond)
	}
}

// warm authenticates token on db until its key cache (where there is one)
// serves it from memory.
func warm(t *testing.T, db store.Backend, token string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := db.KeyByToken(context.Background(), token); err != nil {
			t.Fatalf("key by token: %v", err)
		}
		pg, ok := db.(*store.Postgres)
		if !ok || pg.KeyCacheStats().Hits > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("key cache never served a hit: %+v", pg.KeyCacheStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKeyRevokedElsewhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		_, a, b := openTwice(t, kind)
		ctx := context.Background()
		k, token, err := a.CreateKey(ctx, "t1", "sensor", []string{store.ScopeWrite})
		if err != nil {
			t.Fatal(err)
		}
		warm(t, b, token)
		warm(t, a, token)
		if err := a.RevokeKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.KeyByToken(ctx, token); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the node that revoked still accepts the key: %v", err)
		}
		took := refusedWithin(t, b, token, 5*time.Second)
		t.Logf("%s: revoked key refused by the other node after %v", kind, took)
	})
}

func TestKeyRevokedBySQL(t *testing.T) {
	url, _, db := openTwice(t, "postgres")
	pg := db.(*store.Postgres)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	newKey := func() (store.Key, string) {
		k, token, err := pg.CreateKey(ctx, "t1", "sensor", []string{store.ScopeWrite})
		if err != nil {
			t.Fatal(err)
		}
		warm(t, pg, token)
		return k, token
	}

	k, token := newKey()
	exec(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, k.ID)
	refusedWithin(t, pg, token, 5*time.Second)

	k, token = newKey()
	exec(`DELETE FROM api_keys WHERE id = $1`, k.ID)
	refusedWithin(t, pg, token, 5*time.Second)

	// A renamed tenant reaches cached keys too.
	_, token = newKey()
	exec(`UPDATE tenants SET name = 'renamed' WHERE name = 't1'`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := pg.KeyByToken(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.Tenant == "renamed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tenant still %q after rename", got.Tenant)
		}
		time.Sleep(time.Millisecond)
	}

	// A listener that loses its connection comes back and listens again.
	listener := func() (pid int32) {
		_ = conn.QueryRow(ctx, `SELECT coalesce(max(pid), 0) FROM pg_stat_activity
WHERE application_name = 'lrs key cache listener' AND datname = current_database()`).Scan(&pid)
		return pid
	}
	old := listener()
	if old == 0 {
		t.Fatal("no key cache listener connected")
	}
	exec(`SELECT pg_terminate_backend($1)`, old)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if pid := listener(); pid != 0 && pid != old && pg.KeyCacheStats().On {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("key cache listener did not reconnect")
		}
	}
	k, token = newKey()
	exec(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, k.ID)
	refusedWithin(t, pg, token, 5*time.Second)

	// Without notifications (the triggers dropped, as by a migration down)
	// the reconnected listener leaves the cache off: every lookup asks the
	// database, so an unnotified revocation is still seen at once.
	exec(`DROP TRIGGER api_keys_notify_update ON api_keys`)
	exec(`SELECT pg_terminate_backend($1)`, listener())
	for deadline := time.Now().Add(5 * time.Second); pg.KeyCacheStats().On; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("key cache still on without its triggers")
		}
	}
	k, token, err = pg.CreateKey(ctx, "t1", "sensor", []string{store.ScopeWrite})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := pg.KeyByToken(ctx, token); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond) // past the listener's first retries
	if pg.KeyCacheStats().On {
		t.Fatal("key cache turned on without its triggers")
	}
	exec(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, k.ID)
	if _, err := pg.KeyByToken(ctx, token); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unnotified revocation not seen at once: %v", err)
	}
}
