// Package storetest runs one test suite against every store backend: each
// test gets a fresh, migrated database of each kind.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/pgtest"
)

// Kinds are the backends the contract suite covers.
var Kinds = []string{"postgres", "sqlite"}

// URL returns the URL of a new, migrated, empty database of kind for t.
func URL(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case "postgres":
		return pgtest.URL(t)
	case "sqlite":
		url := "sqlite:" + filepath.Join(t.TempDir(), "lrs.db")
		if err := store.MigrateUp(context.Background(), url); err != nil {
			t.Fatalf("migrate sqlite: %v", err)
		}
		return url
	}
	t.Fatalf("unknown backend %q", kind)
	return ""
}

// Open returns a new, migrated, empty store of kind, closed when t ends.
func Open(t testing.TB, kind string) store.Backend {
	t.Helper()
	db, err := store.Open(context.Background(), URL(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// Each runs fn as a subtest for every backend.
func Each(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, kind) })
	}
}
