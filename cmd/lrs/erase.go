package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/lrs-dev/lrs/store"
)

// stringList is a flag that may be given several times.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be empty")
	}
	*l = append(*l, strings.TrimSpace(s))
	return nil
}

// runErase erases actors of one tenant: given by IRI (--actor), or as Open
// edX users (--edx-user), whose IRIs are derived exactly as the transformer
// derives them (--lms-url with --actor-secret or --actor-map).
func runErase(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		cfg            config
		tenant         string
		actors, users  stringList
		dryRun         bool
		lms, sec, amap string
	)
	fs := newFlagSet("erase", stderr)
	cfg.databaseFlags(fs)
	fs.StringVar(&tenant, "tenant", "", "the tenant to erase from")
	fs.Var(&actors, "actor", "an actor's `IRI` to erase (repeatable)")
	fs.Var(&users, "edx-user", "an Open edX user id or username (`ID_OR_USERNAME`) to erase (repeatable; give both when logs have either)")
	fs.BoolVar(&dryRun, "dry-run", false, "count what would be erased, change nothing")
	fs.StringVar(&lms, "lms-url", "", "Open edX: the LMS root, as given to serve and import (for --edx-user)")
	fs.StringVar(&sec, "actor-secret", "", "Open edX: the secret of pseudonymous actor ids, as given to serve and import; never logged")
	fs.StringVar(&amap, "actor-map", "", "Open edX: the CSV file user,anonymous_id given to serve and import")
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if err := cfg.validate(false); err != nil {
		return err
	}
	usage := func(msg string) error { return &exitCodeError{code: 2, err: errors.New("erase: " + msg)} }
	if strings.TrimSpace(tenant) == "" {
		return usage("--tenant is required")
	}
	if fs.NArg() > 0 {
		return usage("takes no arguments; give --actor IRI or --edx-user ID_OR_USERNAME")
	}
	if len(actors)+len(users) == 0 {
		return usage("give --actor IRI or --edx-user ID_OR_USERNAME")
	}
	for _, a := range actors {
		if u, err := url.Parse(a); err != nil || u.Scheme == "" {
			return usage(fmt.Sprintf("--actor %q is not an IRI (an absolute URI)", a))
		}
	}
	targets := append([]string(nil), actors...)
	if len(users) > 0 {
		if lms == "" || sec == "" && amap == "" {
			return usage("--edx-user needs --lms-url and --actor-secret or --actor-map, as serve and import were given")
		}
		es := edxSettings{LMSURL: lms, ActorSecret: sec, ActorMap: amap, TransformerVersion: "lrs", Anonymous: "skip"}
		if err := es.validate(); err != nil {
			return usage(err.Error())
		}
		tr, err := es.transformer()
		if err != nil {
			return usage(err.Error())
		}
		for _, u := range users {
			iri, err := tr.ActorID(u)
			if err != nil {
				return fmt.Errorf("erase: --edx-user %q: %w", u, err)
			}
			targets = append(targets, iri)
		}
	}
	db, _, err := cfg.openStore(ctx, false, stderrNote(stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	tenants, err := db.Tenants(ctx)
	if err != nil {
		return err
	}
	var tenantID int64
	for _, t := range tenants {
		if t.Name == strings.TrimSpace(tenant) {
			tenantID = t.ID
		}
	}
	if tenantID == 0 {
		return fmt.Errorf("erase: no tenant %q ('lrs tenants list' lists them)", tenant)
	}
	for _, iri := range targets {
		start := time.Now()
		res, err := db.EraseActor(ctx, store.EraseRequest{TenantID: tenantID, Actor: iri, DryRun: dryRun})
		if err != nil {
			return fmt.Errorf("erase %s: %w", iri, err)
		}
		first := time.Since(start)
		verb := "erased"
		if dryRun {
			verb = "dry run (what the first step would do; the sweep is not counted), nothing changed for"
			fmt.Fprintf(stderr, "counted in %s\n", first.Round(time.Millisecond))
		} else {
			if res, err = sweepErasure(ctx, db, tenantID, res.ID); err != nil {
				return fmt.Errorf("erase %s: the first step is done (erasure %d); its sweep: %w — lrs serve, or lrs erase again, finishes it", iri, res.ID, err)
			}
			fmt.Fprintf(stderr, "first step (indexed occurrences) %s, sweep of the rest %s\n",
				first.Round(time.Millisecond), (time.Since(start) - first).Round(time.Millisecond))
		}
		fmt.Fprintf(stdout, "%s %s in tenant %q: events %d deleted, %d redacted; entities %d deleted, %d redacted; envelopes %d deleted, %d redacted; audit subject %s\n",
			verb, iri, tenant, res.EventsDeleted, res.EventsRedacted, res.EntitiesDeleted, res.EntitiesRedacted,
			res.EnvelopesDeleted, res.EnvelopesRedacted, res.Subject)
	}
	return nil
}

// sweepErasure sweeps until the erasure id is complete (other erasures'
// sweeps pending before it go first) and returns its final counts.
func sweepErasure(ctx context.Context, db store.Backend, tenant, id int64) (store.ActorErasure, error) {
	for {
		recs, err := db.Erasures(ctx, tenant, id)
		if err != nil {
			return store.ActorErasure{ID: id}, err
		}
		if recs[0].Complete {
			return recs[0].ActorErasure, nil
		}
		worked, err := db.SweepErasures(ctx)
		if err != nil {
			return store.ActorErasure{ID: id}, err
		}
		if !worked { // another node holds the sweep's row for its step
			select {
			case <-ctx.Done():
				return store.ActorErasure{ID: id}, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}
