// Package web is the HTTP server: routing, authentication, error mapping and
// the handlers that put the ingest and query services on the wire.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/store"
)

// Config is what the server needs to know beyond its dependencies.
type Config struct {
	CaliperPath     string // where the Caliper endpoint is served, e.g. /caliper
	MaxBody         int64  // largest accepted request body, in bytes
	AcceptBareToken bool   // accept "Authorization: <token>" without "Bearer "
}

// Ingester stores Caliper envelopes.
type Ingester interface {
	Ingest(ctx context.Context, src ingest.Source, body []byte) (ingest.Result, error)
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
	echo    *echo.Echo
}

// NewServer builds the server and its routes.
func NewServer(cfg Config, log *slog.Logger, d Deps) *Server {
	s := &Server{cfg: cfg, log: log, ingest: d.Ingest, keys: d.Keys, health: d.Health, query: d.Query, lookups: d.Lookups, edx: d.Edx}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.RequestID())
	e.Use(s.requestLog)
	e.Use(middleware.Recover())

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET(cfg.CaliperPath, s.caliperConfig)
	e.POST(cfg.CaliperPath, s.postCaliper, s.requireScope(store.ScopeWrite), requireJSON)
	e.POST("/edx", s.postEdx, s.requireScope(store.ScopeWrite))
	e.GET("/api/openapi.json", s.openAPI)
	e.GET("/ui/", s.ui)
	toUI := func(c echo.Context) error { return c.Redirect(http.StatusFound, "/ui/") }
	e.GET("/", toUI)
	e.GET("/ui", toUI)
	api := e.Group("/api/v1", s.requireScope(store.ScopeRead))
	api.GET("/events", s.listEvents)
	api.GET("/events/:id", s.getEvent)
	api.GET("/envelopes/:id", s.getEnvelope)
	api.GET("/entities", s.getEntity)
	api.GET("/stats", s.stats)
	api.GET("/export", s.export)
	s.echo = e
	return s
}

// Routes lists the server's routes (method and path), for documentation checks.
// Echo's internal not-found routes of groups are left out.
func (s *Server) Routes() []*echo.Route {
	var out []*echo.Route
	for _, r := range s.echo.Routes() {
		if r.Method != echo.RouteNotFound {
			out = append(out, r)
		}
	}
	return out
}

// ServeHTTP makes the server usable with httptest.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Serve answers requests on ln until ctx is done, then shuts down gracefully,
// letting requests in flight (and their transactions) finish.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
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
