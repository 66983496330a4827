package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
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
	if isHelpArg(sub) {
		return groupHelp(stderr, "keys", []string{"create", "list", "revoke"})
	}
	if sub != "create" && sub != "list" && sub != "revoke" {
		return unknownCommand("keys subcommand", sub, []string{"create", "list", "revoke"})
	}
	var (
		cfg                   config
		tenant, scopes, label string
		expires               string
		rateLimit             optionalRate
	)
	fs := newFlagSet("keys "+sub, stderr)
	cfg.databaseFlags(fs)
	if sub == "create" {
		fs.StringVar(&tenant, "tenant", "", "tenant the key belongs to (created on first use)")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes: write, read, admin")
		fs.StringVar(&label, "label", "", "free text to recognise the key by")
		fs.StringVar(&expires, "expires", "", "when the key stops working: an RFC 3339 time, or a time from now (90d, 12h); empty: never")
		fs.Var(&rateLimit, "rate-limit", "the key's own ingest limit in events/s, instead of serve's --rate-limit (0: none)")
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
		spec := store.KeySpec{Tenant: strings.TrimSpace(tenant), Label: label, Scopes: sc}
		if expires != "" {
			at, err := parseExpiry(expires, time.Now())
			if err != nil {
				return &exitCodeError{code: 2, err: fmt.Errorf("keys create: --expires: %w", err)}
			}
			spec.ExpiresAt = &at
		}
		if rateLimit.set {
			spec.RateLimit = &rateLimit.v
		}
		db, err := connect()
		if err != nil {
			return err
		}
		defer db.Close()
		k, token, err := db.IssueKey(ctx, spec)
		if err != nil {
			return err
		}
		extra := ""
		if k.RateLimit != nil {
			extra = ", rate limit " + formatKeyLimit(k.RateLimit)
		}
		if k.ExpiresAt != nil {
			extra += ", expires " + k.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "key %d for tenant %q with scopes %s%s; the token is shown once, store it now:\n%s\n",
			k.ID, k.Tenant, strings.Join(k.Scopes, ","), extra, token)
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
		fmt.Fprintln(tw, "ID\tTENANT\tSCOPES\tLABEL\tRATE LIMIT\tCREATED\tREVOKED\tEXPIRES\tLAST USED")
		when := func(t *time.Time) string {
			if t == nil {
				return "-"
			}
			return t.UTC().Format(time.RFC3339)
		}
		for _, k := range keys {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Tenant, strings.Join(k.Scopes, ","), k.Label,
				formatKeyLimit(k.RateLimit), k.CreatedAt.UTC().Format(time.RFC3339), when(k.RevokedAt), when(k.ExpiresAt), when(k.LastUsedAt))
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

// optionalRate is a flag value in events per second that knows whether it was given.
type optionalRate struct {
	v   float64
	set bool
}

// placeholder names the value in help.
func (*optionalRate) placeholder() string { return "EVENTS_PER_S" }

func (r *optionalRate) String() string {
	if !r.set {
		return ""
	}
	return strconv.FormatFloat(r.v, 'f', -1, 64)
}

func (r *optionalRate) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Errorf("want events per second, 0 or more, got %q", s)
	}
	r.v, r.set = v, true
	return nil
}

// formatKeyLimit shows a key's rate limit: "default" (serve's --rate-limit),
// "none", or "N events/s".
func formatKeyLimit(l *float64) string {
	switch {
	case l == nil:
		return "default"
	case *l == 0:
		return "none"
	}
	return strconv.FormatFloat(*l, 'f', -1, 64) + " events/s"
}

// parseExpiry reads --expires: an RFC 3339 time, or a time from now (90d,
// 12h). It must be in the future.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		d, derr := parseAge(s)
		if derr != nil {
			return time.Time{}, fmt.Errorf("want an RFC 3339 time or a time from now (90d, 12h), got %q", s)
		}
		at = now.Add(d)
	}
	if !at.After(now) {
		return time.Time{}, fmt.Errorf("%s is not in the future", at.UTC().Format(time.RFC3339))
	}
	return at, nil
}
