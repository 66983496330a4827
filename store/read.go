package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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

const eventColumns = `
    e.tx::text,
    e.seq,
    e.id,
    e.envelope_id,
    e.type,
    e.action,
    coalesce(e.actor_id, ''),
    coalesce(e.object_id, ''),
    coalesce(e.object_type, ''),
    coalesce(e.group_id, ''),
    coalesce(e.session_id, ''),
    coalesce(e.edapp_id, ''),
    coalesce(e.profile, ''),
    e.event_time,
    e.stored_at,
    e.data`

// scanEvent reads a row of eventColumns. data is scanned as bytes: into a
// json.RawMessage pgx would re-validate the JSON PostgreSQL just produced,
// which doubled the cost of an export.
func scanEvent(row pgx.Row, ev *StoredEvent, envelopeID func(int64) string) error {
	var (
		tx  string
		env int64
	)
	if err := row.Scan(&tx, &ev.Seq, &ev.ID, &env, &ev.Type, &ev.Action, &ev.ActorID, &ev.ObjectID,
		&ev.ObjectType, &ev.GroupID, &ev.SessionID, &ev.EdAppID, &ev.Profile, &ev.EventTime, &ev.StoredAt, &ev.Data); err != nil {
		return translate(err)
	}
	ev.EnvelopeID = envelopeID(env)
	var err error
	ev.Tx, err = strconv.ParseUint(tx, 10, 64)
	return err
}

// conditions accumulates a WHERE clause and its arguments, in PostgreSQL's
// or SQLite's dialect; values never become SQL text.
type conditions struct {
	sqlite bool
	where  []string
	args   []any
}

func (c *conditions) arg(v any) string {
	c.args = append(c.args, v)
	if c.sqlite {
		return "?"
	}
	return "$" + strconv.Itoa(len(c.args))
}

func (c *conditions) add(sql string) { c.where = append(c.where, sql) }

func (c *conditions) anyOf(column string, values []string) {
	switch {
	case len(values) == 0:
	case len(values) == 1:
		c.add(column + " = " + c.arg(values[0]))
	case c.sqlite:
		ph := make([]string, len(values))
		for i, v := range values {
			ph[i] = c.arg(v)
		}
		c.add(column + " IN (" + strings.Join(ph, ", ") + ")")
	default:
		c.add(column + " = ANY(" + c.arg(values) + "::text[])")
	}
}

func (c *conditions) time(t time.Time) string {
	if c.sqlite {
		return c.arg(t.UnixMicro())
	}
	return c.arg(t)
}

func (c *conditions) sql() string { return strings.Join(c.where, "\n  AND ") }

func filterConditions(f EventFilter, sqlite bool) *conditions {
	c := &conditions{sqlite: sqlite}
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
		sub := &conditions{sqlite: sqlite, args: c.args}
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
			if sqlite {
				alts = append(alts, "lrs_json_contains(e.data, "+c.arg(string(doc))+")")
			} else {
				alts = append(alts, "e.data @> "+c.arg(string(doc))+"::jsonb")
			}
		}
		c.add("(" + strings.Join(alts, " OR ") + ")")
	}
	return c
}

// ListEvents returns up to limit events matching f in stored order, after
// (exclusive) the given position if any, ascending or descending.
//
// Ascending pages stop short of transactions that may still commit: only rows
// stored by transactions older than the oldest one running are returned, so a
// reader that pages on with the last position never misses a late commit.
func (s *Postgres) ListEvents(ctx context.Context, f EventFilter, after *Position, ascending bool, limit int) ([]StoredEvent, error) {
	c := filterConditions(f, false)
	order := "e.tx DESC, e.seq DESC"
	cmp := "<"
	if ascending {
		order, cmp = "e.tx, e.seq", ">"
		c.add("e.tx < pg_snapshot_xmin(pg_current_snapshot())")
	}
	if after != nil {
		c.add("(e.tx, e.seq) " + cmp + " (" + c.arg(strconv.FormatUint(after.Tx, 10)) + "::text::xid8, " + c.arg(after.Seq) + ")")
	}
	envID, err := s.ids.encoder(ctx, f.TenantID)
	if err != nil {
		return nil, translate(err)
	}
	sql := "SELECT" + eventColumns + "\nFROM events e\nWHERE " + c.sql() + "\nORDER BY " + order + "\nLIMIT " + c.arg(limit)
	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return nil, translate(fmt.Errorf("list events: %w", err))
	}
	defer rows.Close()
	events := make([]StoredEvent, 0, limit)
	for rows.Next() {
		var ev StoredEvent
		if err := scanEvent(rows, &ev, envID); err != nil {
			return nil, translate(fmt.Errorf("list events: %w", err))
		}
		events = append(events, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(fmt.Errorf("list events: %w", err))
	}
	return events, nil
}

