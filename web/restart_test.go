package web_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/store/pgtest"
)

// TestPostgresRestartDuringIngest: PostgreSQL restarts (every connection cut,
// in-flight transactions rolled back) while clients post. Every answer is 200 or 503 with
// Retry-After, ingest resumes, and every acknowledged event is stored.
func TestPostgresRestartDuringIngest(t *testing.T) {
	b := setupOn(t, "postgres")
	var (
		mu      sync.Mutex
		acked   []string
		bad     []string
		counts  = map[int]int{}
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		started = time.Now()
	)
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 20000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := uuid.NewString()
				res := b.post(t, b.token, "application/json", envelope(event(id)))
				io.Copy(io.Discard, res.Body)
				mu.Lock()
				counts[res.StatusCode]++
				switch {
				case res.StatusCode == http.StatusOK:
					acked = append(acked, id)
				case res.StatusCode == http.StatusServiceUnavailable && res.Header.Get("Retry-After") != "":
				default:
					bad = append(bad, res.Status)
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	pgtest.Restart(t)
	restarted := time.Now()
	// Keep posting until writes succeed again, at most 20 s.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		after := len(acked)
		mu.Unlock()
		if after > 0 && time.Since(restarted) > time.Second {
			break
		}
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("answers %v over %v", counts, time.Since(started).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("%d answers neither 200 nor 503 with Retry-After: %v", len(bad), bad[:min(len(bad), 5)])
	}
	if counts[http.StatusServiceUnavailable] == 0 {
		t.Log("no 503 seen: the restart fell between requests")
	}
	read := b.readToken(t)
	missing := 0
	for _, id := range acked {
		if status, _ := b.get(t, read, "/api/v1/events/urn:uuid:"+id); status != http.StatusOK {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged events missing after the restart", missing, len(acked))
	}
}
