package synth_test

import (
	"testing"

	"github.com/lrs-dev/lrs/ingest"
	"github.com/lrs-dev/lrs/ingest/caliper"
	"github.com/lrs-dev/lrs/ingest/synth"
)

func TestEnvelopesAreValid(t *testing.T) {
	g := synth.New(synth.DefaultPopulation, 1)
	svc := ingest.NewService(nil, caliper.NewValidator(caliper.Strict))
	for i := 0; i < 20; i++ {
		b, err := svc.Prepare(ingest.Source{}, g.Envelope(100))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(b.Rows.Events); n != 100 {
			t.Fatalf("%d events, want 100", n)
		}
	}
}
