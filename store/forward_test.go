package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

func newForwarder(tenant int64, url string) store.Forwarder {
	return store.Forwarder{TenantID: tenant, Kind: store.ForwardWebhook, URL: url, Filter: "course=c1",
		Credentials: []byte{1, 2, 3}, Batch: 10, MaxWait: 1500 * time.Millisecond, OnReject: store.RejectDeadLetter}
}

// TestForwarderCRUD: forwarders are created, listed, read, changed and
// deleted per tenant; another tenant's are not found; deleting the tenant
// deletes them.
func TestForwarderCRUD(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		a, _ := db.EnsureTenant(ctx, "a")
		b, _ := db.EnsureTenant(ctx, "b")
		f := newForwarder(a, "https://example.edu/hook")
		f.Position = store.Position{Tx: 77, Seq: 5}
		got, err := db.CreateForwarder(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || got.Tenant != "a" || got.URL != f.URL || got.Filter != "course=c1" || string(got.Credentials) != "\x01\x02\x03" ||
			got.Batch != 10 || got.MaxWait != f.MaxWait || got.OnReject != store.RejectDeadLetter || got.Paused ||
			got.Position != f.Position || got.CreatedAt.IsZero() || got.Delivered != 0 || !got.LastSuccessAt.IsZero() {
			t.Fatalf("created %+v", got)
		}
		other, err := db.CreateForwarder(ctx, newForwarder(b, "https://example.org/b"))
		if err != nil {
			t.Fatal(err)
		}
		if list, err := db.Forwarders(ctx, a); err != nil || len(list) != 1 || list[0].ID != got.ID {
			t.Fatalf("tenant a lists %+v %v", list, err)
		}
		if all, err := db.Forwarders(ctx, 0); err != nil || len(all) != 2 {
			t.Fatalf("every tenant: %d %v", len(all), err)
		}
		if _, err := db.Forwarder(ctx, b, got.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("tenant b reads a's forwarder: %v", err)
		}
		paused, url, creds := true, "https://example.edu/new", []byte("sealed")
		up, err := db.UpdateForwarder(ctx, a, got.ID, store.ForwarderUpdate{Paused: &paused, URL: &url, Credentials: &creds})
		if err != nil || !up.Paused || up.URL != url || string(up.Credentials) != "sealed" || up.Batch != 10 {
			t.Fatalf("updated %+v %v", up, err)
		}
		if _, err := db.UpdateForwarder(ctx, b, got.ID, store.ForwarderUpdate{Paused: &paused}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("tenant b updates a's forwarder: %v", err)
		}
		if err := db.DeleteForwarder(ctx, b, got.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("tenant b deletes a's forwarder: %v", err)
		}
		if err := db.DeleteForwarder(ctx, a, got.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Forwarder(ctx, a, got.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted forwarder read: %v", err)
		}
		if _, err := db.DeleteTenant(ctx, "b", false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Forwarder(ctx, b, other.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("forwarder of a deleted tenant: %v", err)
		}
	})
}

// TestForwarderLease: one owner at a time; a paused forwarder is leased to
// nobody; an expired lease goes to the next node, and the former owner's
// writes are then refused (ErrLeaseLost); a released lease is free at once.
func TestForwarderLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		a, _ := db.EnsureTenant(ctx, "a")
		f, err := db.CreateForwarder(ctx, newForwarder(a, "https://example.edu/hook"))
		if err != nil {
			t.Fatal(err)
		}
		if _, held, err := db.LeaseForwarder(ctx, f.ID, "n1", 300*time.Millisecond); err != nil || !held {
			t.Fatalf("n1 lease: %v %v", held, err)
		}
		if _, held, err := db.LeaseForwarder(ctx, f.ID, "n2", time.Minute); err != nil || held {
			t.Fatalf("n2 took a current lease: %v %v", held, err)
		}
		if _, held, err := db.LeaseForwarder(ctx, f.ID, "n1", 300*time.Millisecond); err != nil || !held {
			t.Fatalf("n1 renews: %v %v", held, err)
		}
		time.Sleep(400 * time.Millisecond)
		got, held, err := db.LeaseForwarder(ctx, f.ID, "n2", time.Minute)
		if err != nil || !held || got.LeaseOwner != "n2" {
			t.Fatalf("n2 after expiry: %v %+v %v", held, got, err)
		}
		err = db.AdvanceForwarder(ctx, f.ID, "n1", store.ForwardProgress{Position: store.Position{Seq: 9}, At: time.Now()})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("n1 advances without the lease: %v", err)
		}
		if err := db.FailForwarder(ctx, f.ID, "n1", "x", time.Now()); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("n1 fails without the lease: %v", err)
		}
		if err := db.ReleaseForwarder(ctx, f.ID, "n2"); err != nil {
			t.Fatal(err)
		}
		if _, held, err := db.LeaseForwarder(ctx, f.ID, "n1", time.Minute); err != nil || !held {
			t.Fatalf("n1 after release: %v %v", held, err)
		}
		paused := true
		if _, err := db.UpdateForwarder(ctx, a, f.ID, store.ForwarderUpdate{Paused: &paused}); err != nil {
			t.Fatal(err)
		}
		if _, held, err := db.LeaseForwarder(ctx, f.ID, "n1", time.Minute); err != nil || held {
			t.Fatalf("paused forwarder leased: %v %v", held, err)
		}
	})
}

