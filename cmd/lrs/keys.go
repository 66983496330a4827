package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lrs-dev/lrs/store"
)

func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &exitCodeError{code: 2, err: errors.New("keys: want create, list or revoke")}
	}
	sub, rest := args[0], args[1:]
	if sub != "create" && sub != "list" && sub != "revoke" {
		return unknownCommand("keys subcommand", sub, []string{"create", "list", "revoke"})
	}
	var (
		cfg                   config
		tenant, scopes, label string
	)
	fs := newFlagSet("keys "+sub, stderr)
	cfg.databaseFlags(fs)
	if sub == "create" {
		fs.StringVar(&tenant, "tenant", "", "tenant the key belongs to (created on first use)")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes: write, read, admin")
		fs.StringVar(&label, "label", "", "free text to recognise the key by")
	}
	if err := parseFlags(fs, rest, getenv); err != nil {
		return err
	}
	if err := cfg.validate(false); err != nil {
		return err
	}
	connect := func() (store.Backend, error) {
		db, _, err := cfg.openStore(ctx, false, stderrNote(stderr))
		return db, err
	}

	switch sub {
	case "create":
		if strings.TrimSpace(tenant) == "" {
			return &exitCodeError{code: 2, err: errors.New("keys create: --tenant is required")}
		}
		sc, err := store.ParseScopes(scopes)
		if err != nil {
			return &exitCodeError{code: 2, err: fmt.Errorf("keys create: --scopes: %w", err)}
		}
		db, err := connect()
		if err != nil {
			return err
		}
		defer db.Close()
		k, token, err := db.CreateKey(ctx, strings.TrimSpace(tenant), label, sc)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key %d for tenant %q with scopes %s; the token is shown once, store it now:\n%s\n",
			k.ID, k.Tenant, strings.Join(k.Scopes, ","), token)
		return nil
	case "list":
		db, err := connect()
		if err != nil {
			return err
		}
		defer db.Close()
		keys, err := db.ListKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTENANT\tSCOPES\tLABEL\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Tenant, strings.Join(k.Scopes, ","), k.Label,
				k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return &exitCodeError{code: 2, err: errors.New("keys revoke: want the key ID (see 'lrs keys list')")}
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil {
			return &exitCodeError{code: 2, err: fmt.Errorf("keys revoke: %q is not a key ID", fs.Arg(0))}
		}
		db, err := connect()
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.RevokeKey(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "key %d revoked\n", id)
		return nil
	}
	return nil // unreachable: sub was checked above
}
