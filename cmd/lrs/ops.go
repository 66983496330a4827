package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strings"

	"github.com/lrs-dev/lrs/web"
)

// opsSettings are what operators run lrs with beyond storage: the admin
// listener and metrics (docs/operations.md).
type opsSettings struct {
	AdminAddr      string
	MetricsTenants int
	RateLimit      float64 // events/s per key
	RateRequests   float64 // requests/s per key
	RateIP         float64 // requests/s per client IP without a valid key
	CORSOrigins    string  // comma-separated
}

func (o *opsSettings) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.AdminAddr, "admin-addr", "127.0.0.1:9090", "address of the admin listener: Prometheus /metrics and /debug/pprof/ (keep it private; empty: no admin listener)")
	fs.Float64Var(&o.RateLimit, "rate-limit", 0, "events per second each key may post (token bucket; 0: no limit); lrs keys create --rate-limit sets a key's own")
	fs.Float64Var(&o.RateRequests, "rate-limit-requests", 0, "requests per second each key may make (0: no limit)")
	fs.Float64Var(&o.RateIP, "rate-limit-ip", 0, "requests per second per client IP that carry no valid key, probes excepted (0: no limit)")
	fs.StringVar(&o.CORSOrigins, "cors-origins", "", "browser origins allowed to call lrs, comma-separated (https://lms.example.edu), or * for any (then never with credentials); empty: no CORS")
	fs.IntVar(&o.MetricsTenants, "metrics-tenants", web.DefaultMetricsTenants, "tenants that get metrics labels of their own; the rest are counted as \"(other)\"")
}

func (o *opsSettings) validate() error {
	var errs []error
	if o.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(o.AdminAddr); err != nil {
			errs = append(errs, fmt.Errorf("--admin-addr (LRS_ADMIN_ADDR) must be host:port or empty, got %q", o.AdminAddr))
		}
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"rate-limit", o.RateLimit}, {"rate-limit-requests", o.RateRequests}, {"rate-limit-ip", o.RateIP}} {
		if r.v < 0 || math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			errs = append(errs, fmt.Errorf("--%s (%s) must be 0 (no limit) or a positive rate, got %v", r.name, envName(r.name), r.v))
		}
	}
	if _, err := o.corsOrigins(); err != nil {
		errs = append(errs, err)
	}
	if o.MetricsTenants < 1 {
		errs = append(errs, errors.New("--metrics-tenants (LRS_METRICS_TENANTS) must be at least 1"))
	}
	return errors.Join(errs...)
}

// startAdmin listens on --admin-addr and serves metrics and pprof there until
// ctx is done; wait returns once it has stopped. No address: nothing to wait for.
func (o *opsSettings) startAdmin(ctx context.Context, m *web.Metrics, log *slog.Logger) (addr string, wait func(), err error) {
	if o.AdminAddr == "" {
		return "", func() {}, nil
	}
	ln, err := net.Listen("tcp", o.AdminAddr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on --admin-addr %s (LRS_ADMIN_ADDR; empty turns the admin listener off): %w", o.AdminAddr, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := web.ServeAdmin(ctx, ln, m, log); err != nil {
			log.Error("admin listener stopped", slog.Any("err", err))
		}
	}()
	return ln.Addr().String(), func() { <-done }, nil
}

func (o *opsSettings) rateLimits() web.RateLimits {
	return web.RateLimits{EventsPerSec: o.RateLimit, RequestsPerSec: o.RateRequests, AnonymousPerSec: o.RateIP}
}

// corsOrigins reads --cors-origins: "*" alone, or origins scheme://host[:port]
// (a "*." wildcard in the host is allowed: https://*.example.edu).
func (o *opsSettings) corsOrigins() ([]string, error) {
	var out []string
	for _, f := range strings.Split(o.CORSOrigins, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	bad := func(msg string) error { return fmt.Errorf("--cors-origins (LRS_CORS_ORIGINS): %s", msg) }
	for _, origin := range out {
		if origin == "*" {
			if len(out) > 1 {
				return nil, bad("* allows every origin: give it alone")
			}
			continue
		}
		u, err := url.Parse(origin)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return nil, bad(fmt.Sprintf("%q is not an origin: want scheme://host[:port], such as https://lms.example.edu", origin))
		}
	}
	return out, nil
}
