package store

import (
	"encoding/json"
	"fmt"
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

// remainingSketches encodes keys after the first n.
func remainingSketches(keys []sketchKey, n int) string {
	rest := map[sketchKey]bool{}
	for _, k := range keys[min(n, len(keys)):] {
		rest[k] = true
	}
	return encodeSketches(rest)
}
