package web

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus metrics of one server, in their own registry
// (no global state): docs/operations.md lists each. Label values are bounded:
// routes are Echo's patterns, statuses and problem types are finite, and at
// most MaxTenants tenants get a label of their own; actors never do.
type Metrics struct {
	reg        *prometheus.Registry
	maxTenants int

	mu      sync.Mutex
	tenants map[string]struct{}

	requests    *prometheus.HistogramVec
	stored      *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
	refused     *prometheus.CounterVec
	envSize     prometheus.Histogram
	envEvents   prometheus.Histogram
	validation  prometheus.Histogram
	storeTime   prometheus.Histogram
	envelopesOK *prometheus.CounterVec
	limited     *prometheus.CounterVec
	store       *storeCollector
}

// DefaultMetricsTenants is how many tenants get a label of their own unless
// told otherwise; the rest are counted together under OtherTenant.
const DefaultMetricsTenants = 100

// Label values that stand for no single tenant (parenthesised, so that they
// read apart from tenant names).
const (
	OtherTenant  = "(other)" // tenants beyond the cap
	NoTenant     = "(none)"  // refused before a key was known
	unmatchedURL = "(unmatched)"
)

// NewMetrics returns a registry with lrs's metrics and the Go runtime and
// process collectors. maxTenants ≤ 0 takes DefaultMetricsTenants.
func NewMetrics(maxTenants int) *Metrics {
	if maxTenants <= 0 {
		maxTenants = DefaultMetricsTenants
	}
	m := &Metrics{reg: prometheus.NewRegistry(), maxTenants: maxTenants, tenants: map[string]struct{}{}}
	seconds := []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "lrs_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request on the public listener, by method, route pattern and status.",
		Buckets: seconds[3:],
	}, []string{"method", "route", "status"})
	m.stored = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lrs_events_stored_total",
		Help: "Caliper events stored (new), by tenant.",
	}, []string{"tenant"})
	m.duplicates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lrs_events_duplicate_total",
		Help: "Caliper events received again and not stored twice (same id, same content), by tenant.",
	}, []string{"tenant"})
	m.envelopesOK = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lrs_envelopes_stored_total",
		Help: "Envelopes stored (committed, possibly all duplicates), by tenant.",
	}, []string{"tenant"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lrs_envelopes_refused_total",
		Help: "Envelopes (or ingest requests) refused, nothing of them stored, by tenant and problem type.",
	}, []string{"tenant", "problem"})
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lrs_rate_limited_total",
		Help: "Requests refused with 429 by a rate limit: events (per key), requests (per key) or anonymous (per client IP).",
	}, []string{"limit"})
	for _, l := range []string{limitEvents, limitRequests, limitAnonymous} {
		m.limited.WithLabelValues(l) // every limit has a series from the start, at 0
	}
	m.envSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "lrs_envelope_size_bytes",
		Help:    "Size of each Caliper envelope received.",
		Buckets: prometheus.ExponentialBuckets(256, 4, 9), // 256 B … 16 MiB
	})
	m.envEvents = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "lrs_envelope_events",
		Help:    "Distinct events in each valid envelope.",
		Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000},
	})
	m.validation = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "lrs_ingest_validation_seconds",
		Help:    "Time to decode and validate an envelope.",
		Buckets: seconds,
	})
	m.storeTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "lrs_ingest_store_seconds",
		Help:    "Time to store a valid envelope (queueing for a writer and the commit included).",
		Buckets: seconds,
	})
	m.store = newStoreCollector()
	m.reg.MustRegister(m.store, m.requests, m.stored, m.duplicates, m.envelopesOK, m.refused, m.limited,
		m.envSize, m.envEvents, m.validation, m.storeTime,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector())
	return m
}

// Registry is where the metrics are registered; Handler serves them.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format (or OpenMetrics,
// when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// tenant is the label value for a tenant: its name while fewer than
// maxTenants have been seen, OtherTenant after that.
func (m *Metrics) tenant(name string) string {
	if name == "" {
		return NoTenant
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tenants[name]; ok {
		return name
	}
	if len(m.tenants) >= m.maxTenants {
		return OtherTenant
	}
	m.tenants[name] = struct{}{}
	return name
}

// observe records each request's duration under its route pattern. It
// answers errors itself (as requestLog does) so that the status is final.
func (m *Metrics) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" || strings.HasSuffix(route, "/*") && c.Response().Status == http.StatusNotFound {
			route = unmatchedURL
		}
		m.requests.WithLabelValues(methodLabel(c.Request().Method), route, strconv.Itoa(c.Response().Status)).
			Observe(time.Since(start).Seconds())
		return nil
	}
}

// methodLabel keeps the method label to the methods lrs serves.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions:
		return m
	}
	return "other"
}

// received records an envelope's size and how long decoding and validating
// it took; events is its count of distinct events (0 when invalid).
func (m *Metrics) received(size, events int, took time.Duration) {
	m.envSize.Observe(float64(size))
	m.validation.Observe(took.Seconds())
	if events > 0 {
		m.envEvents.Observe(float64(events))
	}
}

// saved records a store call's time and, when it committed, its events.
func (m *Metrics) saved(tenant string, stored, duplicates int, took time.Duration, ok bool) {
	m.storeTime.Observe(took.Seconds())
	if !ok {
		return
	}
	t := m.tenant(tenant)
	m.envelopesOK.WithLabelValues(t).Inc()
	m.stored.WithLabelValues(t).Add(float64(stored))
	m.duplicates.WithLabelValues(t).Add(float64(duplicates))
}

// refusedEnvelope counts an envelope or ingest request refused with p.
func (m *Metrics) refusedEnvelope(tenant string, p *Problem) {
	m.refused.WithLabelValues(m.tenant(tenant), strings.TrimPrefix(p.Type, problemBase)).Inc()
}

// rateLimited counts a 429 by the limit that refused it.
func (m *Metrics) rateLimited(limit string) { m.limited.WithLabelValues(limit).Inc() }
