package edx_test

import (
	"encoding/json"
	"testing"

	"github.com/lrs-dev/lrs/ingest/edx"
	"github.com/lrs-dev/lrs/ingest/synth"
)

// BenchmarkTransform compares, on the same synthetic tracking-log lines,
// plain encoding/json decoding and re-encoding of each line (the ceiling)
// with what 'lrs transform' does per line: transform and encode the Caliper
// event. Run on one core:
//
//	go test ./ingest/edx -run '^$' -bench Transform -cpu 1
func BenchmarkTransform(b *testing.B) {
	g := synth.New(synth.DefaultPopulation, 3)
	lines := make([][]byte, 4096)
	size := 0
	for i := range lines {
		lines[i] = g.EdxLine()
		size += len(lines[i])
	}
	report := func(b *testing.B) {
		b.SetBytes(int64(size / len(lines)))
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	}
	b.Run("json_decode_encode", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			var v any
			if err := json.Unmarshal(lines[i%len(lines)], &v); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("transform", func(b *testing.B) {
		tr, err := edx.New(edx.Config{LMSURL: "https://lms.example.edu", ActorSecret: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		events := 0
		for i := 0; b.Loop(); i++ {
			res := tr.Transform(lines[i%len(lines)])
			for _, ev := range res.Events {
				if _, err := json.Marshal(ev); err != nil {
					b.Fatal(err)
				}
				events++
			}
		}
		report(b)
		b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	})
}
