package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
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

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
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
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, &bytes.Buffer{}, logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				return "http://" + rec.Addr
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
	return ""
}

func TestServeEndToEnd(t *testing.T) {
	url := pgtest.URL(t)
	getenv := env(map[string]string{"LRS_DATABASE_URL": url})

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
	err := run(context.Background(), []string{"serve"}, env(nil), &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "LRS_DATABASE_URL") {
		t.Errorf("no database url: %v", err)
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
