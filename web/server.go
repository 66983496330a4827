// Package web is the HTTP server: routing, authentication, error mapping and
// the handlers that put the ingest and query services on the wire.
package web

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/sync/semaphore"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/store"
)

// Config is what the server needs to know beyond its dependencies.
type Config struct {
	CaliperPath     string // where the Caliper endpoint is served, e.g. /caliper
	MaxBody         int64  // largest accepted request body, in bytes
	AcceptBareToken bool   // accept "Authorization: <token>" without "Bearer "
	Limits          Limits // zero fields take DefaultLimits
	RateLimits      RateLimits
	// CORSOrigins are the browser origins allowed to call the API
	// ("https://lms.example.edu", or "*" alone); none: no CORS headers.
	CORSOrigins []string
	// TrustedProxies are the peers whose X-Forwarded-For is believed: the
	// client IP (logs, --rate-limit-ip) is then the nearest address in it
	// that is not a trusted proxy. None: the peer's address, whatever the headers say.
	TrustedProxies []*net.IPNet
	// MaxStreams caps each key's open live streams (0: DefaultMaxStreams);
	// StreamHeartbeat is how often an idle stream sends a comment line
	// (0: DefaultStreamHeartbeat).
	MaxStreams      int
	StreamHeartbeat time.Duration
	// StreamTicketTTL is how long a stream ticket opens streams (0:
	// DefaultStreamTicketTTL).
	StreamTicketTTL time.Duration
	// EraseSweepWait is how long DELETE /api/v1/actors sweeps the rest of
	// an erasure before answering (0: DefaultEraseSweepWait; negative: not
	// at all, the background sweep does it).
	EraseSweepWait time.Duration
}

// Ingester stores Caliper envelopes in two steps, timed apart: Prepare
// decodes and validates (errors are *caliper.Error), Save stores atomically.
type Ingester interface {
	Prepare(src ingest.Source, body []byte) (*ingest.Batch, error)
	Save(ctx context.Context, b *ingest.Batch) (ingest.Result, error)
}

// KeyStore resolves API tokens.
type KeyStore interface {
	KeyByToken(ctx context.Context, token string) (store.Key, error)
}

// Health reports whether the store can take writes now.
type Health interface {
	// Ready returns the schema's status, or why a write would fail now.
	Ready(ctx context.Context) (store.SchemaStatus, error)
}

// Deps are the services the server puts on the wire.
type Deps struct {
	Ingest  Ingester
	Keys    KeyStore
	Health  Health
	Query   Querier
	Lookups Lookups
	Edx     EdxTransformer // nil: POST /edx answers 501
	Admin   Admin          // the admin API (keys.go)
	Metrics *Metrics       // nil: a registry of the server's own, served by nobody
	Stream  Streamer       // the live stream (query.Hub); nil: GET /api/v1/stream fails
	Tickets TicketKeys     // the secret of stream tickets (the store); nil: tickets fail
	Forward Forwarding     // forwarders (forward.Service); nil: /api/v1/forwarders fails
}

// Server is the lrs HTTP server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	ingest  Ingester
	keys    KeyStore
	health  Health
	query   Querier
	lookups Lookups
	edx     EdxTransformer
	admin   Admin
	metrics *Metrics
	echo    *echo.Echo

	streamer Streamer
	streams  streamCounts
	tickets  ticketSigner

	forwarders Forwarding

	limits   Limits
	limiter  *limiter
	inflight *semaphore.Weighted // request body bytes being decoded and stored
	active   inflightRequests
}

