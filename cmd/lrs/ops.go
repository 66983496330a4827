package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

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
	TLSCert        string
	TLSKey         string
	TrustedProxies string // comma-separated CIDRs or addresses
}

func (o *opsSettings) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.AdminAddr, "admin-addr", "127.0.0.1:9090", "address of the admin listener: Prometheus /metrics and /debug/pprof/ (keep it private; empty: no admin listener)")
	fs.Float64Var(&o.RateLimit, "rate-limit", 0, "events per second each key may post (token bucket; 0: no limit); lrs keys create --rate-limit sets a key's own")
	fs.Float64Var(&o.RateRequests, "rate-limit-requests", 0, "requests per second each key may make (0: no limit)")
	fs.Float64Var(&o.RateIP, "rate-limit-ip", 0, "requests per second per client IP that carry no valid key, probes excepted (0: no limit)")
	fs.StringVar(&o.CORSOrigins, "cors-origins", "", "browser origins allowed to call lrs, comma-separated (https://lms.example.edu), or * for any (then never with credentials); empty: no CORS")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS; read again on SIGHUP")
	fs.StringVar(&o.TLSKey, "tls-key", "", "PEM private key file of --tls-cert; read again on SIGHUP")
	fs.StringVar(&o.TrustedProxies, "trusted-proxies", "", "reverse proxies whose X-Forwarded-For is believed, comma-separated CIDRs or addresses (10.0.0.0/8,192.0.2.7); empty: none")
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
	if (o.TLSCert == "") != (o.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert (LRS_TLS_CERT) and --tls-key (LRS_TLS_KEY) go together: give both or neither"))
	}
	if _, err := o.trustedProxies(); err != nil {
		errs = append(errs, err)
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

// trustedProxies reads --trusted-proxies: CIDRs, or single addresses.
func (o *opsSettings) trustedProxies() ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(o.TrustedProxies, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip := net.ParseIP(f)
			if ip == nil {
				return nil, fmt.Errorf("--trusted-proxies (LRS_TRUSTED_PROXIES): %q is neither a CIDR nor an IP address", f)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies (LRS_TRUSTED_PROXIES): %q is neither a CIDR nor an IP address", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// startTLS loads --tls-cert/--tls-key and reads them again on each SIGHUP
// until ctx is done. No certificate: nil, plain HTTP.
func (o *opsSettings) startTLS(ctx context.Context, log *slog.Logger) (*tls.Config, error) {
	if o.TLSCert == "" {
		return nil, nil
	}
	certs, err := web.LoadCertFiles(o.TLSCert, o.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := certs.Reload(); err != nil {
					log.Error("SIGHUP: TLS certificate not reloaded; still serving the previous one", slog.Any("err", err))
					continue
				}
				log.Info("SIGHUP: TLS certificate reloaded", slog.String("tls_cert", o.TLSCert))
			}
		}
	}()
	return certs.TLSConfig(), nil
}
