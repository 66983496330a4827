package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/pgtest"
	"github.com/lrs-dev/lrs/store/storetest"
)

// runErr runs a command and returns stdout, stderr and the error.
func runErr(getenv func(string) string, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, getenv, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestDatabaseURLForms(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, u := range []string{
		"postgres//lrs@localhost/lrs", // the typo that used to become ./postgres/lrs@localhost/lrs
		"mysql://x/y",
		"lrs",
		"./data/lrs",
		"sqlite:",
		"http://example.com/lrs.db",
	} {
		t.Run(u, func(t *testing.T) {
			_, _, err := runErr(env(nil), "keys", "list", "--database-url", u)
			if err == nil || !strings.Contains(err.Error(), "LRS_DATABASE_URL") || !strings.Contains(err.Error(), "sqlite:PATH") ||
				!strings.Contains(err.Error(), "postgresql://") || !strings.Contains(err.Error(), ".sqlite") {
				t.Errorf("error %v, want one listing the accepted forms", err)
			}
		})
	}
	t.Run("NoPasswordInError", func(t *testing.T) {
		_, _, err := runErr(env(nil), "keys", "list", "--database-url", "postgres//lrs:hunter2@localhost/lrs")
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error %v", err)
		}
	})
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused URLs created %v", entries)
	}

	for _, u := range []string{"sqlite:a.db", "file:b.db", "c.db", "d.sqlite", "sqlite:" + filepath.Join(dir, "e")} {
		t.Run(u, func(t *testing.T) {
			_, stderr, err := runErr(env(nil), "keys", "list", "--database-url", u)
			if err != nil || !strings.Contains(stderr, "store: sqlite ") {
				t.Errorf("err %v, stderr %q", err, stderr)
			}
		})
	}
}

// TestOnlyDataDirIsCreated: a missing folder of an explicit database file is
// an error; --data-dir is created, with the database file readable by its owner only.
func TestOnlyDataDirIsCreated(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexistent", "dir")
	_, _, err := runErr(env(nil), "keys", "list", "--database-url", filepath.Join(missing, "lrs.db"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexistent")); !os.IsNotExist(err) {
		t.Errorf("a folder was created: %v", err)
	}
	_, _, err = runErr(env(nil), "migrate", "up", "--database-url", "sqlite:"+filepath.Join(missing, "lrs.db"))
	if err == nil {
		t.Error("migrate up created a folder")
	}

	dataDir := filepath.Join(dir, "data", "lrs")
	_, stderr, err := runErr(env(map[string]string{"LRS_DATA_DIR": dataDir}), "keys", "create", "--tenant", "t", "--scopes", "read")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dataDir, "lrs.db")
	if !strings.Contains(stderr, "store: sqlite "+db+"\n") {
		t.Errorf("stderr %q does not name the store", stderr)
	}
	files, _ := filepath.Glob(db + "*") // lrs.db, and -wal, -shm while open
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", f, fi.Mode().Perm(), err)
		}
	}
	if len(files) == 0 {
		t.Error("no database file")
	}
}

// TestCommandsNameTheStore: every command that opens PostgreSQL says which
// database it used, without the password.
func TestCommandsNameTheStore(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.User.Password(); !ok {
		u.User = url.UserPassword(u.User.Username(), "s3cret") // the throwaway cluster trusts local connections
	}
	getenv := env(map[string]string{"LRS_DATABASE_URL": u.String()})
	want := "store: postgres " + u.User.Username() + "@" + u.Host + u.Path + "\n"
	for _, args := range [][]string{
		{"keys", "create", "--tenant", "t", "--scopes", "read"},
		{"keys", "list"},
		{"migrate", "version"},
		{"import", "--tenant", "t", os.DevNull},
	} {
		_, stderr, err := runErr(getenv, args...)
		if err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.HasPrefix(stderr, want) {
			t.Errorf("%v: stderr %q, want it to start with %q", args, stderr, want)
		}
		if p, _ := u.User.Password(); strings.Contains(stderr, p) {
			t.Errorf("%v: the password is printed: %q", args, stderr)
		}
	}
}

