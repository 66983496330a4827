package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store"
)

// TestBackupWhileWriting takes backups of the embedded store while clients
// post envelopes to it: each backup opens as a store and holds a consistent
// snapshot (every envelope with its event), and the last holds what was
// acknowledged before it began.
func TestBackupWhileWriting(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{"LRS_DATA_DIR": filepath.Join(dir, "data")})
	base, out, stop := startServerOut(t, getenv)
	defer stop()
	token := regexp.MustCompile(`(?m)^  (lrs_\S+)$`).FindStringSubmatch(out.String())
	if token == nil {
		t.Fatalf("no token printed:\n%s", out.String())
	}
	post := func() error {
		now := "2026-12-03T06:00:00.000Z"
		body := `{"sensor":"https://example.edu/s","sendTime":"` + now + `","dataVersion":"http://purl.imsglobal.org/ctx/caliper/v1p2",` +
			`"data":[{"@context":"http://purl.imsglobal.org/ctx/caliper/v1p2","id":"urn:uuid:` + uuid.NewString() + `","type":"ViewEvent",` +
			`"actor":{"id":"https://example.edu/u/1","type":"Person"},"action":"Viewed","object":{"id":"https://example.edu/d/1","type":"Document"},"eventTime":"` + now + `"}]}`
		req, _ := http.NewRequest("POST", base+"/caliper", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token[1])
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("POST /caliper: %d", res.StatusCode)
		}
		return nil
	}

	var (
		acked   atomic.Int64
		done    = make(chan struct{})
		wg      sync.WaitGroup
		postErr atomic.Value
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := post(); err != nil {
					postErr.Store(err)
					return
				}
				acked.Add(1)
			}
		}()
	}
	for acked.Load() < 300 {
		if err := postErr.Load(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var last int64
	for i := range 3 {
		before := acked.Load()
		to := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		if _, stderr, err := runErr(getenv, "backup", "--to", to); err != nil {
			t.Fatalf("backup %d: %v\n%s", i, err, stderr)
		}
		fi, err := os.Stat(to)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("backup file: %v %v", fi.Mode(), err)
		}
		db, err := store.Open(context.Background(), "sqlite:"+to)
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.TableCounts(context.Background())
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("backup %d: %d events; %d acknowledged before it began, %d after it ended", i, c.Events, before, acked.Load())
		if c.Events != c.Envelopes || c.Events < before {
			t.Errorf("backup %d: %d envelopes, %d events; %d acknowledged before it began", i, c.Envelopes, c.Events, before)
		}
		last = c.Events
	}
	close(done)
	wg.Wait()
	if err := postErr.Load(); err != nil {
		t.Fatal(err)
	}
	if last > acked.Load() {
		t.Errorf("last backup holds %d events, more than the %d posted", last, acked.Load())
	}
	if _, _, err := runErr(getenv, "backup", "--to", filepath.Join(dir, "backup-0.db")); err == nil {
		t.Error("backup overwrote an existing file")
	}
}