// TestForwarderProgress: a batch's outcome moves the position and the
// counts; a failure counts attempts until the next success; a dead letter
// is kept with the answer, counted, replayable, and marked when replayed;
// the backlog counts the events after the position.
func TestForwarderProgress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		a, _ := db.EnsureTenant(ctx, "a")
		saveMixed(t, db, a, 12, rand.New(rand.NewPCG(3, 4)))
		events, err := db.ListEvents(ctx, store.EventFilter{TenantID: a}, nil, true, 100)
		if err != nil || len(events) != 12 {
			t.Fatalf("%d events %v", len(events), err)
		}
		f, _ := db.CreateForwarder(ctx, newForwarder(a, "https://example.edu/hook"))
		if n, oldest, err := db.ForwardBacklog(ctx, a, store.Position{}); err != nil || n != 12 || !oldest.Equal(events[0].StoredAt) {
			t.Fatalf("backlog from the beginning: %d %v %v (first stored %v)", n, oldest, err, events[0].StoredAt)
		}
		if _, held, err := db.LeaseForwarder(ctx, f.ID, "n1", time.Minute); err != nil || !held {
			t.Fatal(held, err)
		}
		for range 2 {
			if err := db.FailForwarder(ctx, f.ID, "n1", "503 Service Unavailable", time.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := db.Forwarder(ctx, a, f.ID)
		if got.Attempts != 2 || got.LastError != "503 Service Unavailable" || got.LastErrorAt.IsZero() {
			t.Fatalf("after failures %+v", got)
		}
		at := time.Now()
		err = db.AdvanceForwarder(ctx, f.ID, "n1", store.ForwardProgress{Position: events[4].Position, Delivered: 5, Success: true, At: at, LeaseUntil: at.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		dl := &store.DeadLetter{After: events[4].Position, Last: events[7].Position, Events: 3, Status: 400, Response: `{"title":"Bad Request"}`}
		err = db.AdvanceForwarder(ctx, f.ID, "n1", store.ForwardProgress{Position: events[7].Position, DeadLetter: dl, At: time.Now(), LeaseUntil: at.Add(time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = db.Forwarder(ctx, a, f.ID)
		if got.Position != events[7].Position || got.Delivered != 5 || got.Attempts != 0 || got.LastSuccessAt.UnixMicro() != at.UnixMicro() || got.DeadLetters != 1 {
			t.Fatalf("after progress %+v", got)
		}
		if n, oldest, err := db.ForwardBacklog(ctx, a, got.Position); err != nil || n != 4 || !oldest.Equal(events[8].StoredAt) {
			t.Fatalf("backlog %d %v %v", n, oldest, err)
		}
		dls, err := db.DeadLetters(ctx, a, f.ID)
		if err != nil || len(dls) != 1 {
			t.Fatalf("dead letters %+v %v", dls, err)
		}
		d := dls[0]
		if d.After != dl.After || d.Last != dl.Last || d.Events != 3 || d.Status != 400 || d.Response != dl.Response || d.ReplayPending() {
			t.Fatalf("dead letter %+v", d)
		}
		b, _ := db.EnsureTenant(ctx, "b")
		if _, err := db.ReplayDeadLetter(ctx, b, f.ID, d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("tenant b replays a's dead letter: %v", err)
		}
		if dls, _ := db.DeadLetters(ctx, b, f.ID); len(dls) != 0 {
			t.Fatalf("tenant b sees a's dead letters: %+v", dls)
		}
		r, err := db.ReplayDeadLetter(ctx, a, f.ID, d.ID)
		if err != nil || !r.ReplayPending() {
			t.Fatalf("replay asked: %+v %v", r, err)
		}
		if err := db.FinishReplay(ctx, d.ID, false, 422, "still bad"); err != nil {
			t.Fatal(err)
		}
		dls, _ = db.DeadLetters(ctx, a, f.ID)
		if dls[0].ReplayPending() || dls[0].Status != 422 || dls[0].Response != "still bad" || !dls[0].ReplayedAt.IsZero() {
			t.Fatalf("refused replay %+v", dls[0])
		}
		if _, err := db.ReplayDeadLetter(ctx, a, f.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.FinishReplay(ctx, d.ID, true, 200, ""); err != nil {
			t.Fatal(err)
		}
		dls, _ = db.DeadLetters(ctx, a, f.ID)
		got, _ = db.Forwarder(ctx, a, f.ID)
		if dls[0].ReplayPending() || dls[0].ReplayedAt.IsZero() || got.DeadLetters != 0 {
			t.Fatalf("replayed %+v; forwarder counts %d", dls[0], got.DeadLetters)
		}
	})
}
