package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/internal/promtest"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/store/storetest"
	"github.com/lrs-dev/lrs/web"
)

// metricsSetup is a server over a fresh store with its metrics served by an
// admin handler, as lrs serve wires them.
func metricsSetup(t *testing.T, kind string, maxTenants int) (*bundle, string) {
	t.Helper()
	b := &bundle{kind: kind, db: storetest.Open(t, kind), maxBody: 64 << 10}
	m := web.NewMetrics(maxTenants)
	d := b.deps()
	d.Metrics = m
	srv := web.NewServer(web.Config{CaliperPath: "/caliper", MaxBody: b.maxBody}, slog.New(slog.NewTextHandler(io.Discard, nil)), d)
	m.WatchStore(b.db, b.db)
	b.srv = httptest.NewServer(srv)
	t.Cleanup(b.srv.Close)
	admin := httptest.NewServer(web.AdminHandler(m))
	t.Cleanup(admin.Close)
	return b, admin.URL + "/metrics"
}

func newToken(t *testing.T, db store.Backend, tenant string) string {
	t.Helper()
	_, token, err := db.CreateKey(context.Background(), tenant, "", []string{store.ScopeWrite, store.ScopeRead})
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// TestMetricsTenantCap: past the cap, tenants share the "(other)" label,
// and a refusal before any key is known counts under "(none)".
func TestMetricsTenantCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b, metrics := metricsSetup(t, kind, 2)
		for _, tenant := range []string{"a", "b", "c", "d"} {
			token := newToken(t, b.db, tenant)
			if res := b.post(t, token, "application/json", envelope(event(uuid.NewString()))); res.StatusCode != http.StatusOK {
				t.Fatalf("%s: status %d", tenant, res.StatusCode)
			}
		}
		b.post(t, "", "application/json", envelope(event(uuid.NewString())))
		f := promtest.Scrape(t, metrics)
		for tenant, want := range map[string]float64{"a": 1, "b": 1, web.OtherTenant: 2} {
			if got := f.Value(t, "lrs_events_stored_total", "tenant", tenant); got != want {
				t.Errorf("events stored for %s: %v, want %v", tenant, got, want)
			}
		}
		if got := len(f.LabelValues("lrs_events_stored_total", "tenant")); got != 3 {
			t.Errorf("%d tenant labels, want 3", got)
		}
		if got := f.Value(t, "lrs_envelopes_refused_total", "tenant", web.NoTenant, "problem", "unauthorized"); got != 1 {
			t.Errorf("unauthenticated refusals: %v, want 1", got)
		}
	})
}

// TestMetricsBatchAndRoutes: each envelope of an array counts on its own;
// request durations carry the route pattern, never the raw path.
func TestMetricsBatchAndRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		b, metrics := metricsSetup(t, kind, 0)
		token := newToken(t, b.db, "t1")
		id := uuid.NewString()
		batch := "[" + string(envelope(event(id), event(uuid.NewString()))) + "," +
			string(envelope(event(uuid.NewString(), "action", `"Nope"`))) + "," +
			string(envelope(event(id))) + "]"
		if res := b.post(t, token, "application/json", []byte(batch)); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("batch: status %d, want 400", res.StatusCode)
		}
		for _, path := range []string{"/api/v1/events/" + uuid.NewString(), "/api/v1/events/" + uuid.NewString(), "/no/such/path"} {
			req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
		f := promtest.Scrape(t, metrics)
		checks := []struct {
			name   string
			labels []string
			want   float64
		}{
			{"lrs_envelopes_stored_total", []string{"tenant", "t1"}, 2},
			{"lrs_events_stored_total", []string{"tenant", "t1"}, 2},
			{"lrs_events_duplicate_total", []string{"tenant", "t1"}, 1},
			{"lrs_envelopes_refused_total", []string{"tenant", "t1", "problem", "invalid-envelope"}, 1},
			{"lrs_envelope_size_bytes_count", nil, 3},
			{"lrs_envelope_events_count", nil, 2},
			{"lrs_envelope_events_sum", nil, 3},
			{"lrs_ingest_validation_seconds_count", nil, 3},
			{"lrs_ingest_store_seconds_count", nil, 2},
			{"lrs_http_request_duration_seconds_count", []string{"method", "POST", "route", "/caliper", "status", "400"}, 1},
			{"lrs_http_request_duration_seconds_count", []string{"method", "GET", "route", "/api/v1/events/:id", "status", "404"}, 2},
			{"lrs_http_request_duration_seconds_count", []string{"route", "(unmatched)", "status", "404"}, 1},
			{"lrs_ready", nil, 1},
		}
		for _, c := range checks {
			if got := f.Value(t, c.name, c.labels...); got != c.want {
				t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
			}
		}
		for _, route := range f.LabelValues("lrs_http_request_duration_seconds", "route") {
			if route != "/caliper" && route != "/api/v1/events/:id" && route != "(unmatched)" {
				t.Errorf("unexpected route label %q", route)
			}
		}
		if f.Value(t, "lrs_db_pool_connections_max") < 1 || f.Value(t, "lrs_db_pool_connections_idle")+f.Value(t, "lrs_db_pool_connections_in_use") < 1 {
			t.Errorf("pool gauges: max %v, idle %v, in use %v", f.Value(t, "lrs_db_pool_connections_max"),
				f.Value(t, "lrs_db_pool_connections_idle"), f.Value(t, "lrs_db_pool_connections_in_use"))
		}
		f.Value(t, "lrs_db_pool_acquire_waits_total")
		f.Value(t, "lrs_store_writes_waiting")
		checkMetricsDoc(t, f)
	})
}

// checkMetricsDoc: docs/metrics.md has a row for every lrs_ metric the
// scrape holds, and names no lrs_ metric that does not exist.
func checkMetricsDoc(t *testing.T, f promtest.Families) {
	t.Helper()
	doc, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for name := range f {
		if strings.HasPrefix(name, "lrs_") && !strings.Contains(string(doc), "| `"+name+"` |") {
			t.Errorf("docs/metrics.md has no row for %s", name)
		}
	}
	for _, name := range regexp.MustCompile(`lrs_[a-z_]+`).FindAllString(string(doc), -1) {
		if !f.Has(name) {
			t.Errorf("docs/metrics.md names %s, which does not exist", name)
		}
	}
}

// TestMetricsBeforeStore: until the store is open, lrs_ready is 0.
func TestMetricsBeforeStore(t *testing.T) {
	admin := httptest.NewServer(web.AdminHandler(web.NewMetrics(0)))
	defer admin.Close()
	f := promtest.Scrape(t, admin.URL+"/metrics")
	if got := f.Value(t, "lrs_ready"); got != 0 {
		t.Errorf("lrs_ready = %v before the store is open", got)
	}
	if f["go_goroutines"] == nil || f["process_cpu_seconds_total"] == nil {
		t.Error("no Go runtime or process metrics")
	}
	res, err := http.Get(admin.URL + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("/debug/pprof/: %d", res.StatusCode)
	}
}
