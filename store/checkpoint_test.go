package store_test

import (
	"context"
	"testing"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// TestCheckpoints: a follower's checkpoints are kept per sink and log (the
// hash of its first line); saving one again moves it, and the rows of
// other sinks are not seen.
func TestCheckpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		db := storetest.Open(t, kind)
		ctx := context.Background()
		got, err := db.Checkpoints(ctx, "tenant:default")
		if err != nil || len(got) != 0 {
			t.Fatalf("empty store: %v %v", got, err)
		}
		a := store.Checkpoint{Sink: "tenant:default", FirstLineHash: "aa", Source: "/var/log/tracking.log", Inode: 1 << 40, Offset: 100, Line: 3}
		for _, c := range []store.Checkpoint{a,
			{Sink: "tenant:default", FirstLineHash: "bb", Source: "/var/log/tracking.log.1", Inode: 7, Offset: 5, Line: 1},
			{Sink: "https://lrs.example.edu/edx", FirstLineHash: "aa", Source: "/other", Inode: 9, Offset: 1, Line: 1},
		} {
			if err := db.SaveCheckpoint(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		a.Source, a.Offset, a.Line = "/var/log/tracking.log-20261204", 250, 9 // renamed, read on
		if err := db.SaveCheckpoint(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err = db.Checkpoints(ctx, "tenant:default")
		if err != nil || len(got) != 2 {
			t.Fatalf("%v %v", got, err)
		}
		g := got[0]
		if g.FirstLineHash != "aa" || g.Source != a.Source || g.Inode != a.Inode || g.Offset != 250 || g.Line != 9 || g.UpdatedAt.IsZero() {
			t.Errorf("got %+v, want %+v", g, a)
		}
		if got[1].FirstLineHash != "bb" || got[1].Offset != 5 {
			t.Errorf("second: %+v", got[1])
		}
	})
}
