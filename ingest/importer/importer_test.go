package importer

import (
	"testing"

	"github.com/lrs-dev/lrs/ingest/caliper"
)

// TestRefusalsNameTheInput: a problem the sink reports at data[n] of the
// importer's batch is told at the item's file:line, its place in the
// user's envelope or its Open edX event, and the field inside it.
func TestRefusalsNameTheInput(t *testing.T) {
	items := []item{
		{where: "a.json:1", path: "data[7]"},
		{where: "log:12", name: "play_video"},
		{where: "events.ndjson:3"},
	}
	got := refusals([]caliper.Problem{
		{Index: 0, Path: "data[0].actor", Message: "required event property is missing"},
		{Index: 1, Path: "data[1].object.id", Message: "not an IRI"},
		{Index: 1, Path: "data[1].eventTime", Message: "not a date-time"},
		{Index: 2, Path: "data[2]", Message: "not an object"},
		{Index: -1, Path: "sensor", Message: "envelope-level: no item"},
		{Index: 9, Path: "data[9]", Message: "outside the batch"},
	}, items)
	want := map[int]string{
		0: "a.json:1: data[7].actor: required event property is missing",
		1: "log:12: play_video: object.id: not an IRI; log:12: play_video: eventTime: not a date-time",
		2: "events.ndjson:3: not an object",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d refusals %v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("item %d:\n got %q\nwant %q", i, got[i], w)
		}
	}
}
