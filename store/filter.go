package store

import (
	"fmt"
	"strings"
	"time"
)

// EventFilter selects a tenant's events. Within a field, values are
// alternatives (OR); fields combine with AND. Empty lists and nil times do
// not filter.
type EventFilter struct {
	TenantID    int64
	Actors      []string
	Actions     []string
	Types       []string
	Objects     []string
	ObjectTypes []string
	Courses     []string // the event's group
	Sessions    []string
	EdApps      []string
	Profiles    []string
	Sensors     []string   // the sensor of the envelope the event came in
	Since       *time.Time // eventTime >= Since; nil: no bound
	Until       *time.Time // eventTime < Until; nil: no bound
	StoredSince *time.Time // stored_at >= StoredSince; nil: no bound
	Contains    [][]byte   // JSON documents the event must contain (jsonb @>)
}

// Position is a place in stored order: the storing transaction, then the row's sequence.
type Position struct {
	Tx  uint64
	Seq int64
}

// StoredEvent is an event as the read API returns it: the stored row and
// where and when it was stored.
type StoredEvent struct {
	Event
	Position
	EnvelopeID string // the opaque id GET /api/v1/envelopes/{id} takes
	StoredAt   time.Time
}

// conditions accumulates a WHERE clause and its arguments in one dialect;
// values never become SQL text.
type conditions struct {
	d     dialect
	where []string
	args  []any
}

func (c *conditions) arg(v any) string {
	c.args = append(c.args, v)
	return c.d.placeholder(len(c.args))
}

func (c *conditions) add(sql string) { c.where = append(c.where, sql) }

func (c *conditions) anyOf(column string, values []string) {
	switch {
	case len(values) == 0:
	case len(values) == 1:
		c.add(column + " = " + c.arg(values[0]))
	case c.d.arrays:
		c.add(column + " = ANY(" + c.arg(values) + "::text[])")
	default:
		ph := make([]string, len(values))
		for i, v := range values {
			ph[i] = c.arg(v)
		}
		c.add(column + " IN (" + strings.Join(ph, ", ") + ")")
	}
}

func (c *conditions) time(t time.Time) string { return c.arg(c.d.timeValue(t)) }

func (c *conditions) sql() string { return strings.Join(c.where, "\n  AND ") }

// filterConditions is the WHERE clause of f in dialect d.
func filterConditions(f EventFilter, d dialect) *conditions {
	c := &conditions{d: d}
	c.filter(f)
	return c
}

// filter adds the conditions of f.
func (c *conditions) filter(f EventFilter) {
	d := c.d
	c.add("e.tenant_id = " + c.arg(f.TenantID))
	c.anyOf("e.actor_id", f.Actors)
	c.anyOf("e.action", f.Actions)
	c.anyOf("e.type", f.Types)
	c.anyOf("e.object_id", f.Objects)
	c.anyOf("e.object_type", f.ObjectTypes)
	c.anyOf("e.group_id", f.Courses)
	c.anyOf("e.session_id", f.Sessions)
	c.anyOf("e.edapp_id", f.EdApps)
	c.anyOf("e.profile", f.Profiles)
	if len(f.Sensors) > 0 {
		sub := &conditions{d: d, args: c.args}
		sub.add("v.tenant_id = " + sub.arg(f.TenantID))
		sub.anyOf("v.sensor", f.Sensors)
		c.args = sub.args
		c.add("e.envelope_id IN (SELECT v.id FROM envelopes v WHERE " + sub.sql() + ")")
	}
	if f.Since != nil {
		c.add("e.event_time >= " + c.time(*f.Since))
	}
	if f.Until != nil {
		c.add("e.event_time < " + c.time(*f.Until))
	}
	if f.StoredSince != nil {
		c.add("e.stored_at >= " + c.time(*f.StoredSince))
	}
	if len(f.Contains) > 0 {
		var alts []string
		for _, doc := range f.Contains {
			alts = append(alts, fmt.Sprintf(d.contains, c.arg(string(doc))))
		}
		c.add("(" + strings.Join(alts, " OR ") + ")")
	}
}

// eachEvent scans every row into one reused StoredEvent and hands it to fn.
// Database errors go through the backend's translate; fn's pass unchanged
// (a client that stopped reading is no database failure).
func eachEvent(rows interface {
	Next() bool
	Err() error
}, scan func(*StoredEvent) error, fn func(*StoredEvent) error, translate func(error) error) error {
	var ev StoredEvent
	for rows.Next() {
		if err := scan(&ev); err != nil {
			return translate(fmt.Errorf("export events: %w", err))
		}
		if err := fn(&ev); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return translate(fmt.Errorf("export events: %w", err))
	}
	return nil
}

// StatRow is one group of Stats: its keys, in the order asked, and its count.
type StatRow struct {
	Keys  []*string
	Count int64
}

// scanStats reads the rows of a statsQuery with n key columns; a NULL key
// stays nil. It serves both stores' row types.
func scanStats(rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}, n int) ([]StatRow, error) {
	var out []StatRow
	for rows.Next() {
		r := StatRow{Keys: make([]*string, n)}
		dest := make([]any, 0, n+1)
		for i := range r.Keys {
			dest = append(dest, &r.Keys[i])
		}
		dest = append(dest, &r.Count)
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return out, nil
}
