package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// createSQLiteFile creates an empty database file at path, readable and
// writable by its owner only, unless one is there. SQLite gives the -wal and
// -shm files the database file's mode. The folder is not created: a missing
// one is an error (the command line creates --data-dir, nothing else).
func createSQLiteFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return fmt.Errorf("create database file: %w", err)
	}
	return f.Close()
}

// BackupSQLite writes a consistent copy of the embedded database at path to
// a new file to (mode 0600; it must not exist), while other connections and
// processes keep reading and writing it: VACUUM INTO reads one snapshot of
// the WAL-mode database and does not block its writer. The copy is a
// compacted, self-contained database file that OpenSQLite can open as is.
func BackupSQLite(ctx context.Context, path, to string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f, err := os.OpenFile(to, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		os.Remove(to)
		return fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		os.Remove(to)
		return fmt.Errorf("backup %s: %w", path, err)
	}
	return nil
}
