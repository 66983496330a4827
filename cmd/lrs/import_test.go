package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lrs-dev/lrs/internal/fixture"
)

// edxFixtureLog writes the reference's raw Open edX events as a gzipped
// tracking log, with a broken line at line 12, and returns its path.
func edxFixtureLog(t *testing.T, dir string) string {
	t.Helper()
	files := fixture.Glob(t, "edx/erb-fixtures/raw/*.json")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i, f := range files {
		raw, _ := os.ReadFile(f)
		var v any
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		line, _ := json.Marshal(v)
		zw.Write(append(line, '\n'))
		if i == 10 {
			zw.Write([]byte("{\"this line\": is broken\n"))
		}
	}
	zw.Close()
	path := filepath.Join(dir, "tracking.log.gz")
	os.WriteFile(path, buf.Bytes(), 0o644)
	return path
}

var summaryRE = regexp.MustCompile(`(\d+) events sent, (\d+) stored, (\d+) already stored`)

func importSummary(t *testing.T, out string) (sent, stored, dup string) {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in:\n%s", out)
	}
	return m[1], m[2], m[3]
}

// TestImportTwiceStoresOnce: the reference's fixtures (one broken line, one
// browser problem_check naming no problem) and a pretty-printed envelope.
// The refused lines fail the run and are named; a re-import stores nothing.
func TestImportTwiceStoresOnce(t *testing.T) {
	dir := t.TempDir()
	logPath := edxFixtureLog(t, dir)
	envelopes := filepath.Join(dir, "caliper")
	os.MkdirAll(envelopes, 0o755)
	env, _ := os.ReadFile(filepath.Join(fixtures(t), "caliperEnvelopeEventBatch.json"))
	os.WriteFile(filepath.Join(envelopes, "batch.json"), env, 0o644) // pretty-printed, many lines
	getenv := env2(map[string]string{"LRS_DATA_DIR": filepath.Join(dir, "data"), "LRS_LMS_URL": "https://lms.example.edu", "LRS_ACTOR_SECRET": "s"})

	var out bytes.Buffer
	err := run(context.Background(), []string{"import", "--batch", "7", logPath, envelopes}, getenv, &out, &bytes.Buffer{})
	if exitCode(err) != 1 || !strings.Contains(out.String(), "refused: 2 lines or items, 0 files") {
		t.Fatalf("first import: %v\n%s", err, out.String())
	}
	// Two fixtures are one browser submission seen from two pages: one event.
	sent, stored, dup := importSummary(t, out.String())
	if atoi(stored)+atoi(dup) != atoi(sent) || atoi(stored) < atoi(sent)-1 || sent == "0" ||
		!strings.Contains(out.String(), "tracking.log.gz:12: not JSON") ||
		!regexp.MustCompile(`tracking.log.gz:\d+: problem_check: problem_check names no problem`).MatchString(out.String()) {
		t.Fatalf("first import:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"import", logPath, envelopes}, getenv, &out, &bytes.Buffer{}); exitCode(err) != 1 {
		t.Fatalf("second import: %v", err)
	}
	sent2, stored2, dup2 := importSummary(t, out.String())
	if sent2 != sent || stored2 != "0" || dup2 != sent {
		t.Errorf("second import stored again: sent %s stored %s duplicates %s (first: %s)", sent2, stored2, dup2, sent)
	}
}

func TestImportToEndpointRetries(t *testing.T) {
	dir := t.TempDir()
	logPath := edxFixtureLog(t, dir)
	// The receiving lrs: the embedded store, through 'lrs serve'.
	getenv := env2(map[string]string{"LRS_DATA_DIR": filepath.Join(dir, "receiver")})
	base, stdout, stop := startServerOut(t, getenv)
	defer stop()
	token := regexp.MustCompile(`(?m)^  (lrs_\S+)$`).FindStringSubmatch(stdout.String())[1]
	// A flaky proxy in front: every other request fails with 503.
	target, _ := url.Parse(base)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var n atomic.Int64
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer flaky.Close()

	var out bytes.Buffer
	args := []string{"import", "--endpoint", flaky.URL + "/caliper", "--token", token, "--batch", "20",
		"--lms-url", "https://lms.example.edu", "--actor-secret", "s", logPath}
	if err := run(context.Background(), args, env2(nil), &out, &bytes.Buffer{}); exitCode(err) != 1 {
		t.Fatalf("import: %v (want exit status 1: two lines are refused)", err)
	}
	sent, stored, dup := importSummary(t, out.String())
	if sent == "0" || atoi(stored)+atoi(dup) != atoi(sent) || atoi(stored) < atoi(sent)-1 || n.Load() < 4 {
		t.Errorf("import through a flaky endpoint: %s (requests %d)", out.String(), n.Load())
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func env2(vars map[string]string) func(string) string { return env(vars) }
