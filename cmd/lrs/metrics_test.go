package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/internal/promtest"
	"github.com/lrs-dev/lrs/store/storetest"
)

// adminAddrOf reads the admin listener's address from the "listening" log line.
func adminAddrOf(t *testing.T, logs string) string {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		var rec struct{ Msg, Admin string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
			return rec.Admin
		}
	}
	t.Fatalf("no listening line:\n%s", logs)
	return ""
}

// TestMetricsScrape runs lrs serve on each store, sends a scripted workload
// and scrapes the real admin listener: every counter moved by what was sent,
// and neither /metrics nor pprof is on the public listener.
func TestMetricsScrape(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		getenv := env(map[string]string{"LRS_DATABASE_URL": storetest.URL(t, kind)})
		out, err := runCmd(t, getenv, "keys", "create", "--tenant", "uni", "--scopes", "write,read")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		token := lines[len(lines)-1]
		base, _, logs, stop := startServerIO(t, getenv)
		defer stop()
		admin := "http://" + adminAddrOf(t, logs.String())
		if strings.HasSuffix(admin, ":9090") || strings.HasSuffix(admin, ":0") {
			t.Fatalf("admin listener on %s, want the free port the test asked for", admin)
		}

		before := promtest.Scrape(t, admin+"/metrics")
		if got := before.Value(t, "lrs_ready"); got != 1 {
			t.Errorf("lrs_ready = %v, want 1", got)
		}
		ev := func(id string) string {
			return `{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:` + id + `","type":"ViewEvent",` +
				`"actor":"https://example.edu/users/1","action":"Viewed","object":{"id":"https://example.edu/doc/1","type":"Document"},` +
				`"eventTime":"2018-11-15T10:15:00.000Z"}`
		}
		env := func(items ...string) string {
			return `{"sensor":"https://example.edu/sensors/1","sendTime":"2018-11-15T10:15:00.000Z",` +
				`"dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[` + strings.Join(items, ",") + `]}`
		}
		do := func(method, path, token, body string) int {
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		a, b := uuid.NewString(), uuid.NewString()
		for _, step := range []struct {
			method, path, token, body string
			want                      int
		}{
			{"POST", "/caliper", token, env(ev(a), ev(b)), 200},
			{"POST", "/caliper", token, env(ev(a), ev(b), ev(uuid.NewString())), 200},           // two duplicates, one new
			{"POST", "/caliper", token, env(`{"id":"urn:uuid:` + uuid.NewString() + `"}`), 400}, // invalid
			{"POST", "/caliper", "", env(ev(uuid.NewString())), 401},
			{"GET", "/api/v1/events?limit=5", token, "", 200},
			{"GET", "/metrics", "", "", 404},
			{"GET", "/debug/pprof/", "", "", 404},
		} {
			if got := do(step.method, step.path, step.token, step.body); got != step.want {
				t.Fatalf("%s %s: %d, want %d", step.method, step.path, got, step.want)
			}
		}

		after := promtest.Scrape(t, admin+"/metrics")
		moved := func(name string, want float64, labels ...string) {
			t.Helper()
			if got := after.Value(t, name, labels...) - before.Sum(name, labels...); got != want {
				t.Errorf("%s%v moved by %v, want %v", name, labels, got, want)
			}
		}
		moved("lrs_events_stored_total", 3, "tenant", "uni")
		moved("lrs_events_duplicate_total", 2, "tenant", "uni")
		moved("lrs_envelopes_stored_total", 2, "tenant", "uni")
		moved("lrs_envelopes_refused_total", 1, "tenant", "uni", "problem", "invalid-envelope")
		moved("lrs_envelopes_refused_total", 1, "tenant", "(none)", "problem", "unauthorized")
		moved("lrs_envelope_size_bytes_count", 3)
		moved("lrs_envelope_events_count", 2)
		moved("lrs_envelope_events_sum", 5)
		moved("lrs_ingest_validation_seconds_count", 3)
		moved("lrs_ingest_store_seconds_count", 2)
		moved("lrs_http_request_duration_seconds_count", 2, "method", "POST", "route", "/caliper", "status", "200")
		moved("lrs_http_request_duration_seconds_count", 1, "method", "POST", "route", "/caliper", "status", "401")
		moved("lrs_http_request_duration_seconds_count", 1, "method", "GET", "route", "/api/v1/events", "status", "200")
		moved("lrs_store_commits_total", 2) // one request at a time: a commit each
		moved("lrs_store_committed_envelopes_total", 2)
		if kind == "postgres" { // the key cache: on once its listener is up, then answering
			for deadline := time.Now().Add(5 * time.Second); after.Value(t, "lrs_key_cache_on") != 1; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("lrs_key_cache_on never 1")
				}
				after = promtest.Scrape(t, admin+"/metrics")
			}
			hits := after.Value(t, "lrs_key_cache_hits_total")
			for range 2 {
				do("GET", "/api/v1/events?limit=1", token, "")
			}
			if got := promtest.Scrape(t, admin+"/metrics").Value(t, "lrs_key_cache_hits_total"); got < hits+1 {
				t.Errorf("lrs_key_cache_hits_total %v after two more requests, was %v", got, hits)
			}
		}
		if after.Value(t, "lrs_ingest_store_seconds_sum") <= before.Sum("lrs_ingest_store_seconds_sum") {
			t.Error("store time did not grow")
		}
		if after.Value(t, "lrs_db_pool_connections_max") < 1 {
			t.Error("no pool size")
		}
		if after.Value(t, "process_cpu_seconds_total") <= 0 || after.Value(t, "go_goroutines") <= 0 {
			t.Error("no process or Go runtime metrics")
		}
		for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1"} {
			res, err := http.Get(admin + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("admin %s: %d", path, res.StatusCode)
			}
		}
	})
}

// TestAdminAddrFlag: an empty --admin-addr turns the admin listener off; a
// malformed one is refused naming the variable.
func TestAdminAddrFlag(t *testing.T) {
	getenv := env(map[string]string{"LRS_DATA_DIR": t.TempDir()})
	_, _, logs, stop := startServerIO(t, getenv, "--admin-addr", "")
	stop()
	if got := adminAddrOf(t, logs.String()); got != "" {
		t.Errorf("admin listener on %q with --admin-addr ''", got)
	}
	_, err := runCmd(t, getenv, "serve", "--admin-addr", "9090")
	if err == nil || !strings.Contains(err.Error(), "LRS_ADMIN_ADDR") {
		t.Errorf("--admin-addr 9090: %v", err)
	}
}
