package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store/storetest"
)

// TestKill9UnderLoad: `kill -9` of a real `lrs serve` while clients post
// loses nothing acknowledged: after a restart every acknowledged event is
// stored, once, on both stores.
func TestKill9UnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server")
	}
	bin := filepath.Join(t.TempDir(), "lrs")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	storetest.Each(t, func(t *testing.T, kind string) {
		dbURL := "sqlite:" + filepath.Join(t.TempDir(), "lrs.db")
		if kind == "postgres" {
			dbURL = storetest.URL(t, kind)
		}
		environ := append(os.Environ(), "LRS_DATABASE_URL="+dbURL, "LRS_MIGRATE=true", "LRS_LOG_LEVEL=warn", "LRS_ADMIN_ADDR=127.0.0.1:0")
		keys := exec.Command(bin, "keys", "create", "--tenant", "t", "--scopes", "write,read")
		keys.Env = environ
		out, err := keys.Output()
		if err != nil {
			t.Fatalf("keys create: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		token := strings.TrimSpace(lines[len(lines)-1])

		addr := freeAddr(t)
		serve := func() *exec.Cmd {
			cmd := exec.Command(bin, "serve", "--addr", addr)
			cmd.Env = environ
			cmd.Stderr = io.Discard
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitReady(t, "http://"+addr)
			return cmd
		}
		srv := serve()

		var (
			mu    sync.Mutex
			acked []string
			stop  = make(chan struct{})
			wg    sync.WaitGroup
		)
		client := &http.Client{Timeout: 10 * time.Second}
		for c := 0; c < 8; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 5000; n++ {
					select {
					case <-stop:
						return
					default:
					}
					id := uuid.NewString()
					body := fmt.Sprintf(`{"sensor":"https://example.edu/s","sendTime":"2026-12-03T10:00:00.000Z","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2",`+
						`"data":[{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:%s","type":"ViewEvent","action":"Viewed",`+
						`"actor":{"id":"https://example.edu/u/1","type":"Person"},"object":{"id":"https://example.edu/d/1","type":"Document"},"eventTime":"2026-12-03T10:00:00.000Z"}]}`, id)
					req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/caliper", strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					res, err := client.Do(req)
					if err != nil {
						continue // the server is gone: not acknowledged
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode == http.StatusOK {
						mu.Lock()
						acked = append(acked, id)
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(1500 * time.Millisecond)
		srv.Process.Signal(syscall.SIGKILL)
		srv.Wait()
		close(stop)
		wg.Wait()
		if len(acked) < 10 {
			t.Fatalf("only %d events acknowledged before the kill: the load did not run", len(acked))
		}

		srv = serve()
		defer func() { srv.Process.Kill(); srv.Wait() }()
		missing := 0
		for _, id := range acked {
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/events/urn:uuid:"+id, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				missing++
			}
		}
		// Exactly once: the export holds each stored id one time.
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/v1/export", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		export, _ := io.ReadAll(res.Body)
		res.Body.Close()
		seen := map[string]int{}
		for _, line := range bytes.Split(bytes.TrimSpace(export), []byte("\n")) {
			if i := bytes.Index(line, []byte(`"urn:uuid:`)); i >= 0 {
				seen[string(line[i+10:i+46])]++
			}
		}
		twice := 0
		for _, n := range seen {
			if n > 1 {
				twice++
			}
		}
		t.Logf("%s: %d acknowledged before kill -9, %d stored after restart", kind, len(acked), len(seen))
		if missing > 0 || twice > 0 {
			t.Errorf("%d acknowledged events missing, %d stored twice", missing, twice)
		}
	})
}

// waitReady waits for /readyz to answer 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not ready within 20s", base)
}
