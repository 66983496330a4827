package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lrs-dev/lrs/store/storetest"
)

// TestBenchQuery loads a small dataset through each store's own bulk path
// (COPY on PostgreSQL, SaveEnvelope on SQLite) and prints the full report.
func TestBenchQuery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, kind string) {
		var out, errs bytes.Buffer
		args := []string{"bench", "query", "--database-url", storetest.URL(t, kind), "--events", "600",
			"--courses", "3", "--samples", "20"} // more lookups than this small store has loader batches: once a 404
		if err := run(context.Background(), args, env(nil), &out, &errs); err != nil {
			t.Fatalf("%v\n%s", err, errs.String())
		}
		for _, want := range []string{"loaded 600 events", "bytes/event", "export (all events, NDJSON): 600 events",
			"roll-up worker: 600 events added", "| /api/v1/stats?by=action | rollup |", "all equal", "largest error"} {
			if !strings.Contains(out.String()+errs.String(), want) {
				t.Errorf("no %q in:\n%s\n%s", want, out.String(), errs.String())
			}
		}
		if strings.Contains(out.String(), "differs") {
			t.Errorf("roll-ups differ from the scan:\n%s", out.String())
		}
	})
}
