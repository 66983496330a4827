package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/forward"
	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/web"
)

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg config
	fs := newFlagSet("serve", stderr)
	cfg.serveFlags(fs)
	if err := parseFlags(fs, args, getenv); err != nil {
		return err
	}
	if err := cfg.validate(true); err != nil {
		return err
	}
	log := newLogger(&cfg, stderr)
	t, _ := cfg.storeTarget() // checked by validate
	edxT, err := cfg.Edx.transformer()
	if err != nil {
		return err
	}
	var edxDep web.EdxTransformer
	if edxT != nil {
		edxDep = edxT
	}

	// Listen first: /healthz answers and /readyz says why not while the
	// database is awaited (compose, Kubernetes and systemd start both at once).
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	starter := web.NewStarter(cfg.Limits.web(), log)
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	tlsConfig, err := cfg.Ops.startTLS(serveCtx, log)
	if err != nil {
		ln.Close()
		return err
	}
	starter.UseTLS(tlsConfig)
	metrics := web.NewMetrics(cfg.Ops.MetricsTenants)
	adminAddr, adminDone, err := cfg.Ops.startAdmin(serveCtx, metrics, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer func() { stopServing(); adminDone() }()
	served := make(chan error, 1)
	go func() { served <- starter.Serve(serveCtx, ln) }()

	db, st, err := cfg.openStoreWaiting(ctx, t, starter, log)
	if err != nil {
		stopServing()
		<-served
		return err
	}
	defer db.Close()

	mode, _ := caliper.ParseMode(cfg.Validation) // checked by validate
	corsOrigins, _ := cfg.Ops.corsOrigins()      // checked by validate
	trusted, _ := cfg.Ops.trustedProxies()       // checked by validate
	svc := ingest.NewService(db, caliper.NewValidator(mode))
	hub := query.NewHub(db, query.HubConfig{}, log)
	seal, err := forward.OpenSealer(ctx, cfg.Forward.Key, db)
	if err != nil {
		stopServing()
		<-served
		return err
	}
	srv := web.NewServer(web.Config{
		CaliperPath:     cfg.CaliperPath,
		MaxBody:         int64(cfg.MaxBody),
		AcceptBareToken: cfg.AcceptBareToken,
		Limits:          cfg.Limits.web(),
		RateLimits:      cfg.Ops.rateLimits(),
		CORSOrigins:     corsOrigins,
		TrustedProxies:  trusted,
		MaxStreams:      cfg.Stream.MaxStreams,
	}, log, web.Deps{Ingest: svc, Keys: db, Health: db, Query: query.NewService(db), Lookups: db, Admin: db, Edx: edxDep, Metrics: metrics, Stream: hub, Tickets: db,
		Forward: forward.NewService(db, seal)})
	metrics.WatchStore(db, db)

	// Roll-ups and erasure sweeps stop with the server, before the store closes.
	rollupsDone := make(chan struct{})
	go func() { defer close(rollupsDone); store.RunRollups(serveCtx, db, time.Second) }()
	defer func() { stopServing(); <-rollupsDone }()
	sweepsDone := make(chan struct{})
	go func() { defer close(sweepsDone); store.RunErasureSweeps(serveCtx, db, time.Second) }()
	defer func() { stopServing(); <-sweepsDone }()
	// The stream hub too: stopping closes every stream, so that shutdown
	// does not wait on them.
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(serveCtx) }()
	defer func() { stopServing(); <-hubDone }()

	base := baseURL(ln.Addr(), tlsConfig != nil)
	// Forwarders are delivered by every node: one at a time each, by lease.
	worker := forward.NewWorker(db, seal, forward.WorkerConfig{Sensor: base + cfg.CaliperPath, Lease: cfg.Forward.Lease, Timeout: cfg.Forward.Timeout}, log)
	workerDone := make(chan struct{})
	go func() { defer close(workerDone); worker.Run(serveCtx) }()
	defer func() { stopServing(); <-workerDone }()

	starter.Ready(srv) // before the banner: its curl line must work at once
	if t.path != "" {
		if err := firstStartKey(ctx, db, base, cfg.CaliperPath, stdout); err != nil {
			stopServing()
			<-served
			return err
		}
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.Bool("tls", tlsConfig != nil), slog.String("admin", adminAddr), slog.String("ui", base+"/ui/"), slog.String("caliper_path", cfg.CaliperPath),
		slog.String("validation", mode.String()), slog.String("store", t.String()), slog.Bool("edx", edxT != nil), slog.Uint64("schema_version", uint64(st.Version)))
	err = <-served
	log.Info("stopped")
	return err
}

// openStoreWaiting opens the store; a PostgreSQL that cannot be reached yet
// is retried with backoff for up to --db-wait, each attempt logged and shown
// by /readyz. A schema problem or an embedded store fails at once.
func (c *config) openStoreWaiting(ctx context.Context, t target, starter *web.Starter, log *slog.Logger) (store.Backend, store.SchemaStatus, error) {
	deadline := time.Now().Add(c.DBWait)
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		db, st, err := c.openStore(ctx, c.Migrate, logNote(ctx, log))
		if err == nil {
			return db, st, nil
		}
		if t.path != "" || st.Latest != 0 || time.Now().Add(delay).After(deadline) || ctx.Err() != nil {
			return nil, st, err
		}
		log.Warn("waiting for the database", slog.Int("attempt", attempt), slog.Duration("retry_in", delay),
			slog.Duration("db_wait", c.DBWait), slog.Any("err", err))
		starter.Waiting("waiting for the database (attempt " + strconv.Itoa(attempt) + "): " + err.Error())
		select {
		case <-ctx.Done():
			return nil, st, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// firstStartKey gives a new embedded store a development key, so that a
// first-time user can post an event at once. Its token is printed once.
func firstStartKey(ctx context.Context, db store.Backend, base, caliperPath string, w io.Writer) error {
	keys, err := db.ListKeys(ctx)
	if err != nil || len(keys) > 0 {
		return err
	}
	k, token, err := db.CreateKey(ctx, "default", "development key created at first start", []string{store.ScopeWrite, store.ScopeRead})
	if err != nil {
		return err
	}
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	envelope := `{"sensor":"https://example.edu/sensors/1","sendTime":"` + now + `","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2",` +
		`"data":[{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:` + uuid.NewString() + `",` +
		`"type":"ViewEvent","profile":"ReadingProfile","actor":{"id":"https://example.edu/users/554433","type":"Person"},` +
		`"action":"Viewed","object":{"id":"https://example.edu/etexts/201.epub","type":"Document"},"eventTime":"` + now + `"}]}`
	fmt.Fprintf(w, `No API keys yet: created key %d for tenant %q with scopes write,read.
Its token is shown this once:

  %s

Post an event:

  curl -i %s%s -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '%s'

Read it back:

  curl -s '%s/api/v1/events' -H 'Authorization: Bearer %s'

Or browse, search and export events in the web UI at %s/ui/ with the token.

`, k.ID, k.Tenant, token, base, caliperPath, token, envelope, base, token, base)
	return nil
}

// baseURL is how a local user reaches the server: http://localhost:PORT when
// it listens on every interface or on loopback.
func baseURL(addr net.Addr, https bool) string {
	scheme := "http://"
	if https {
		scheme = "https://"
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && (tcp.IP.IsUnspecified() || tcp.IP.IsLoopback()) {
		return scheme + "localhost:" + strconv.Itoa(tcp.Port)
	}
	return scheme + addr.String()
}
