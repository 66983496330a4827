package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/edx"
	"github.com/lrs-dev/lrs/ingest/importer"
	"github.com/lrs-dev/lrs/ingest/synth"
	"github.com/lrs-dev/lrs/store"
)

const (
	benchEventsPerEnvelope = 100
	benchClients           = 4
)

// BenchmarkIngest measures POST /caliper end to end (HTTP on loopback,
// decode, validate, one transaction per envelope) against the ceiling of
// writing the same rows with CopyFrom into the same tables, in one run.
// Each op is one envelope of 100 events; events/s is reported.
//
//	go test ./web -run '^$' -bench 'Ingest$' -benchtime 1000x
func BenchmarkIngest(b *testing.B) {
	b.Run("http", func(b *testing.B) { benchHTTP(b, "postgres") })
	b.Run("copyfrom_ceiling", func(b *testing.B) {
		bb := setupMax(b, "postgres", 5<<20)
		batches := preparedBatches(b, bb.tenant)
		pool := bb.db.(*store.Postgres).Pool()
		runClients(b, len(batches), func(i int) error {
			return copyEnvelope(context.Background(), pool, batches[i])
		})
	})
}

// BenchmarkIngestEmbedded is BenchmarkIngest on the embedded SQLite store:
// POST /caliper end to end, against the store writing the same prepared rows
// (no HTTP, decoding or validation) as its ceiling.
//
//	go test ./web -run '^$' -bench IngestEmbedded -benchtime 300x
func BenchmarkIngestEmbedded(b *testing.B) {
	b.Run("http", func(b *testing.B) { benchHTTP(b, "sqlite") })
	b.Run("store_ceiling", func(b *testing.B) {
		bb := setupMax(b, "sqlite", 5<<20)
		batches := preparedBatches(b, bb.tenant)
		runClients(b, len(batches), func(i int) error {
			_, err := bb.db.SaveEnvelope(context.Background(), batches[i].Rows)
			return err
		})
	})
}

// preparedBatches are the rows b.N envelopes would store, prepared before
// the clock starts: what a ceiling writes.
func preparedBatches(b *testing.B, tenant int64) []*ingest.Batch {
	svc := ingest.NewService(nil, caliper.NewValidator(caliper.Strict))
	bodies := benchBodies(b.N, 2)
	batches := make([]*ingest.Batch, len(bodies))
	for i, body := range bodies {
		var err error
		if batches[i], err = svc.Prepare(ingest.Source{TenantID: tenant}, body); err != nil {
			b.Fatal(err)
		}
	}
	return batches
}

