package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/pgtest"
)

// pgTool finds a PostgreSQL client program on PATH or in Debian's layout.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name); len(m) > 0 {
		return m[len(m)-1]
	}
	t.Skipf("no %s", name)
	return ""
}

// TestPostgresBackupRestore runs docs/operations.md's pg_dump and pg_restore
// lines: the restored database has the keys and events, at a current schema.
func TestPostgresBackupRestore(t *testing.T) {
	src := pgtest.URL(t)
	dir := t.TempDir()
	getenv := env(map[string]string{"LRS_DATABASE_URL": src})
	if _, _, err := runErr(getenv, "keys", "create", "--tenant", "demo", "--scopes", "read"); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(dir, "events.json")
	os.WriteFile(events, []byte(`{"sensor":"https://example.edu/sensors/1","sendTime":"2026-11-26T10:15:00.000Z","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2",`+
		`"data":[{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:3d2c8b84-9e6a-4f1b-9f44-0c7a6a1e1f01","type":"ViewEvent","profile":"ReadingProfile",`+
		`"actor":{"id":"https://example.edu/users/554433","type":"Person"},"action":"Viewed","object":{"id":"https://example.edu/etexts/201.epub","type":"Document"},"eventTime":"2026-11-26T10:15:00.000Z"}]}`), 0o644)
	if _, stderr, err := runErr(getenv, "import", "--tenant", "demo", events); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}

	dump := filepath.Join(dir, "lrs.dump")
	if out, err := exec.Command(pgTool(t, "pg_dump"), "--format=custom", "--file", dump, src).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	// An empty database to restore into: a fresh one, emptied of its migrated schema.
	dst := pgtest.URL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(pgTool(t, "pg_restore"), "--no-owner", "--dbname", dst, dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}

	restored := env(map[string]string{"LRS_DATABASE_URL": dst})
	if out, _, err := runErr(restored, "migrate", "version"); err != nil || !strings.Contains(out, "current") {
		t.Errorf("migrate version on the restored database: %v %q", err, out)
	}
	if out, _, err := runErr(restored, "keys", "list"); err != nil || !strings.Contains(out, "demo") {
		t.Errorf("keys list on the restored database: %v %q", err, out)
	}
	db, err := store.Open(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.TableCounts(ctx); err != nil || c.Events != 1 || c.Envelopes != 1 {
		t.Errorf("restored counts %+v, %v; want 1 envelope and 1 event", c, err)
	}
}
