package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// syncBuffer is a bytes.Buffer safe for the server goroutine to write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is a getenv over vars; the admin listener takes a free port unless
// vars say otherwise (tests run at once must not share 127.0.0.1:9090).
func env(vars map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := vars[k]; ok || k != "LRS_ADMIN_ADDR" {
			return v
		}
		return "127.0.0.1:0"
	}
}

func runCmd(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, getenv, &out, &errOut)
	return out.String(), err
}

// startServer runs 'lrs serve' on a free port and returns its base URL.
func startServer(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	base, _, stop := startServerOut(t, getenv, args...)
	t.Cleanup(stop)
	return base
}

// startServerOut runs 'lrs serve' and returns its base URL, what it printed
// on stdout, and a function that stops it.
func startServerOut(t *testing.T, getenv func(string) string, args ...string) (string, *syncBuffer, func()) {
	t.Helper()
	base, out, _, stop := startServerIO(t, getenv, args...)
	return base, out, stop
}

// startServerIO is startServerOut that also returns the logs (stderr).
func startServerIO(t *testing.T, getenv func(string) string, args ...string) (string, *syncBuffer, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs, out := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, out, logs)
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				return "http://" + rec.Addr, out, logs, stop
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve exited early: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("server did not start:\n%s", logs.String())
	return "", nil, nil, nil
}

func TestServeEndToEnd(t *testing.T) {
	url := pgtest.URL(t)
	getenv := env(map[string]string{"LRS_DATABASE_URL": url, "LRS_DATA_DIR": t.TempDir()})

	out, err := runCmd(t, getenv, "keys", "create", "--tenant", "uni", "--scopes", "write,read", "--label", "lms")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "lrs_") || strings.Contains(token, " ") {
		t.Fatalf("last line of keys create is not a token: %q", token)
	}

	base := startServer(t, getenv)
	body := `{"sensor":"https://example.edu/sensors/1","sendTime":"2018-11-15T10:15:00.000Z",` +
		`"dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2","data":[{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2",` +
		`"id":"urn:uuid:c51570e4-f8ed-4c18-bb3a-dfe51b2cc594","type":"ViewEvent","actor":"https://example.edu/users/1",` +
		`"action":"Viewed","object":{"id":"https://example.edu/doc/1","type":"Document"},"eventTime":"2018-11-15T10:15:00.000Z"}]}`
	post := func(token string) int {
		req, _ := http.NewRequest("POST", base+"/caliper", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(token); code != 200 {
		t.Fatalf("POST /caliper: %d", code)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}

	out, err = runCmd(t, getenv, "keys", "list")
	if err != nil || !strings.Contains(out, "uni") || !strings.Contains(out, "write,read") {
		t.Fatalf("keys list: %v\n%s", err, out)
	}
	if _, err := runCmd(t, getenv, "keys", "revoke", "1"); err != nil {
		t.Fatal(err)
	}
	if code := post(token); code != 401 {
		t.Errorf("revoked key: %d, want 401", code)
	}
}

func TestServeRefusesOldSchema(t *testing.T) {
	url := pgtest.URL(t)
	getenv := env(map[string]string{"LRS_DATABASE_URL": url})
	if _, err := runCmd(t, getenv, "migrate", "down"); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, getenv, "migrate", "version")
	if err != nil || !strings.Contains(out, "lrs migrate up") {
		t.Fatalf("migrate version: %v %q", err, out)
	}
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"}, getenv, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "lrs migrate up") {
		t.Fatalf("serve on an old schema: %v", err)
	}
	// --migrate brings it up to date and serves.
	base := startServer(t, getenv, "--migrate")
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("readyz after --migrate: %d", res.StatusCode)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	err := run(context.Background(), []string{"serve", "--database-url", "mysql://x/y"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "LRS_DATABASE_URL") {
		t.Errorf("unsupported database url: %v", err)
	}
	err = run(context.Background(), []string{"serve", "--database-url", "postgres://x"},
		env(map[string]string{"LRS_MAX_BODY": "lots"}), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "LRS_MAX_BODY") {
		t.Errorf("bad max body: %v", err)
	}
	err = run(context.Background(), []string{"serve", "--database-url", "postgres://x", "--validation", "loose"},
		env(nil), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "LRS_VALIDATION") {
		t.Errorf("bad validation mode: %v", err)
	}
	var ec *exitCodeError
	if err := run(context.Background(), []string{"nope"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, &ec) || ec.code != 2 {
		t.Errorf("unknown command: %v", err)
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]int64{"5MiB": 5 << 20, "512KiB": 512 << 10, "1024": 1024, "2 MB": 2 << 20} {
		var b byteSize
		if err := b.Set(in); err != nil || int64(b) != want {
			t.Errorf("%q: %d, %v", in, b, err)
		}
	}
	var b byteSize
	if err := b.Set("-1"); err == nil {
		t.Error("negative size accepted")
	}
}

// TestEmbeddedFirstStart does what a new user does: 'lrs serve' with no
// database, the printed curl stores an event, the read API returns it, and
// after a restart it is still there.
func TestEmbeddedFirstStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lrs-data")
	getenv := env(map[string]string{"LRS_DATA_DIR": dir})
	base, out, stop := startServerOut(t, getenv)
	text := out.String()
	token := regexp.MustCompile(`(?m)^  (lrs_\S+)$`).FindStringSubmatch(text)
	post := regexp.MustCompile(`curl -i (\S+) -H 'Authorization: Bearer (\S+)' -H 'Content-Type: application/json' -d '(.*)'`).FindStringSubmatch(text)
	if token == nil || post == nil {
		t.Fatalf("first start printed no token and curl line:\n%s", text)
	}
	port := base[strings.LastIndex(base, ":"):]
	if !strings.Contains(text, "http://localhost"+port+"/ui/") {
		t.Errorf("first start does not give the web UI's address:\n%s", text)
	}
	if !strings.HasSuffix(post[1], port+"/caliper") || post[2] != token[1] {
		t.Fatalf("curl line %q does not match server %s", post[0], base)
	}
	req, _ := http.NewRequest("POST", base+"/caliper", strings.NewReader(post[3]))
	req.Header.Set("Authorization", "Bearer "+post[2])
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("printed curl: %d", res.StatusCode)
	}
	read := func(base string) []any {
		req, _ := http.NewRequest("GET", base+"/api/v1/events", nil)
		req.Header.Set("Authorization", "Bearer "+token[1])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var page struct{ Events []any }
		json.NewDecoder(res.Body).Decode(&page)
		return page.Events
	}
	if got := read(base); len(got) != 1 {
		t.Fatalf("read API returned %d events, want 1", len(got))
	}
	stop()

	base2, out2, stop2 := startServerOut(t, getenv)
	defer stop2()
	if strings.Contains(out2.String(), "lrs_") {
		t.Errorf("second start printed a new token:\n%s", out2.String())
	}
	if got := read(base2); len(got) != 1 {
		t.Errorf("after restart: %d events, want 1", len(got))
	}
	if _, err := os.Stat(filepath.Join(dir, "lrs.db")); err != nil {
		t.Errorf("data file: %v", err)
	}
	// The CLI works on the same embedded store.
	var list bytes.Buffer
	if err := run(context.Background(), []string{"keys", "list"}, getenv, &list, &bytes.Buffer{}); err != nil || !strings.Contains(list.String(), "default") {
		t.Errorf("keys list on the embedded store: %v\n%s", err, list.String())
	}
}
