package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/lrs-dev/lrs/internal/hll"
)

// erasedRollup is what the erasure changes in a tenant's roll-ups: counts
// to subtract (events up to the worker's position only: the ones after it
// were never added) and the actor sketches to rebuild.
type erasedRollup struct {
	hourly, daily map[countKey]int64
	sketches      map[sketchKey]bool
}

func newErasedRollup() *erasedRollup {
	return &erasedRollup{hourly: map[countKey]int64{}, daily: map[countKey]int64{}, sketches: map[sketchKey]bool{}}
}

// deleted notes a deleted event that the roll-ups hold.
func (r *erasedRollup) deleted(e rollupEvent) {
	hour, day := e.time.UTC().Truncate(time.Hour), utcDay(e.time)
	r.hourly[countKey{hour, e.action, e.typ, e.profile}]++
	r.daily[countKey{day, e.action, e.typ, e.profile}]++
	if e.actor != "" {
		r.sketches[sketchKey{day, ""}] = true
		if e.course != "" {
			r.sketches[sketchKey{day, e.course}] = true
		}
	}
}

// recoursed notes a rolled-up event whose course was the erased IRI: its
// day's sketch moves from that course to ErasedIRI.
func (r *erasedRollup) recoursed(at time.Time, iri string) {
	r.sketches[sketchKey{utcDay(at), iri}] = true
	r.sketches[sketchKey{utcDay(at), ErasedIRI}] = true
}

// sketchOf builds a sketch of actors; nil when there are none.
func sketchOf(actors []string) *hll.Sketch {
	if len(actors) == 0 {
		return nil
	}
	sk := new(hll.Sketch)
	for _, a := range actors {
		sk.Add(a)
	}
	return sk
}

// sketchRef is a sketch to rebuild as the sweep row keeps it.
type sketchRef struct {
	Day    time.Time `json:"day"`
	Course string    `json:"course"`
}

// encodeSketches is the sweep row's list of the sketches to rebuild.
func encodeSketches(keys map[sketchKey]bool) string {
	refs := make([]sketchRef, 0, len(keys))
	for k := range keys {
		refs = append(refs, sketchRef{k.bucket, k.course})
	}
	b, _ := json.Marshal(refs) // of times and strings: cannot fail
	return string(b)
}

// decodeSketches reads a sweep row's list back.
func decodeSketches(text []byte) ([]sketchKey, error) {
	var refs []sketchRef
	if err := json.Unmarshal(text, &refs); err != nil {
		return nil, fmt.Errorf("sweep sketches: %w", err)
	}
	keys := make([]sketchKey, len(refs))
	for i, r := range refs {
		keys[i] = sketchKey{r.Day.UTC(), r.Course}
	}
	return keys, nil
}

// sketchDay is one day's actor sketches to rebuild: the tenant's whole one
// and some courses'. The sweep rebuilds a day's sketches from one read of
// its distinct (course, actor) pairs, however many courses it names (one
// query per sketch read the day's events once for each of them).
type sketchDay struct {
	day     time.Time
	whole   bool
	courses []string
}

// nextSketchDays splits keys into the oldest n days to rebuild now and the
// keys of the rest.
func nextSketchDays(keys []sketchKey, n int) ([]sketchDay, []sketchKey) {
	byDay := map[time.Time]*sketchDay{}
	for _, k := range keys {
		d := byDay[k.bucket]
		if d == nil {
			d = &sketchDay{day: k.bucket}
			byDay[k.bucket] = d
		}
		if k.course == "" {
			d.whole = true
		} else {
			d.courses = append(d.courses, k.course)
		}
	}
	days := make([]sketchDay, 0, len(byDay))
	for _, d := range byDay {
		slices.Sort(d.courses)
		days = append(days, *d)
	}
	slices.SortFunc(days, func(a, b sketchDay) int { return a.day.Compare(b.day) })
	n = min(n, len(days))
	var rest []sketchKey
	for _, d := range days[n:] {
		rest = append(rest, d.keys()...)
	}
	return days[:n], rest
}

// keys lists the day's sketches.
func (d sketchDay) keys() []sketchKey {
	var out []sketchKey
	if d.whole {
		out = append(out, sketchKey{d.day, ""})
	}
	for _, c := range d.courses {
		out = append(out, sketchKey{d.day, c})
	}
	return out
}

// sketches builds the day's sketches from its actors by course ("" for
// events without one); nil for a sketch left without actors.
func (d sketchDay) sketches(actorsByCourse map[string][]string) map[sketchKey]*hll.Sketch {
	out := map[sketchKey]*hll.Sketch{}
	if d.whole {
		var all []string
		for _, actors := range actorsByCourse {
			all = append(all, actors...)
		}
		out[sketchKey{d.day, ""}] = sketchOf(all)
	}
	for _, c := range d.courses {
		out[sketchKey{d.day, c}] = sketchOf(actorsByCourse[c])
	}
	return out
}

// encodeSketchKeys is the sweep row's list of keys.
func encodeSketchKeys(keys []sketchKey) string {
	set := make(map[sketchKey]bool, len(keys))
	for _, k := range keys {
		set[k] = true
	}
	return encodeSketches(set)
}
