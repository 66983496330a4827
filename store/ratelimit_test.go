package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
)

// TestKeyRateLimit: a key's own rate limit is stored with it, read back by
// token (past the key cache) and by list, lifted by 0 and reset by nil.
func TestKeyRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		db := storetest.Open(t, kind)
		k, token, err := db.CreateKey(ctx, "t", "", []string{store.ScopeWrite})
		if err != nil {
			t.Fatal(err)
		}
		read := func() *float64 {
			t.Helper()
			got, err := db.KeyByToken(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := db.ListKeys(ctx)
			if err != nil || len(keys) != 1 {
				t.Fatalf("list keys: %v %v", keys, err)
			}
			if (got.RateLimit == nil) != (keys[0].RateLimit == nil) || got.RateLimit != nil && *got.RateLimit != *keys[0].RateLimit {
				t.Fatalf("by token %v, listed %v", got.RateLimit, keys[0].RateLimit)
			}
			return got.RateLimit
		}
		if l := read(); l != nil {
			t.Fatalf("new key has limit %v, want none of its own", *l)
		}
		for _, v := range []float64{250.5, 0} {
			if err := db.SetKeyRateLimit(ctx, k.ID, &v); err != nil {
				t.Fatal(err)
			}
			if l := read(); l == nil || *l != v {
				t.Fatalf("after setting %v: %v", v, l)
			}
		}
		if err := db.SetKeyRateLimit(ctx, k.ID, nil); err != nil {
			t.Fatal(err)
		}
		if l := read(); l != nil {
			t.Fatalf("after reset: %v", *l)
		}
		neg := -1.0
		if err := db.SetKeyRateLimit(ctx, k.ID, &neg); err == nil {
			t.Error("a negative limit was stored")
		}
		one := 1.0
		if err := db.SetKeyRateLimit(ctx, k.ID+99, &one); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown key: %v, want ErrNotFound", err)
		}
	})
}
