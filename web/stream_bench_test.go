package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/query"
	"github.com/lrs-dev/lrs/store"
	"github.com/lrs-dev/lrs/web"
)

// BenchmarkStreamLatency measures the live stream's commit-to-receipt
// latency on PostgreSQL over HTTP, with 1 and 1,000 subscribers, while a
// writer posts envelopes of 100 other events as fast as it can. Each op
// posts one probe event (the subscribers' filter selects only probes) and
// waits until every subscriber has it; the latency of a receipt is from
// the start of the probe's POST to the moment the subscriber read it.
//
//	go test ./web -run '^$' -bench StreamLatency -benchtime 100x
func BenchmarkStreamLatency(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) { benchStreamLatency(b, n) })
	}
}

func benchStreamLatency(b *testing.B, subscribers int) {
	bb := setupOn(b, "postgres")
	_, readToken, err := bb.db.CreateKey(context.Background(), "t1", "reader", []string{store.ScopeRead})
	if err != nil {
		b.Fatal(err)
	}
	cfg := web.Config{MaxStreams: subscribers + 1, Limits: web.Limits{MaxConns: 4 * subscribers, MaxConnsPerIP: 4 * subscribers}}
	base, _ := startStream(b, bb, cfg, query.HubConfig{})

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	recv := make([]chan time.Time, subscribers)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: subscribers}}
	var wg sync.WaitGroup
	for i := range recv {
		recv[i] = make(chan time.Time, 1024)
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/stream?action=NavigatedTo", nil)
		req.Header.Set("Authorization", "Bearer "+readToken)
		res, err := client.Do(req)
		if err != nil || res.StatusCode != 200 {
			b.Fatalf("subscriber %d: %v %v", i, res, err)
		}
		b.Cleanup(func() { res.Body.Close() })
		wg.Add(1)
		go func(c chan<- time.Time) {
			defer wg.Done()
			r := bufio.NewReaderSize(res.Body, 4096)
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if bytes.HasPrefix(line, []byte("data: ")) {
					c <- time.Now()
				}
			}
		}(recv[i])
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)

	// The background writer: envelopes of 100 Viewed events, one at a time.
	stop := make(chan struct{})
	var loadEvents atomic.Int64
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			items := make([]string, 100)
			for j := range items {
				items[j] = event(fmt.Sprintf("00000000-0000-4000-8000-%06d%06d", n, j))
			}
			if res := postTo(base, bb.token, envelope(items...)); res == 200 {
				loadEvents.Add(100)
			}
		}
	}()
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		body := envelope(event(fmt.Sprintf("11111111-0000-4000-8000-%012d", i), "type", `"NavigationEvent"`,
			"action", `"NavigatedTo"`, "object", `{"id":"https://example.edu/pages/1","type":"WebPage"}`))
		t0 := time.Now()
		if res := postTo(base, bb.token, body); res != 200 {
			b.Fatalf("probe: %d", res)
		}
		for _, c := range recv {
			select {
			case t := <-c:
				lat = append(lat, t.Sub(t0))
			case <-time.After(10 * time.Second):
				b.Fatal("a subscriber did not get the probe within 10 s")
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	<-loadDone
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(loadEvents.Load())/elapsed.Seconds(), "load-events/s")
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/float64(subscribers)/1024, "KiB/subscriber")
}

// postTo posts a Caliper envelope and returns the status.
func postTo(base, token string, body []byte) int {
	req, _ := http.NewRequest(http.MethodPost, base+"/caliper", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}
