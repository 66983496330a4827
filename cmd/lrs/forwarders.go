package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lrs-dev/lrs/forward"
	"github.com/lrs-dev/lrs/store"
)

var forwardersSubcommands = []string{"add", "list", "show", "pause", "resume", "delete", "replay"}

// forwardSettings configure forwarding in lrs serve and lrs forwarders.
type forwardSettings struct {
	Key     string        // seals credentials; empty: the database's own key
	Lease   time.Duration // how long a node delivers for a forwarder without renewing
	Timeout time.Duration // for one request to a receiver
}

func (s *forwardSettings) flags(fs *flag.FlagSet) {
	fs.StringVar(&s.Key, "forward-key", "", "secret (16+ characters) that forwarders' tokens, headers and webhook secrets are sealed with; "+
		"empty: a random key kept in the database (docs/forwarding.md)")
}

// serveFlags are the delivery settings of lrs serve.
func (s *forwardSettings) serveFlags(fs *flag.FlagSet) {
	fs.DurationVar(&s.Lease, "forward-lease", forward.DefaultLease, "how long a node holds a forwarder's lease without renewing it: "+
		"when a delivering node dies, another takes over within this time")
	fs.DurationVar(&s.Timeout, "forward-timeout", forward.DefaultTimeout, "how long a forwarder waits for a receiver's answer to one batch")
}

func (s *forwardSettings) validate() error {
	if s.Key != "" && len(s.Key) < 16 {
		return errors.New("--forward-key (LRS_FORWARD_KEY) must be at least 16 characters")
	}
	if s.Lease != 0 && s.Lease < time.Second {
		return errors.New("--forward-lease (LRS_FORWARD_LEASE) must be at least 1s")
	}
	if s.Timeout != 0 && s.Timeout < 100*time.Millisecond {
		return errors.New("--forward-timeout (LRS_FORWARD_TIMEOUT) must be at least 100ms")
	}
	return nil
}

// addFlags are the flags of lrs forwarders add.
type addFlags struct {
	tenant, url, kind, token, header, secret, filter, from, onReject string
	batch                                                            int
	maxWait                                                          time.Duration
}

func (a *addFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.tenant, "tenant", "", "the tenant whose events are forwarded")
	fs.StringVar(&a.url, "url", "", "the receiver's URL (a Caliper endpoint, or a webhook)")
	fs.StringVar(&a.kind, "kind", "", "caliper (Caliper envelopes) or webhook (a signed JSON batch)")
	fs.StringVar(&a.token, "token", "", "bearer token sent as Authorization: Bearer TOKEN")
	fs.StringVar(&a.header, "header", "", "or a header sent with each batch, 'Name: value'")
	fs.StringVar(&a.secret, "secret", "", "webhook: the HMAC-SHA256 signing secret (16+ characters)")
	fs.StringVar(&a.filter, "filter", "", "the read API's filters, such as 'course=…&action=…'; empty: every event")
	fs.StringVar(&a.from, "from", "now", "where delivery starts: now, beginning, or an ascending cursor of the read API with the same filter")
	fs.IntVar(&a.batch, "batch", forward.DefaultBatch, "events per batch at most")
	fs.DurationVar(&a.maxWait, "max-wait", forward.DefaultMaxWait, "how long a partial batch may wait for more events")
	fs.StringVar(&a.onReject, "on-reject", store.RejectDeadLetter, "a batch refused with a 4xx (not 408/429): dead-letter (park it and go on) or block (retry it)")
}

// forwardFlagNames maps the API's field names to the flags that set them.
var forwardFlagNames = map[string]string{"kind": "kind", "url": "url", "token": "token", "header": "header", "secret": "secret",
	"filter": "filter", "from": "from", "batch": "batch", "maxWait": "max-wait", "onReject": "on-reject"}

func init() {
	for _, f := range forwardFlagNames {
		flagOnly["lrs forwarders add --"+f] = true // LRS_TOKEN, LRS_URL… belong to other commands
	}
}

