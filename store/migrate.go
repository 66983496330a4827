package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // registers pgx5://
	_ "github.com/golang-migrate/migrate/v4/database/sqlite" // registers sqlite:// (modernc.org/sqlite, no cgo)
	"github.com/golang-migrate/migrate/v4/source/iofs"
)

// SchemaStatus is where a database's schema stands against the migrations
// built into this binary.
type SchemaStatus struct {
	Version uint // 0: no migration applied
	Dirty   bool // a migration failed half-way
	Latest  uint // the newest migration this binary has
}

// Current reports whether the schema is exactly what this binary expects.
func (s SchemaStatus) Current() bool { return !s.Dirty && s.Version == s.Latest }

// Compatible reports whether this binary can serve on the schema: not dirty
// and at least the version it needs. A newer schema is compatible because
// schema changes within a major version are additive (docs/operations.md),
// so that old replicas keep serving while new ones migrate.
func (s SchemaStatus) Compatible() bool { return !s.Dirty && s.Version >= s.Latest }

// Problem says what is wrong with the schema and what to run, or "" if it is current.
func (s SchemaStatus) Problem() string {
	switch {
	case s.Dirty:
		return fmt.Sprintf("database schema is dirty at version %d (a migration failed); repair it, then run 'lrs migrate force %d' and 'lrs migrate up'", s.Version, s.Version-1)
	case s.Version < s.Latest:
		return fmt.Sprintf("database schema is at version %d, this lrs needs %d; run 'lrs migrate up' or start with --migrate", s.Version, s.Latest)
	case s.Version > s.Latest:
		return fmt.Sprintf("database schema is at version %d, newer than this lrs (%d); upgrade lrs", s.Version, s.Latest)
	}
	return ""
}

// Migrator applies the embedded PostgreSQL migrations.
type Migrator struct {
	m      *migrate.Migrate
	latest uint
}

// NewMigrator prepares migrations for the database at url: postgres://…, or
// an embedded database file (sqlite:PATH or a plain path).
func NewMigrator(url string) (*Migrator, error) {
	fsys, dir := postgres.migrations()
	target := migrateURL(url)
	if !IsPostgresURL(url) {
		fsys, dir = sqliteDialect.migrations()
		path := sqlitePath(url)
		if err := createSQLiteFile(path); err != nil {
			return nil, err
		}
		target = "sqlite://" + path + "?_pragma=busy_timeout(10000)"
	}
	src, err := iofs.New(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	latest, err := latestVersion(fsys, dir)
	if err != nil {
		return nil, err
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, target)
	if err != nil {
		return nil, fmt.Errorf("open migrations: %w", err)
	}
	return &Migrator{m: m, latest: latest}, nil
}

// Close releases the migrator's connection.
func (m *Migrator) Close() error {
	srcErr, dbErr := m.m.Close()
	return errors.Join(srcErr, dbErr)
}

// Up applies every pending migration.
func (m *Migrator) Up() error {
	if err := m.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down reverts the newest migration only; reverting everything at once is
// too easy a way to lose a store.
func (m *Migrator) Down() error {
	if err := m.m.Steps(-1); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Force sets the recorded version without running anything, to recover from a dirty state.
func (m *Migrator) Force(version int) error {
	if err := m.m.Force(version); err != nil {
		return fmt.Errorf("migrate force: %w", err)
	}
	return nil
}

// Status reports the applied version against the latest embedded one.
func (m *Migrator) Status() (SchemaStatus, error) {
	v, dirty, err := m.m.Version()
	if err != nil && !errors.Is(err, migrate.ErrNilVersion) {
		return SchemaStatus{}, fmt.Errorf("schema version: %w", err)
	}
	return SchemaStatus{Version: v, Dirty: dirty, Latest: m.latest}, nil
}

// SchemaStatus reads the applied version straight from the migrations table,
// cheaply enough for a readiness probe.
func (s *Postgres) SchemaStatus(ctx context.Context) (SchemaStatus, error) {
	return schemaStatus(postgres, func(dest ...any) error {
		return translate(s.pool.QueryRow(ctx, schemaVersionSQL).Scan(dest...))
	})
}

// SchemaStatus reads the applied version straight from the migrations table,
// over a read connection.
func (s *SQLite) SchemaStatus(ctx context.Context) (SchemaStatus, error) {
	return schemaStatus(sqliteDialect, func(dest ...any) error {
		return translateSQLite(s.r.QueryRowContext(ctx, schemaVersionSQL).Scan(dest...))
	})
}

const schemaVersionSQL = `SELECT version, dirty FROM schema_migrations LIMIT 1`

// schemaStatus is the one reader of a schema's status, for both backends:
// scan runs schemaVersionSQL and returns translated errors. No row, or no
// table yet, is version 0.
func schemaStatus(d dialect, scan func(dest ...any) error) (SchemaStatus, error) {
	latest, err := latestVersion(d.migrations())
	if err != nil {
		return SchemaStatus{}, err
	}
	st := SchemaStatus{Latest: latest}
	var v int64
	err = scan(&v, &st.Dirty)
	switch {
	case errors.Is(err, ErrNotFound), d.isUndefinedTable(err):
		return st, nil // never migrated
	case err != nil:
		return SchemaStatus{}, fmt.Errorf("schema version: %w", err)
	}
	st.Version = uint(v)
	return st, nil
}

func latestVersion(fsys fs.FS, dir string) (uint, error) {
	src, err := iofs.New(fsys, dir)
	if err != nil {
		return 0, fmt.Errorf("load migrations: %w", err)
	}
	defer src.Close()
	v, err := src.First()
	if err != nil {
		return 0, fmt.Errorf("load migrations: %w", err)
	}
	for {
		next, err := src.Next(v)
		if err != nil {
			return v, nil // fs.ErrNotExist: v is the last
		}
		v = next
	}
}

// migrateURL points golang-migrate's pgx v5 driver at a postgres:// URL.
func migrateURL(url string) string {
	for _, p := range []string{"postgres://", "postgresql://"} {
		if rest, ok := strings.CutPrefix(url, p); ok {
			return "pgx5://" + rest
		}
	}
	return url
}

// MigrateUp applies every pending migration to the database at url (either backend).
func MigrateUp(ctx context.Context, url string) error {
	m, err := NewMigrator(url)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Up()
}