// NewServer builds the server and its routes.
func NewServer(cfg Config, log *slog.Logger, d Deps) *Server {
	s := &Server{cfg: cfg, log: log, ingest: d.Ingest, keys: d.Keys, health: d.Health, query: d.Query, lookups: d.Lookups, edx: d.Edx, admin: d.Admin, metrics: d.Metrics, streamer: d.Stream, forwarders: d.Forward}
	if s.metrics == nil {
		s.metrics = NewMetrics(0)
	}
	s.limits = cfg.Limits.withDefaults()
	s.limiter = &limiter{cfg: cfg.RateLimits}
	s.tickets.keys = d.Tickets
	s.inflight = semaphore.NewWeighted(s.limits.MaxInflightBytes)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	e.Use(middleware.RequestID())
	e.Use(s.requestLog, s.metrics.observe)
	e.Use(middleware.Recover())
	e.Use(s.active.track, trackBody)
	if len(cfg.CORSOrigins) > 0 {
		e.Use(cors(cfg.CORSOrigins))
	}

	// Every GET route answers HEAD too (load balancers probe with HEAD).
	get := func(g interface {
		Match([]string, string, echo.HandlerFunc, ...echo.MiddlewareFunc) []*echo.Route
	}, path string, h echo.HandlerFunc) {
		g.Match([]string{http.MethodGet, http.MethodHead}, path, h)
	}
	get(e, "/healthz", noParams(s.healthz))
	get(e, "/readyz", noParams(s.readyz))
	get(e, cfg.CaliperPath, s.anonymousLimit(noParams(s.caliperConfig)))
	// Authentication and the content type are checked before the body is
	// read; admitBody then bounds the bodies decoded at once.
	e.POST(cfg.CaliperPath, s.postCaliper, s.requireScope(store.ScopeWrite), requireJSON, s.admitBody)
	e.POST("/edx", s.postEdx, s.requireScope(store.ScopeWrite), s.admitBody)
	get(e, "/api/openapi.json", s.anonymousLimit(noParams(s.openAPI)))
	get(e, "/ui/*", s.anonymousLimit(s.ui))
	toUI := func(c echo.Context) error { return c.Redirect(http.StatusFound, "/ui/") }
	get(e, "/", toUI)
	get(e, "/ui", toUI)
	api := e.Group("/api/v1", s.requireScope(store.ScopeRead))
	get(api, "/events", s.listEvents)
	get(api, "/events/:id", s.getEvent)
	get(api, "/envelopes/:id", s.getEnvelope)
	get(api, "/entities", s.getEntity)
	get(api, "/stats", s.stats)
	api.POST("/stream/tickets", s.streamTicket)
	// The stream and the export also take a ticket instead of a token: a
	// browser opens them as URLs (EventSource, a download link), which
	// cannot carry the Authorization header.
	e.Match([]string{http.MethodGet, http.MethodHead}, "/api/v1/stream", s.stream, s.streamAuth)
	e.Match([]string{http.MethodGet, http.MethodHead}, "/api/v1/export", s.export, s.streamAuth)
	s.adminRoutes(e)
	s.forwardRoutes(e)
	s.echo = e
	return s
}

// Routes lists the server's routes (method and path), for documentation checks.
// Echo's internal not-found routes of groups are left out, and so is HEAD,
// which every GET route answers.
func (s *Server) Routes() []*echo.Route {
	var out []*echo.Route
	for _, r := range s.echo.Routes() {
		if r.Method != echo.RouteNotFound && r.Method != http.MethodHead {
			out = append(out, r)
		}
	}
	return out
}

// ServeHTTP makes the server usable with httptest.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Serve answers requests on ln until ctx is done, then shuts down: requests
// in flight (and their transactions) get ShutdownTimeout to finish, then
// their connections are cut. A cut request stores nothing half-way (its
// transaction rolls back); every acknowledged envelope was committed first.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, nil, s.echo, s.limits, s.log, s.active.summary)
}

// serve answers on ln, over TLS when tlsConfig is set: the TLS listener is
// outermost, so that net/http sees *tls.Conn (HTTP/2, Request.TLS) while the
// connection limits count the raw connections.
func serve(ctx context.Context, ln net.Listener, tlsConfig *tls.Config, h http.Handler, limits Limits, log *slog.Logger, inFlight func() []string) error {
	// No WriteTimeout: an export streams for as long as it needs, and a
	// client that stops reading is cut by the shutdown deadline at the latest.
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: limits.ReadHeaderTimeout,
		ReadTimeout:       limits.ReadTimeout,
		IdleTimeout:       limits.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	var l net.Listener = limitListener(ln, limits, log)
	if tlsConfig != nil {
		l = tls.NewListener(l, tlsConfig)
	}
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), limits.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		cut := inFlight()
		srv.Close()
		log.Warn("shutdown deadline passed: cut the requests still in flight; nothing they were writing was acknowledged",
			slog.Duration("shutdown_timeout", limits.ShutdownTimeout), slog.Any("cut", cut))
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers whether a write would succeed now (see store's Ready): a
// load balancer sends traffic elsewhere while it is 503.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	st, err := s.health.Ready(ctx)
	if err != nil {
		loggerFrom(ctx, s.log).Warn("not ready", slog.Any("err", err))
		reason := "database unreachable"
		var nr *store.NotReady
		if errors.As(err, &nr) {
			reason = nr.Reason
		}
		return unavailableProblem("unavailable", "not ready: "+reason)
	}
	if !st.Compatible() {
		return newProblem(http.StatusServiceUnavailable, "schema", st.Problem())
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "schemaVersion": st.Version})
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// ipExtractor reads the client IP from X-Forwarded-For only when the peer is
// one of trusted (and skips every trusted hop in it); else it is the peer.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
