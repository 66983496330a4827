package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/lrs-dev/lrs/store"
)

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &exitCodeError{code: 2, err: errors.New("migrate: want up, down, version or force N")}
	}
	sub, rest := args[0], args[1:]
	var cfg config
	fs := newFlagSet("migrate "+sub, stderr)
	cfg.databaseFlags(fs)
	if err := parseFlags(fs, rest, getenv); err != nil {
		return err
	}
	if err := cfg.validate(false); err != nil {
		return err
	}
	m, err := store.NewMigrator(cfg.databaseURL())
	if err != nil {
		return err
	}
	defer m.Close()

	switch sub {
	case "up":
		err = m.Up()
	case "down":
		err = m.Down()
	case "force":
		if fs.NArg() != 1 {
			return &exitCodeError{code: 2, err: errors.New("migrate force: want a version number")}
		}
		v, perr := strconv.Atoi(fs.Arg(0))
		if perr != nil {
			return &exitCodeError{code: 2, err: fmt.Errorf("migrate force: %q is not a version number", fs.Arg(0))}
		}
		err = m.Force(v)
	case "version":
	default:
		return &exitCodeError{code: 2, err: fmt.Errorf("migrate: unknown subcommand %q; want up, down, version or force N", sub)}
	}
	if err != nil {
		return err
	}
	st, err := m.Status()
	if err != nil {
		return err
	}
	state := "current"
	if p := st.Problem(); p != "" {
		state = p
	}
	fmt.Fprintf(stdout, "schema version %d (latest %d): %s\n", st.Version, st.Latest, state)
	return nil
}
