package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lrs-dev/lrs/store"
)

// acceptedDatabaseURLs lists the forms --database-url takes, for error messages.
const acceptedDatabaseURLs = "postgres://USER:PASSWORD@HOST:PORT/DB, postgresql://…, sqlite:PATH, file:PATH, " +
	"or a file path ending in .db or .sqlite (empty: the embedded store in --data-dir)"

// target is the store a command works on, resolved from --database-url and --data-dir.
type target struct {
	url     string // for store.Open
	path    string // the database file of an embedded store
	dataDir string // set when the file is the default one in --data-dir: the only folder lrs creates
}

// storeTarget resolves and checks the configured store without touching it.
func (c *config) storeTarget() (target, error) {
	u := c.DatabaseURL
	switch {
	case u == "":
		path := filepath.Join(c.DataDir, "lrs.db")
		return target{url: "sqlite:" + path, path: path, dataDir: c.DataDir}, nil
	case store.IsPostgresURL(u):
		if _, err := url.Parse(u); err != nil {
			return target{}, fmt.Errorf("--database-url (LRS_DATABASE_URL): %v", redactErr(err, u))
		}
		return target{url: u}, nil
	}
	path, ok := "", false
	for _, prefix := range []string{"sqlite://", "sqlite:", "file:"} {
		if rest, found := strings.CutPrefix(u, prefix); found {
			path, ok = rest, rest != ""
			break
		}
	}
	if !ok && !strings.Contains(u, ":") && (strings.HasSuffix(u, ".db") || strings.HasSuffix(u, ".sqlite")) {
		path, ok = u, true
	}
	if !ok {
		return target{}, fmt.Errorf("--database-url (LRS_DATABASE_URL) %q is not a database URL; want %s", redact(u), acceptedDatabaseURLs)
	}
	return target{url: "sqlite:" + path, path: path}, nil
}

// String names the store for people, never with a password:
// "postgres lrs@localhost:5432/lrs", "sqlite lrs-data/lrs.db".
func (t target) String() string {
	if t.path != "" {
		return "sqlite " + t.path
	}
	p, err := url.Parse(t.url)
	if err != nil {
		return "postgres"
	}
	host := p.Host
	if host == "" {
		host = "localhost" // a Unix socket, or PGHOST
	}
	if p.Port() == "" {
		host += ":5432"
	}
	user := ""
	if p.User != nil {
		user = p.User.Username() + "@"
	}
	return "postgres " + user + host + p.Path
}

// prepare creates --data-dir for the default embedded store, and checks that
// an explicit database file's folder exists: lrs creates no other folder.
func (t target) prepare() error {
	if t.path == "" {
		return nil
	}
	if t.dataDir != "" {
		if err := os.MkdirAll(t.dataDir, 0o750); err != nil {
			return fmt.Errorf("create --data-dir (LRS_DATA_DIR): %w", err)
		}
		return nil
	}
	dir := filepath.Dir(t.path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("--database-url (LRS_DATABASE_URL): folder %s of %s does not exist; create it, or leave --database-url empty to use --data-dir, which is created", dir, t.path)
	}
	return nil
}

// note reports what opening a store did: on stderr for one-shot commands, in
// the log for serve.
type note func(level slog.Level, msg string)

// openStore opens the configured store after saying which one it is. An
// embedded store is created and migrated as needed; a PostgreSQL one only
// when migrate is set. The schema must be compatible with this binary
// (store.SchemaStatus.Compatible); a newer one is reported and used.
func (c *config) openStore(ctx context.Context, migrate bool, say note) (store.Backend, store.SchemaStatus, error) {
	t, err := c.storeTarget()
	if err != nil {
		return nil, store.SchemaStatus{}, err
	}
	say(slog.LevelInfo, "store: "+t.String())
	if err := t.prepare(); err != nil {
		return nil, store.SchemaStatus{}, err
	}
	// The embedded store belongs to this process alone: create and upgrade it
	// as needed. A PostgreSQL schema is the operator's to change (--migrate).
	if migrate || t.path != "" {
		if err := migrateUp(t.url, say); err != nil {
			return nil, store.SchemaStatus{}, err
		}
	}
	db, err := store.Open(ctx, t.url)
	if err != nil {
		return nil, store.SchemaStatus{}, fmt.Errorf("open %s: %w", t, err)
	}
	st, err := db.SchemaStatus(ctx)
	if err != nil {
		db.Close()
		return nil, store.SchemaStatus{}, fmt.Errorf("check schema: %w", err)
	}
	if !st.Compatible() {
		db.Close()
		return nil, st, errors.New(st.Problem())
	}
	if st.Version > st.Latest {
		say(slog.LevelWarn, fmt.Sprintf("schema %d is newer than this lrs (%d); using it, as schema changes within a major version are additive (docs/operations.md)", st.Version, st.Latest))
	}
	return db, st, nil
}

// migrateUp applies pending migrations and says what it applied ("schema 2 → 3").
func migrateUp(url string, say note) error {
	m, err := store.NewMigrator(url)
	if err != nil {
		return err
	}
	defer m.Close()
	before, err := m.Status()
	if err != nil {
		return err
	}
	if before.Dirty || before.Version >= before.Latest {
		return nil // nothing to apply; the caller reports a dirty schema
	}
	if err := m.Up(); err != nil {
		return err
	}
	after, err := m.Status()
	if err != nil {
		return err
	}
	if after.Version != before.Version {
		say(slog.LevelInfo, fmt.Sprintf("schema %d → %d", before.Version, after.Version))
	}
	return nil
}

// stderrNote prints notes as lines on w.
func stderrNote(w io.Writer) note {
	return func(_ slog.Level, msg string) { fmt.Fprintln(w, msg) }
}

// logNote writes notes to the log.
func logNote(ctx context.Context, log *slog.Logger) note {
	return func(level slog.Level, msg string) { log.Log(ctx, level, msg) }
}

var passwordRE = regexp.MustCompile(`:[^:@/]*@`)

// redact hides a password in something meant to be a URL.
func redact(s string) string { return passwordRE.ReplaceAllString(s, ":***@") }

func redactErr(err error, u string) string {
	return strings.ReplaceAll(err.Error(), u, redact(u))
}
