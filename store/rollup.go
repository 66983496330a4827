package store

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/lrs-dev/lrs/internal/hll"
)

// Roll-ups make tenant-wide stats cheap at any size. A worker (Rollup, run
// in a loop by RunRollups) reads each tenant's events in stored order from
// its position and adds them to:
//   - rollup_hourly and rollup_daily: counts by UTC hour or day of event
//     time × action × type × profile;
//   - rollup_actors: a HyperLogLog sketch of the actors of each UTC day, for
//     the tenant and for each course;
// moving the position in the same transaction, so each event is counted
// exactly once whatever fails or however many nodes run the worker (a
// position changed meanwhile makes the transaction back out). Stats that
// the roll-ups can answer read them up to the position plus a scan of the
// events after it, in one snapshot: exact (sketches: within hll.StdError).

// rollupBatch bounds the events one step reads for one tenant.
const rollupBatch = 20_000

// rollupEvent is what the worker reads of a stored event.
type rollupEvent struct {
	pos                                 Position
	time                                time.Time
	action, typ, profile, course, actor string
}

type countKey struct {
	bucket               time.Time
	action, typ, profile string
}

type sketchKey struct {
	bucket time.Time
	course string // "" for the whole tenant
}

// rollupDelta is what a batch of events adds to a tenant's roll-ups.
type rollupDelta struct {
	hourly, daily map[countKey]int64
	actors        map[sketchKey]*hll.Sketch
	last          Position
}

func newRollupDelta(events []rollupEvent) *rollupDelta {
	d := &rollupDelta{hourly: map[countKey]int64{}, daily: map[countKey]int64{}, actors: map[sketchKey]*hll.Sketch{}}
	for _, e := range events {
		hour, day := e.time.UTC().Truncate(time.Hour), utcDay(e.time)
		d.hourly[countKey{hour, e.action, e.typ, e.profile}]++
		d.daily[countKey{day, e.action, e.typ, e.profile}]++
		if e.actor != "" {
			d.sketch(sketchKey{day, ""}).Add(e.actor)
			if e.course != "" {
				d.sketch(sketchKey{day, e.course}).Add(e.actor)
			}
		}
		d.last = e.pos
	}
	return d
}

func (d *rollupDelta) sketch(k sketchKey) *hll.Sketch {
	s := d.actors[k]
	if s == nil {
		s = new(hll.Sketch)
		d.actors[k] = s
	}
	return s
}

func utcDay(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// RunRollups keeps db's roll-ups up to date until ctx ends: a pass over every
// tenant, again at once while passes find work, else after every.
func RunRollups(ctx context.Context, db interface {
	Rollup(context.Context) (int, error)
}, every time.Duration) {
	wait := every
	for {
		n, err := db.Rollup(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			slog.Warn("roll-up worker", "err", err, "retry", wait)
			wait = min(2*wait, time.Minute)
		case n > 0:
			wait = every
			continue
		default:
			wait = every
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// rollupDims are the stats dimensions the count roll-ups hold.
var rollupDims = []string{"action", "type", "day", "hour"}

// countRollup is the roll-up table that answers q exactly, or "" when only a
// scan can: the filters and dimensions must be ones the table keeps, and
// time bounds must fall on its buckets.
func countRollup(q StatsQuery) string {
	f := q.Filter
	if q.Scan || q.Distinct != "" || !onlyRollupFilters(f, false) {
		return ""
	}
	for _, d := range q.By {
		if !slices.Contains(rollupDims, d) {
			return ""
		}
	}
	if !slices.Contains(q.By, "hour") && aligned(f.Since, 24*time.Hour) && aligned(f.Until, 24*time.Hour) {
		return "rollup_daily"
	}
	if aligned(f.Since, time.Hour) && aligned(f.Until, time.Hour) {
		return "rollup_hourly"
	}
	return ""
}

// actorRollup reports whether the actor sketches answer q: distinct actors
// by day, for the tenant or some courses, between day bounds.
func actorRollup(q StatsQuery) bool {
	return !q.Scan && q.Distinct == DistinctActors && slices.Equal(q.By, []string{"day"}) &&
		onlyRollupFilters(q.Filter, true) && aligned(q.Filter.Since, 24*time.Hour) && aligned(q.Filter.Until, 24*time.Hour)
}

// onlyRollupFilters reports whether f filters on nothing but what roll-ups
// keep: action, type and profile for counts, courses for actor sketches, and
// event time for both.
func onlyRollupFilters(f EventFilter, actors bool) bool {
	if len(f.Actors)+len(f.Objects)+len(f.ObjectTypes)+len(f.Sessions)+len(f.EdApps)+len(f.Sensors)+len(f.Contains) > 0 || f.StoredSince != nil {
		return false
	}
	if actors {
		return len(f.Actions)+len(f.Types)+len(f.Profiles) == 0
	}
	return len(f.Courses) == 0
}

func aligned(t *time.Time, d time.Duration) bool { return t == nil || t.UTC().Truncate(d).Equal(*t) }
