package store

import (
	"slices"
	"sync"
	"time"

	"github.com/lrs-dev/lrs/ingest/caliper"
)

// The live stream (query.Hub) reads what every tenant with subscribers
// stored since its position, in one statement per wake-up (StreamEvents),
// and filters the rows in memory for each subscriber (EventFilter.Match).
// It reads up to the same horizon as ascending sync, so a transaction that
// commits late is never passed. Wake-ups come from WatchCommits.

// TenantAfter is a tenant's place in stored order: what the stream has read.
type TenantAfter struct {
	TenantID int64
	After    Position
}

// LiveEvent is a stored event with what filtering it in memory needs beyond
// the event: its tenant and the sensor of its envelope. EnvelopeID is not
// filled.
type LiveEvent struct {
	StoredEvent
	TenantID int64
	Sensor   string
}

// After reports whether p comes after q in stored order.
func (p Position) After(q Position) bool {
	return p.Tx > q.Tx || (p.Tx == q.Tx && p.Seq > q.Seq)
}

// Match reports whether ev is one of the events f selects: what the SQL of
// filterConditions selects, computed in Go. doc is ev.Data decoded by
// caliper.DecodeJSON, needed only when f has Contains (decode lazily: nil
// is decoded on demand).
func (f *EventFilter) Match(ev *LiveEvent, doc func() any) bool {
	if ev.TenantID != f.TenantID {
		return false
	}
	for _, c := range []struct {
		values []string
		v      string
	}{
		{f.Actors, ev.ActorID}, {f.Actions, ev.Action}, {f.Types, ev.Type}, {f.Objects, ev.ObjectID},
		{f.ObjectTypes, ev.ObjectType}, {f.Courses, ev.GroupID}, {f.Sessions, ev.SessionID},
		{f.EdApps, ev.EdAppID}, {f.Profiles, ev.Profile}, {f.Sensors, ev.Sensor},
	} {
		// An empty column is NULL in the table: no value matches it.
		if len(c.values) > 0 && (c.v == "" || !slices.Contains(c.values, c.v)) {
			return false
		}
	}
	if f.Since != nil && ev.EventTime.Before(storedTime(*f.Since)) {
		return false
	}
	if f.Until != nil && !ev.EventTime.Before(storedTime(*f.Until)) {
		return false
	}
	if f.StoredSince != nil && ev.StoredAt.Before(storedTime(*f.StoredSince)) {
		return false
	}
	if len(f.Contains) > 0 {
		d := doc()
		if d == nil {
			return false
		}
		for _, p := range f.Contains {
			pat, err := caliper.DecodeJSON(p)
			if err == nil && caliper.ContainsJSON(d, pat) {
				return true
			}
		}
		return false
	}
	return true
}

// storedTime is t as both stores compare it: whole microseconds, rounded
// down (pgx and UnixMicro both floor).
func storedTime(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()) }

// commitSignal calls its watchers after each commit of the embedded store,
// whose writers are all in this process.
type commitSignal struct {
	mu    sync.Mutex
	next  int
	funcs map[int]func()
}

func (c *commitSignal) watch(fn func()) (stop func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.funcs == nil {
		c.funcs = map[int]func(){}
	}
	id := c.next
	c.next++
	c.funcs[id] = fn
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.funcs, id)
	}
}

func (c *commitSignal) committed() {
	c.mu.Lock()
	fns := make([]func(), 0, len(c.funcs))
	for _, fn := range c.funcs {
		fns = append(fns, fn)
	}
	c.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}