// benchHTTP posts b.N envelopes of 100 events from concurrent clients to a
// server over a fresh store of kind.
func benchHTTP(b *testing.B, kind string) {
	bb := setupMax(b, kind, 5<<20) // the default --max-body
	bodies := benchBodies(b.N, 1)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	runClients(b, len(bodies), func(i int) error {
		req, _ := http.NewRequest(http.MethodPost, bb.srv.URL+"/caliper", bytes.NewReader(bodies[i]))
		req.Header.Set("Authorization", "Bearer "+bb.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	})
}

// copyEnvelope writes an envelope row and its events with COPY, in one transaction.
func copyEnvelope(ctx context.Context, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, b *ingest.Batch) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	e := b.Rows
	var envID int64
	if err := tx.QueryRow(ctx, `INSERT INTO envelopes (tenant_id, sensor, send_time, data_version, item_count, skeleton)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, e.TenantID, e.Sensor, e.SendTime, e.DataVersion, e.ItemCount, e.Skeleton).Scan(&envID); err != nil {
		return err
	}
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"events"},
		[]string{"tenant_id", "envelope_id", "id", "type", "action", "actor_id", "object_id", "object_type",
			"group_id", "session_id", "edapp_id", "profile", "event_time", "data"},
		pgx.CopyFromSlice(len(e.Events), func(i int) ([]any, error) {
			ev := e.Events[i]
			return []any{e.TenantID, envID, ev.ID, ev.Type, ev.Action, nullable(ev.ActorID), nullable(ev.ObjectID),
				nullable(ev.ObjectType), nullable(ev.GroupID), nullable(ev.SessionID), nullable(ev.EdAppID),
				nullable(ev.Profile), ev.EventTime, ev.Data}, nil
		}))
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func benchBodies(n int, seed uint64) [][]byte {
	g := synth.New(synth.DefaultPopulation, seed+uint64(time.Now().UnixNano()))
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = g.Envelope(benchEventsPerEnvelope)
	}
	return bodies
}

// runClients runs n operations across benchClients goroutines and reports events/s.
func runClients(b *testing.B, n int, op func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < benchClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := op(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	b.ReportMetric(float64(n*benchEventsPerEnvelope)/elapsed.Seconds(), "events/s")
}

// BenchmarkImport measures 'lrs import' of an Open edX tracking log into
// PostgreSQL (transform, validate, store in envelopes of 1,000) against
// CopyFrom of the same rows into the same tables. Each op is one log line;
// events/s is reported.
//
//	go test ./web -run '^$' -bench Import -benchtime 50000x
func BenchmarkImport(b *testing.B) {
	seed := uint64(time.Now().UnixNano())
	edxLog := func(n int, seed uint64) *bytes.Buffer {
		g := synth.New(synth.DefaultPopulation, seed)
		var log bytes.Buffer
		for i := 0; i < n; i++ {
			log.Write(g.EdxLine())
			log.WriteByte('\n')
		}
		return &log
	}
	tr, err := edx.New(edx.Config{LMSURL: "https://lms.example.edu", ActorSecret: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("import", func(b *testing.B) {
		bb := setupMax(b, "postgres", 5<<20)
		log := edxLog(b.N, seed)
		im := importer.New(importer.StoreSink{Service: ingest.NewService(bb.db, caliper.NewValidator(caliper.Strict)),
			Source: ingest.Source{TenantID: bb.tenant}}, tr, 1000, nil)
		b.ResetTimer()
		start := time.Now()
		if err := im.ImportReader(context.Background(), "bench.log", bytes.NewReader(log.Bytes())); err != nil {
			b.Fatal(err)
		}
		if err := im.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(im.Stats.Stored)/time.Since(start).Seconds(), "events/s")
		if im.Stats.ErrorCount > 0 {
			b.Fatalf("import errors: %v", im.Stats.Errors)
		}
	})
	b.Run("copyfrom_ceiling", func(b *testing.B) {
		bb := setupMax(b, "postgres", 5<<20)
		log := edxLog(b.N, seed+1) // other ids, the same mix
		// The same events, transformed and prepared before the clock starts.
		svc := ingest.NewService(nil, caliper.NewValidator(caliper.Strict))
		var batches []*ingest.Batch
		var events []map[string]any
		flush := func() {
			if len(events) == 0 {
				return
			}
			env, _ := edx.Envelope(tr.Sensor(), events)
			batch, err := svc.Prepare(ingest.Source{TenantID: bb.tenant}, env)
			if err != nil {
				b.Fatal(err)
			}
			batches = append(batches, batch)
			events = events[:0]
		}
		edx.ScanDocuments(bytes.NewReader(log.Bytes()), func(d edx.Doc) error {
			if d.Kind != edx.DocumentLine {
				return nil
			}
			events = append(events, tr.Transform(d.JSON).Events...)
			if len(events) >= 1000 {
				flush()
			}
			return nil
		})
		flush()
		pool := bb.db.(*store.Postgres).Pool()
		b.ResetTimer()
		start := time.Now()
		n := 0
		for _, batch := range batches {
			if err := copyEnvelope(context.Background(), pool, batch); err != nil {
				b.Fatal(err)
			}
			n += len(batch.Rows.Events)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	})
}
