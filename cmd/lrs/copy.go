package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// runCopy is 'lrs copy --from URL --to URL': the whole store, from any
// backend to any other, resumable (docs/operations.md).
func runCopy(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		from, to config
		batch    int
		migrate  bool
	)
	fs := newFlagSet("copy", stderr)
	fs.StringVar(&from.DatabaseURL, "from", "", "the store to copy: a PostgreSQL URL or an SQLite file (sqlite:PATH, file:PATH, PATH.db), as --database-url takes")
	fs.StringVar(&to.DatabaseURL, "to", "", "the store to copy into, empty or an earlier copy of --from; same forms as --from")
	fs.IntVar(&batch, "batch", 1000, "rows read and written per transaction")
	fs.BoolVar(&migrate, "migrate", false, "create or upgrade the schema of a PostgreSQL --to first (an SQLite file is always migrated)")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if from.DatabaseURL == "" || to.DatabaseURL == "" || fs.NArg() > 0 || batch < 1 {
		return &exitCodeError{code: 2, err: errors.New("copy: want --from URL --to URL, no arguments, and a positive --batch")}
	}
	if sameStore(&from, &to) {
		return &exitCodeError{code: 2, err: errors.New("copy: --from and --to are the same store")}
	}
	src, err := openCopyEnd(ctx, &from, "from", false, stderr)
	if err != nil {
		return err
	}
	defer src.db.Close()
	dst, err := openCopyEnd(ctx, &to, "to", migrate, stderr)
	if err != nil {
		return err
	}
	defer dst.db.Close()

	start := time.Now()
	rep, err := store.Copy(ctx, src.db, dst.db, store.CopyOptions{Batch: batch, Progress: copyProgress(stderr)})
	if err != nil {
		if errors.Is(err, store.ErrNotCopyTarget) {
			return &exitCodeError{code: 1, err: fmt.Errorf("copy: %w", err)}
		}
		return fmt.Errorf("copy (run it again to resume): %w", err)
	}
	fmt.Fprintf(stdout, "copied %s → %s in %s: %d tenants, %d keys, %d envelopes, %d events (%d loaded by this run), %d entities\n",
		src.target, dst.target, time.Since(start).Round(time.Millisecond), rep.Tenants, rep.Keys, rep.Envelopes,
		rep.EventsTotal, rep.EventsLoaded, rep.Entities)
	return nil
}

// sameStore reports whether two settings name one database (as far as
// their URLs or file paths tell).
func sameStore(a, b *config) bool {
	ta, errA := a.storeTarget()
	tb, errB := b.storeTarget()
	if errA != nil || errB != nil {
		return false
	}
	if ta.path != "" && tb.path != "" {
		pa, _ := filepath.Abs(ta.path)
		pb, _ := filepath.Abs(tb.path)
		return pa == pb
	}
	return ta.url == tb.url
}

type copyEnd struct {
	db     store.Backend
	target target
}

// openCopyEnd opens one end of a copy after saying which store it is
// ("from store: sqlite lrs-data/lrs.db"). The source must exist.
func openCopyEnd(ctx context.Context, c *config, side string, migrate bool, stderr io.Writer) (copyEnd, error) {
	flagName := "--" + side + " (" + envName(side) + ")"
	t, err := c.storeTarget()
	if err != nil {
		return copyEnd{}, &exitCodeError{code: 2, err: errors.New(strings.ReplaceAll(err.Error(), "--database-url (LRS_DATABASE_URL)", flagName))}
	}
	if side == "from" && t.path != "" {
		if _, err := os.Stat(t.path); err != nil {
			fmt.Fprintln(stderr, side+" store: "+t.String())
			return copyEnd{}, fmt.Errorf("%s: %w", flagName, err)
		}
	}
	say := func(_ slog.Level, msg string) { fmt.Fprintln(stderr, side+" "+msg) }
	db, _, err := c.openStore(ctx, migrate, say)
	if err != nil {
		return copyEnd{}, fmt.Errorf("%s: %w", flagName, err)
	}
	return copyEnd{db: db, target: t}, nil
}

// copyProgress prints a line per table when it is done, and at most one a
// second while it goes.
func copyProgress(w io.Writer) func(store.CopyProgress) {
	last := time.Now()
	return func(p store.CopyProgress) {
		if !p.Finished && time.Since(last) < time.Second {
			return
		}
		last = time.Now()
		line := fmt.Sprintf("copy: %s %d", p.Table, p.Done)
		if p.Total > 0 {
			line += fmt.Sprintf(" of %d (%d%%)", p.Total, min(100, p.Done*100/p.Total))
		}
		if p.Finished {
			line += ", done"
		}
		fmt.Fprintln(w, line)
	}
}
