package store

import (
	"slices"
	"testing"
	"time"
)

// TestNextSketchDays: the sweep takes the oldest days first with all their
// sketches (the whole one and each course's), and keeps every other key.
func TestNextSketchDays(t *testing.T) {
	day := func(n int) time.Time { return time.Date(2026, 1, n, 0, 0, 0, 0, time.UTC) }
	keys := []sketchKey{{day(3), "c2"}, {day(1), ""}, {day(2), "c1"}, {day(3), ""}, {day(1), "c2"}, {day(1), "c1"}, {day(4), "c1"}}
	days, rest := nextSketchDays(keys, 2)
	want := []sketchDay{{day: day(1), whole: true, courses: []string{"c1", "c2"}}, {day: day(2), courses: []string{"c1"}}}
	if len(days) != len(want) {
		t.Fatalf("days %+v, want %+v", days, want)
	}
	for i := range want {
		if !days[i].day.Equal(want[i].day) || days[i].whole != want[i].whole || !slices.Equal(days[i].courses, want[i].courses) {
			t.Errorf("day %d: %+v, want %+v", i, days[i], want[i])
		}
	}
	wantRest := []sketchKey{{day(3), ""}, {day(3), "c2"}, {day(4), "c1"}}
	if !slices.Equal(rest, wantRest) {
		t.Errorf("rest %v, want %v", rest, wantRest)
	}
	if days, rest := nextSketchDays(rest, 4); len(days) != 2 || len(rest) != 0 {
		t.Errorf("the last days: %+v, rest %v", days, rest)
	}
	sk := want[0].sketches(map[string][]string{"": {"a"}, "c1": {"b", "c"}})
	if len(sk) != 3 || sk[sketchKey{day(1), ""}].Estimate() != 3 || sk[sketchKey{day(1), "c1"}].Estimate() != 2 || sk[sketchKey{day(1), "c2"}] != nil {
		t.Errorf("day 1 sketches from actors: %v", sk)
	}
}