func runForwarders(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &exitCodeError{code: 2, err: errors.New("forwarders: want " + strings.Join(forwardersSubcommands, ", "))}
	}
	sub, rest := args[0], args[1:]
	if isHelpArg(sub) {
		return groupHelp(stderr, "forwarders", forwardersSubcommands)
	}
	if !slices.Contains(forwardersSubcommands, sub) {
		return unknownCommand("forwarders subcommand", sub, forwardersSubcommands)
	}
	var (
		cfg config
		add addFlags
	)
	fs := newFlagSet("forwarders "+sub, stderr)
	cfg.databaseFlags(fs)
	cfg.Forward.flags(fs)
	switch sub {
	case "add":
		add.register(fs)
	case "list":
		fs.StringVar(&add.tenant, "tenant", "", "list this tenant's forwarders only")
	}
	if err := parseFlags(fs, rest, getenv); err != nil {
		return err
	}
	if err := errors.Join(cfg.validate(false), cfg.Forward.validate()); err != nil {
		return err
	}
	ids, err := forwarderArgs(sub, fs.Args())
	if err != nil {
		return err
	}
	db, _, err := cfg.openStore(ctx, false, stderrNote(stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	seal, err := forward.OpenSealer(ctx, cfg.Forward.Key, db)
	if err != nil {
		return err
	}
	c := &forwardersCLI{db: db, svc: forward.NewService(db, seal), out: stdout}
	switch sub {
	case "add":
		return c.add(ctx, add)
	case "list":
		return c.list(ctx, add.tenant)
	}
	return c.one(ctx, sub, ids)
}

// forwarderArgs reads the positional arguments: none for add and list, a
// forwarder's id for the others, and a dead letter's id too for replay.
func forwarderArgs(sub string, args []string) ([]int64, error) {
	want := map[string]int{"add": 0, "list": 0, "replay": 2}[sub]
	if sub != "add" && sub != "list" && sub != "replay" {
		want = 1
	}
	usage := map[int]string{0: "takes no arguments", 1: "want the forwarder's id ('lrs forwarders list' lists them)",
		2: "want the forwarder's id and the dead letter's id ('lrs forwarders show ID' lists them)"}[want]
	if len(args) != want {
		return nil, &exitCodeError{code: 2, err: fmt.Errorf("forwarders %s: %s", sub, usage)}
	}
	var ids []int64
	for _, a := range args {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil || id <= 0 {
			return nil, &exitCodeError{code: 2, err: fmt.Errorf("forwarders %s: %q is not an id; %s", sub, a, usage)}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

type forwardersCLI struct {
	db  store.Backend
	svc *forward.Service
	out io.Writer
}

func (c *forwardersCLI) tenantID(ctx context.Context, name string) (int64, error) {
	tenants, err := c.db.Tenants(ctx)
	if err != nil {
		return 0, err
	}
	for _, t := range tenants {
		if t.Name == name {
			return t.ID, nil
		}
	}
	return 0, fmt.Errorf("no tenant %q ('lrs tenants list' lists them)", name)
}

func (c *forwardersCLI) add(ctx context.Context, a addFlags) error {
	if strings.TrimSpace(a.tenant) == "" {
		return &exitCodeError{code: 2, err: errors.New("forwarders add: --tenant is required")}
	}
	tenant, err := c.tenantID(ctx, strings.TrimSpace(a.tenant))
	if err != nil {
		return fmt.Errorf("forwarders add: %w", err)
	}
	spec := forward.Spec{Kind: a.kind, URL: a.url, Token: a.token, Header: a.header, Secret: a.secret, Filter: a.filter,
		From: a.from, Batch: a.batch, MaxWait: &a.maxWait, OnReject: a.onReject}
	if a.batch == 0 {
		spec.Batch = -1 // refused by the check, not taken as the default
	}
	v, err := c.svc.Create(ctx, tenant, spec)
	var fe *forward.FieldError
	if errors.As(err, &fe) {
		return &exitCodeError{code: 2, err: fmt.Errorf("forwarders add: --%s: %s", forwardFlagNames[fe.Field], fe.Message)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out, "forwarder for tenant %q: %s %s, batches of %d, waiting at most %s, from %s\n", v.Tenant, v.Kind, v.URL, v.Batch, v.MaxWait, a.from)
	fmt.Fprintf(c.out, "lrs serve delivers it; 'lrs forwarders show %d' shows how far it is\n", v.ID)
	fmt.Fprintln(c.out, v.ID)
	return nil
}

// find returns the forwarder id whatever its tenant.
func (c *forwardersCLI) find(ctx context.Context, id int64) (store.Forwarder, error) {
	all, err := c.db.Forwarders(ctx, 0)
	if err != nil {
		return store.Forwarder{}, err
	}
	for _, f := range all {
		if f.ID == id {
			return f, nil
		}
	}
	return store.Forwarder{}, fmt.Errorf("no forwarder %d ('lrs forwarders list' lists them)", id)
}

func (c *forwardersCLI) list(ctx context.Context, tenant string) error {
	var id int64
	if tenant != "" {
		var err error
		if id, err = c.tenantID(ctx, tenant); err != nil {
			return fmt.Errorf("forwarders list: %w", err)
		}
	}
	all, err := c.db.Forwarders(ctx, id)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tKIND\tURL\tSTATE\tBEHIND\tDELIVERED\tDEAD LETTERS\tLAST ERROR")
	for _, f := range all {
		v, err := c.svc.Get(ctx, f.TenantID, f.ID)
		if err != nil {
			return err
		}
		st := v.Status
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", v.ID, v.Tenant, v.Kind, v.URL, st.State, st.EventsBehind, st.Delivered,
			st.DeadLetters, oneLine(st.LastError, 60))
	}
	return tw.Flush()
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
