package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/pgtest"
)

// TestReadyScarcePool: with every pooled connection busy, readiness does not
// queue for one (and time out) while writes succeed; it does not open a
// connection of its own either.
func TestReadyScarcePool(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, pgtest.URL(t)+"&pool_max_conns=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	k, _, err := db.CreateKey(ctx, "t", "test", []string{store.ScopeWrite})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Ready(ctx); err != nil {
		t.Fatalf("idle: %v", err)
	}
	ev := store.Event{ID: uuid.New(), Type: "ViewEvent", Action: "Viewed", EventTime: time.Now(), Data: []byte(`{}`)}
	if _, err := db.SaveEnvelope(ctx, &store.Envelope{TenantID: k.TenantID, SendTime: time.Now(), Events: []store.Event{ev}}); err != nil {
		t.Fatal(err)
	}
	release := store.HoldConns(t, db)
	defer release()
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := db.Ready(pctx); err != nil {
		t.Errorf("pool busy, writes succeeding: %v", err)
	}
	release()
	if _, err := db.Ready(ctx); err != nil {
		t.Errorf("pool free again: %v", err)
	}
}

// TestReadyReadOnly: a database that takes no writes is not ready.
func TestReadyReadOnly(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenPostgres(ctx, pgtest.URL(t)+"&default_transaction_read_only=on")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Ready(ctx)
	var nr *store.NotReady
	if !errors.As(err, &nr) || !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("read-only database: Ready = %v, want *NotReady", err)
	}
	_, _, err = db.CreateKey(ctx, "t", "test", []string{store.ScopeWrite})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("write on a read-only database: %v, want ErrUnavailable", err)
	}
}
