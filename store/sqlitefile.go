package store

import (
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
