package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/lrs-dev/lrs/store"
)

// runBackup is 'lrs backup --to FILE': a consistent copy of the embedded
// store, taken while lrs serve keeps writing to it.
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		cfg config
		to  string
	)
	fs := newFlagSet("backup", stderr)
	cfg.databaseFlags(fs)
	fs.StringVar(&to, "to", "", "the backup file to write; it must not exist")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if err := cfg.validate(false); err != nil {
		return err
	}
	if to == "" || fs.NArg() > 0 {
		return &exitCodeError{code: 2, err: errors.New("backup: want --to FILE and no arguments")}
	}
	t, _ := cfg.storeTarget() // checked by validate
	fmt.Fprintln(stderr, "store: "+t.String())
	if t.path == "" {
		return &exitCodeError{code: 2, err: errors.New("backup: PostgreSQL is backed up with pg_dump (docs/operations.md); lrs backup copies the embedded store")}
	}
	if err := store.BackupSQLite(ctx, t.path, to); err != nil {
		return err
	}
	fi, err := os.Stat(to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes)\n", t.path, to, fi.Size())
	return nil
}
