package web

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
)

// Starter serves while the store is not open yet (lrs serve --db-wait):
// /healthz answers that the process is alive, /readyz why it is not ready,
// anything else 503 with Retry-After. Once Ready is called it hands every
// request to the server.
type Starter struct {
	limits Limits
	log    *slog.Logger
	reason atomic.Pointer[string]
	srv    atomic.Pointer[Server]
	tls    *tls.Config
}

// NewStarter returns a Starter whose readiness reason is "starting".
func NewStarter(limits Limits, log *slog.Logger) *Starter {
	st := &Starter{limits: limits.withDefaults(), log: log}
	st.Waiting("starting")
	return st
}

// UseTLS makes Serve answer over TLS with cfg; call it before Serve.
func (st *Starter) UseTLS(cfg *tls.Config) { st.tls = cfg }

// Waiting sets what /readyz says while the store is not open.
func (st *Starter) Waiting(reason string) { st.reason.Store(&reason) }

// Ready hands requests to s from now on.
func (st *Starter) Ready(s *Server) { st.srv.Store(s) }

func (st *Starter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s := st.srv.Load(); s != nil {
		s.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Connection", "close")
	if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = writeJSON(w, map[string]string{"status": "starting"})
		return
	}
	p := newProblem(http.StatusServiceUnavailable, "starting", "not ready: "+*st.reason.Load())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(p.Status)
	_ = writeJSON(w, p)
}

// Serve answers on ln until ctx is done, as Server.Serve does.
func (st *Starter) Serve(ctx context.Context, ln net.Listener) error {
	return serve(ctx, ln, st.tls, st, st.limits, st.log, func() []string {
		if s := st.srv.Load(); s != nil {
			return s.active.summary()
		}
		return nil
	})
}