// TestMigrateSaysWhatItApplied: 'migrate up', 'migrate down' and 'serve
// --migrate' log the versions they went from and to.
func TestMigrateSaysWhatItApplied(t *testing.T) {
	getenv := env(map[string]string{"LRS_DATABASE_URL": pgtest.URL(t)})
	m, err := store.NewMigrator(getenv("LRS_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Status()
	m.Close()
	if err != nil {
		t.Fatal(err)
	}
	latest := st.Latest
	_, stderr, err := runErr(getenv, "migrate", "down")
	if want := fmt.Sprintf("schema %d → %d\n", latest, latest-1); err != nil || !strings.Contains(stderr, want) {
		t.Errorf("migrate down: %v, stderr %q, want %q", err, stderr, want)
	}
	_, _, logs, stop := startServerIO(t, getenv, "--migrate")
	stop()
	if want := fmt.Sprintf(`"msg":"schema %d → %d"`, latest-1, latest); !strings.Contains(logs.String(), want) {
		t.Errorf("serve --migrate logs %s, want %s", logs.String(), want)
	}
	_, stderr, err = runErr(getenv, "migrate", "up")
	if err != nil || strings.Contains(stderr, "→") {
		t.Errorf("migrate up on a current schema: %v, stderr %q", err, stderr)
	}
}

func TestMigrateForceRefusesPastLatest(t *testing.T) {
	getenv := env(map[string]string{"LRS_DATA_DIR": t.TempDir()})
	out, _, err := runErr(getenv, "migrate", "up")
	if err != nil {
		t.Fatal(err)
	}
	var version, latest int
	if _, err := fmt.Sscanf(out, "schema version %d (latest %d)", &version, &latest); err != nil || version != latest {
		t.Fatalf("migrate version: %q: %v", out, err)
	}
	if _, _, err := runErr(getenv, "migrate", "force", strconv.Itoa(latest+1)); err == nil || !strings.Contains(err.Error(), "past the latest") {
		t.Errorf("force %d: %v", latest+1, err)
	}
	if out, _, err := runErr(getenv, "migrate", "version"); err != nil || !strings.Contains(out, "current") {
		t.Errorf("after a refused force: %v %q", err, out)
	}
	if out, _, err := runErr(getenv, "migrate", "force", strconv.Itoa(latest-1)); err != nil || !strings.Contains(out, "lrs migrate up") {
		t.Errorf("force %d: %v %q", latest-1, err, out)
	}
}

// TestReadyOnNewerSchema: a replica keeps serving, and stays ready, when a
// newer lrs has migrated the schema past what it knows (a rolling upgrade).
func TestReadyOnNewerSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		u := storetest.URL(t, kind)
		m, err := store.NewMigrator(u)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := m.Status()
		if err := m.Force(int(st.Latest) + 1); err != nil { // as a newer binary would leave it
			t.Fatal(err)
		}
		m.Close()
		getenv := env(map[string]string{"LRS_DATABASE_URL": u})
		base := startServer(t, getenv)
		res, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ SchemaVersion uint }
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != 200 || body.SchemaVersion != st.Latest+1 {
			t.Errorf("readyz on schema %d (binary %d): %d %+v", st.Latest+1, st.Latest, res.StatusCode, body)
		}
		if _, stderr, err := runErr(getenv, "keys", "list"); err != nil || !strings.Contains(stderr, "newer than this lrs") {
			t.Errorf("keys list on a newer schema: %v %q", err, stderr)
		}
		if out, _, err := runErr(getenv, "migrate", "version"); err != nil || !strings.Contains(out, "it serves on it") {
			t.Errorf("migrate version on a newer schema: %v %q", err, out)
		}
		// A dirty schema is refused, and 'migrate up' says so with an error.
		m, err = store.NewMigrator(u)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Force(int(st.Latest)); err != nil {
			t.Fatal(err)
		}
		m.Close()
		setDirty(t, u)
		if out, _, err := runErr(getenv, "migrate", "up"); err == nil || !strings.Contains(out, "dirty") {
			t.Errorf("migrate up on a dirty schema: %v %q", err, out)
		}
		if _, _, err := runErr(getenv, "keys", "list"); err == nil || !strings.Contains(err.Error(), "dirty") {
			t.Errorf("keys list on a dirty schema: %v", err)
		}
	})
}

// setDirty marks the schema as a failed migration leaves it.
func setDirty(t *testing.T, u string) {
	t.Helper()
	ctx := context.Background()
	const q = `UPDATE schema_migrations SET dirty = true`
	if store.IsPostgresURL(u) {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
		return
	}
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(u, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, q); err != nil {
		t.Fatal(err)
	}
}
