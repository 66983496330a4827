package ingest_test

import (
	"encoding/json"
	"testing"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/synth"
)

// BenchmarkValidation compares, on the same envelopes of 100 realistic events:
// plain encoding/json decoding into a generic tree (the ceiling), lrs's
// envelope decoding alone, and decoding plus strict validation plus building
// the rows to store. Run on one core:
//
//	go test ./ingest -run '^$' -bench Validation -cpu 1
func BenchmarkValidation(b *testing.B) {
	g := synth.New(synth.DefaultPopulation, 7)
	bodies := make([][]byte, 64)
	size := 0
	for i := range bodies {
		bodies[i] = g.Envelope(100)
		size += len(bodies[i])
	}
	report := func(b *testing.B) {
		b.SetBytes(int64(size / len(bodies)))
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("encoding_json", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			var v any
			if err := json.Unmarshal(bodies[i%len(bodies)], &v); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("decode", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := caliper.DecodeEnvelope(bodies[i%len(bodies)]); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	for _, mode := range []caliper.Mode{caliper.Strict, caliper.Lenient} {
		svc := ingest.NewService(nil, caliper.NewValidator(mode))
		b.Run("decode_validate_"+mode.String(), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				if _, err := svc.Prepare(ingest.Source{}, bodies[i%len(bodies)]); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
	}
}
