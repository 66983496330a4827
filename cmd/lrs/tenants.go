package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lrs-dev/lrs/store"
)

var tenantsSubcommands = []string{"list", "create", "delete"}

func runTenants(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &exitCodeError{code: 2, err: errors.New("tenants: want list, create or delete")}
	}
	sub, rest := args[0], args[1:]
	if isHelpArg(sub) {
		return groupHelp(stderr, "tenants", tenantsSubcommands)
	}
	if !slices.Contains(tenantsSubcommands, sub) {
		return unknownCommand("tenants subcommand", sub, tenantsSubcommands)
	}
	var (
		cfg config
		yes bool
	)
	fs := newFlagSet("tenants "+sub, stderr)
	cfg.databaseFlags(fs)
	if sub == "delete" {
		fs.BoolVar(&yes, "yes", false, "really delete the tenant and all of its data (without it: only count what would go)")
	}
	if err := parseFlags(fs, rest, getenv); err != nil {
		return err
	}
	if err := cfg.validate(false); err != nil {
		return err
	}
	name := ""
	if sub != "list" {
		if fs.NArg() != 1 || strings.TrimSpace(fs.Arg(0)) == "" {
			return &exitCodeError{code: 2, err: fmt.Errorf("tenants %s: want the tenant's name", sub)}
		}
		name = strings.TrimSpace(fs.Arg(0))
	} else if fs.NArg() != 0 {
		return &exitCodeError{code: 2, err: errors.New("tenants list: takes no arguments")}
	}
	db, _, err := cfg.openStore(ctx, false, stderrNote(stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "list":
		tenants, err := db.Tenants(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tLIVE KEYS\tCREATED")
		for _, t := range tenants {
			fmt.Fprintf(tw, "%d\t%s\t%d\t%s\n", t.ID, t.Name, t.LiveKeys, t.CreatedAt.UTC().Format(time.RFC3339))
		}
		return tw.Flush()
	case "create":
		t, err := db.CreateTenant(ctx, name)
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("tenants create: tenant %q already exists", name)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "tenant %d %q created; give it a key with: lrs keys create --tenant %s --scopes write\n", t.ID, t.Name, shellQuote(t.Name))
		return nil
	}
	d, err := db.DeleteTenant(ctx, name, !yes)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("tenants delete: no tenant %q ('lrs tenants list' lists them)", name)
	}
	if err != nil {
		return err
	}
	counts := fmt.Sprintf("%d events, %d entities, %d envelopes, %d keys", d.Events, d.Entities, d.Envelopes, d.Keys)
	if !yes {
		fmt.Fprintf(stdout, "tenant %q holds %s; nothing was deleted\n", name, counts)
		return &exitCodeError{code: 2, err: fmt.Errorf("tenants delete: add --yes to delete tenant %q and all of its data, for good", name)}
	}
	fmt.Fprintf(stdout, "tenant %q deleted with %s\n", name, counts)
	return nil
}

// shellQuote quotes s for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// parseAge reads a length of time: days as "400d", or a Go duration
// ("36h", "90m").
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 100_000 {
			return 0, fmt.Errorf("want a number of days such as 400d, got %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want days (400d) or a duration (36h), got %q", s)
	}
	return d, nil
}
