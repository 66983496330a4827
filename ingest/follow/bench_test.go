package follow

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/edx"
	"github.com/lrs-dev/lrs/ingest/importer"
	"github.com/lrs-dev/lrs/ingest/synth"
	"github.com/lrs-dev/lrs/store/storetest"
)

// storeSender stores batches as lrs import --follow does: transformed,
// validated strictly and written to the store.
type storeSender struct{ im *importer.Importer }

func (s storeSender) Send(ctx context.Context, source string, first int64, lines []byte) error {
	if err := s.im.ImportChunk(ctx, source, first, bytes.NewReader(lines)); err != nil {
		return err
	}
	return s.im.Flush(ctx)
}

// BenchmarkAppendToStored measures the time from a line's append to the
// tracking log to its event being stored and checkpointed, for lines
// appended one every 5 ms (300 lines a run), on each store:
//
//	go test ./ingest/follow -run '^$' -bench AppendToStored -benchtime 1x
//
// docs/benchmarks.md has the figures.
func BenchmarkAppendToStored(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(kind, func(b *testing.B) {
			db := storetest.Open(b, kind)
			tenant, err := db.EnsureTenant(context.Background(), "bench")
			if err != nil {
				b.Fatal(err)
			}
			tr, _ := edx.New(edx.Config{LMSURL: "https://lms.example.edu", ActorSecret: "s"})
			svc := ingest.NewService(db, caliper.NewValidator(caliper.Strict))
			g := synth.New(synth.Population{Actors: 1000, Courses: 5, Objects: 500,
				Start: time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC), Span: 90 * 24 * time.Hour}, 9)
			var all []time.Duration
			for i := 0; i < b.N; i++ {
				all = append(all, appendToStored(b, db, storeSender{importer.New(importer.StoreSink{Service: svc,
					Source: ingest.Source{TenantID: tenant}}, tr, 1000, nil)}, g, 300)...)
			}
			slices.Sort(all)
			at := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000 }
			b.ReportMetric(at(0.5), "p50-ms")
			b.ReportMetric(at(0.99), "p99-ms")
			b.ReportMetric(at(1), "max-ms")
		})
	}
}

func appendToStored(b *testing.B, db Checkpoints, send Sender, g *synth.Generator, n int) []time.Duration {
	log := filepath.Join(b.TempDir(), "tracking.log")
	var (
		mu       sync.Mutex
		appended = make([]time.Time, 0, n)
		latency  = make([]time.Duration, 0, n)
		stored   int64
		all      = make(chan struct{})
	)
	ctx, cancel := context.WithCancel(context.Background())
	f := New(Config{Paths: []string{log}, Sink: "tenant:bench", Stored: func(_ string, k int64) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for i := stored; i < stored+k; i++ {
			latency = append(latency, now.Sub(appended[i]))
		}
		stored += k
		if stored == int64(n) {
			close(all)
		}
	}}, db, send)
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	fh, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	for i := 0; i < n; i++ {
		line := append(g.EdxDocumentedEvent("play_video"), '\n')
		mu.Lock()
		appended = append(appended, time.Now())
		_, err := fh.Write(line) // under the lock: a batch cannot be counted before its time is noted
		mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-all:
	case <-time.After(30 * time.Second):
		b.Fatalf("%d of %d lines stored", stored, n)
	}
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return latency
}
