package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// AdminHandler serves /metrics (Prometheus) and net/http/pprof under
// /debug/pprof/. It belongs on the admin listener only (--admin-addr), never
// on the public one: profiles and metrics are for operators.
func AdminHandler(m *Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("lrs admin: /metrics, /debug/pprof/\n"))
	})
	return mux
}

// ServeAdmin answers on ln with AdminHandler until ctx is done; a profile
// still running then gets two seconds before it is cut.
func ServeAdmin(ctx context.Context, ln net.Listener, m *Metrics, log *slog.Logger) error {
	limits := Limits{ShutdownTimeout: 2 * time.Second}.withDefaults()
	return serve(ctx, ln, nil, AdminHandler(m), limits, log.With(slog.String("listener", "admin")), func() []string { return nil })
}