// ExportEvents streams every event matching f to fn, one row at a time:
// memory stays constant whatever the count. It reads one consistent snapshot
// in the table's physical order, which is close to stored order: sorting a
// large export would cost more than the export (and spill to disk), and a
// client that needs exact stored order pages /api/v1/events instead. An error
// from fn stops the export and is returned. With dataOnly, only Data is
// filled: an NDJSON export needs nothing else, and reading the other columns
// doubled the CPU an export costs.
func (s *Postgres) ExportEvents(ctx context.Context, f EventFilter, dataOnly bool, fn func(*StoredEvent) error) error {
	c := filterConditions(f, false)
	cols := eventColumns
	if dataOnly {
		cols = " e.data"
	}
	envID, err := s.ids.encoder(ctx, f.TenantID)
	if err != nil {
		return translate(err)
	}
	rows, err := s.pool.Query(ctx, "SELECT"+cols+"\nFROM events e\nWHERE "+c.sql(), c.args...)
	if err != nil {
		return translate(fmt.Errorf("export events: %w", err))
	}
	defer rows.Close()
	scan := func(ev *StoredEvent) error { return scanEvent(rows, ev, envID) }
	if dataOnly {
		scan = func(ev *StoredEvent) error { return rows.Scan(&ev.Data) }
	}
	return eachEvent(rows, scan, fn, translate)
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

// EventByID returns one of the tenant's events, or ErrNotFound.
func (s *Postgres) EventByID(ctx context.Context, tenantID int64, id uuid.UUID) (StoredEvent, error) {
	envID, err := s.ids.encoder(ctx, tenantID)
	if err != nil {
		return StoredEvent{}, translate(err)
	}
	var ev StoredEvent
	err = scanEvent(s.pool.QueryRow(ctx, "SELECT"+eventColumns+"\nFROM events e\nWHERE e.tenant_id = $1 AND e.id = $2", tenantID, id), &ev, envID)
	if err != nil {
		return StoredEvent{}, translate(fmt.Errorf("event %s: %w", id, err))
	}
	return ev, nil
}

// EntityByID returns the latest description of one of the tenant's entities, or ErrNotFound.
func (s *Postgres) EntityByID(ctx context.Context, tenantID int64, id string) (json.RawMessage, error) {
	var data json.RawMessage
	err := s.pool.QueryRow(ctx, `SELECT data FROM entities WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&data)
	if err != nil {
		return nil, fmt.Errorf("entity %s: %w", id, translate(err))
	}
	return data, nil
}

// EnvelopeByID rebuilds one of the tenant's envelopes as it was received,
// or returns ErrNotFound.
func (s *Postgres) EnvelopeByID(ctx context.Context, tenantID int64, publicID string) (json.RawMessage, error) {
	id, err := s.ids.decode(ctx, tenantID, publicID)
	if err != nil {
		return nil, fmt.Errorf("envelope %s: %w", publicID, translate(err))
	}
	var skel []byte
	err = s.pool.QueryRow(ctx, `SELECT skeleton FROM envelopes WHERE tenant_id = $1 AND id = $2 AND skeleton IS NOT NULL`,
		tenantID, id).Scan(&skel)
	if err != nil {
		return nil, fmt.Errorf("envelope %d: %w", id, translate(err))
	}
	env, refs, err := parseSkeleton(skel)
	if err != nil {
		return nil, fmt.Errorf("envelope %d: %w", id, err)
	}
	if len(refs) > 0 {
		ids := make([]uuid.UUID, 0, len(refs))
		for id := range refs {
			ids = append(ids, id)
		}
		rows, err := s.pool.Query(ctx, `SELECT id, data FROM events WHERE tenant_id = $1 AND id = ANY($2)`, tenantID, ids)
		if err != nil {
			return nil, translate(fmt.Errorf("envelope %d: %w", id, err))
		}
		var (
			eid  uuid.UUID
			data json.RawMessage
		)
		if _, err := pgx.ForEachRow(rows, []any{&eid, &data}, func() error {
			for _, i := range refs[eid] {
				env.Data[i] = append(json.RawMessage(nil), data...)
			}
			return nil
		}); err != nil {
			return nil, translate(fmt.Errorf("envelope %d: %w", id, err))
		}
	}
	out, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("envelope %d: %w", id, err)
	}
	return out, nil
}

type skeletonDoc struct {
	Sensor      string            `json:"sensor"`
	SendTime    string            `json:"sendTime"`
	DataVersion string            `json:"dataVersion"`
	Data        []json.RawMessage `json:"data"`
}

// parseSkeleton returns the envelope and, for each referenced event id, the
// positions in data where it goes.
func parseSkeleton(b []byte) (*skeletonDoc, map[uuid.UUID][]int, error) {
	var env skeletonDoc
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, nil, err
	}
	refs := map[uuid.UUID][]int{}
	for i, item := range env.Data {
		var ref struct {
			Event uuid.UUID `json:"$event"`
		}
		if len(item) > 0 && item[0] == '{' && json.Unmarshal(item, &ref) == nil && ref.Event != uuid.Nil {
			refs[ref.Event] = append(refs[ref.Event], i)
		}
	}
	return &env, refs, nil
}

// StatDimensions are the keys events can be counted by, with their SQL.
var StatDimensions = map[string]string{
	"action": "e.action",
	"type":   "e.type",
	"object": "e.object_id",
	"actor":  "e.actor_id",
	"course": "e.group_id",
	"day":    "to_char(e.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
	"hour":   "to_char(e.event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:00:00\"Z\"')",
}

// statsQuery builds the grouped count for the dimensions by, in the dialect
// whose expressions dims gives: largest groups first (ties by key), or
// chronological when a dimension is a time.
func statsQuery(c *conditions, dims map[string]string, by []string, limit int) (string, error) {
	var exprs, groups []string
	chronological := false
	for i, d := range by {
		expr, ok := dims[d]
		if !ok {
			return "", fmt.Errorf("stats: unknown dimension %q", d)
		}
		exprs = append(exprs, expr)
		groups = append(groups, strconv.Itoa(i+1))
		chronological = chronological || d == "day" || d == "hour"
	}
	order := "count(*) DESC, " + strings.Join(groups, ", ")
	if chronological {
		order = strings.Join(groups, ", ")
	}
	return "SELECT " + strings.Join(exprs, ", ") + ", count(*)\nFROM events e\nWHERE " + c.sql() +
		"\nGROUP BY " + strings.Join(groups, ", ") + "\nORDER BY " + order + "\nLIMIT " + c.arg(limit), nil
}

// StatRow is one group of Stats: its keys, in the order asked, and its count.
type StatRow struct {
	Keys  []*string
	Count int64
}

// Stats counts the events matching f grouped by one or two StatDimensions,
// largest groups first (ties by key), at most limit groups. Time dimensions
// sort chronologically instead.
func (s *Postgres) Stats(ctx context.Context, f EventFilter, by []string, limit int) ([]StatRow, error) {
	c := filterConditions(f, false)
	sql, err := statsQuery(c, StatDimensions, by, limit)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, sql, c.args...)
	if err != nil {
		return nil, translate(fmt.Errorf("stats: %w", err))
	}
	defer rows.Close()
	out, err := scanStats(rows, len(by))
	return out, translate(err)
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
