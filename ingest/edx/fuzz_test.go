package edx

import (
	"os"
	"testing"

	"github.com/lrs-dev/lrs/internal/fixture"
)

// FuzzTransform: no tracking-log line, however odd, makes the transformer
// panic, in either mode; what it maps has an id and a type.
func FuzzTransform(f *testing.F) {
	for _, path := range fixture.Glob(f, "edx/erb-fixtures/raw/*.json") {
		b, _ := os.ReadFile(path)
		f.Add(b)
	}
	for _, l := range oldLines {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"name":"edx.ui.lms.sequence.next_selected","event":{"id":"x"},"context":{"user_id":1},"timestamp":"2024-01-01T00:00:00Z"}`))
	current, _ := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s"})
	compat, _ := New(Config{LMSURL: "https://lms.example.edu", ActorSecret: "s", Compat: true})
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, tr := range []*Transformer{current, compat} {
			res := tr.Transform(line)
			for _, ev := range res.Events {
				if str(ev["id"]) == "" || str(ev["type"]) == "" {
					t.Fatalf("an event without id or type: %v", ev)
				}
			}
			if res.Outcome == Invalid && res.Err == nil {
				t.Fatal("invalid without a reason")
			}
		}
	})
}
