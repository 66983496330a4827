package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/lrs-dev/lrs/store"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &exitCodeError{code: 2, err: errors.New("migrate: want up, down, version or force N")}
	}
	sub, rest := args[0], args[1:]
	subs := []string{"up", "down", "version", "force"}
	if isHelpArg(sub) {
		return groupHelp(stderr, "migrate", subs)
	}
	if !slices.Contains(subs, sub) {
		return unknownCommand("migrate subcommand", sub, subs)
	}
	var cfg config
	fs := newFlagSet("migrate "+sub, stderr)
	cfg.databaseFlags(fs)
	if err := parseFlags(fs, rest, getenv); err != nil {
		return err
	}
	if err := cfg.validate(false); err != nil {
		return err
	}
	force := 0
	switch sub {
	case "up", "down", "version":
	case "force":
		if fs.NArg() != 1 {
			return &exitCodeError{code: 2, err: errors.New("migrate force: want a version number")}
		}
		v, err := strconv.Atoi(fs.Arg(0))
		if err != nil || v < -1 {
			return &exitCodeError{code: 2, err: fmt.Errorf("migrate force: %q is not a version number", fs.Arg(0))}
		}
		force = v
	}
	t, _ := cfg.storeTarget() // checked by validate
	say := stderrNote(stderr)
	say(0, "store: "+t.String())
	if err := t.prepare(); err != nil {
		return err
	}
	if sub == "up" {
		if err := migrateUp(t.url, say); err != nil {
			return err
		}
	}
	m, err := store.NewMigrator(t.url)
	if err != nil {
		return err
	}
	defer m.Close()
	before, err := m.Status()
	if err != nil {
		return err
	}
	switch sub {
	case "down":
		if err := m.Down(); err != nil {
			return err
		}
	case "force":
		if force > int(before.Latest) {
			return &exitCodeError{code: 2, err: fmt.Errorf("migrate force: %d is past the latest schema this lrs knows (%d)", force, before.Latest)}
		}
		if err := m.Force(force); err != nil {
			return err
		}
	}
	st, err := m.Status()
	if err != nil {
		return err
	}
	if sub == "down" {
		say(0, fmt.Sprintf("schema %d → %d", before.Version, st.Version))
	}
	state := "current"
	switch {
	case st.Compatible() && st.Version > st.Latest:
		state = "newer than this lrs; it serves on it, as schema changes within a major version are additive (docs/operations.md)"
	case !st.Current():
		state = st.Problem()
	}
	fmt.Fprintf(stdout, "schema version %d (latest %d): %s\n", st.Version, st.Latest, state)
	if sub == "up" && !st.Compatible() {
		return errors.New(st.Problem()) // a dirty schema: up applied nothing
	}
	return nil
}
