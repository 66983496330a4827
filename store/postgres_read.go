package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

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

// ListEvents returns up to limit events matching f in stored order, after
// (exclusive) the given position if any, ascending or descending.
//
// Ascending pages stop short of transactions that may still commit: only rows
// stored by transactions older than the oldest one running are returned, so a
// reader that pages on with the last position never misses a late commit.
func (s *Postgres) ListEvents(ctx context.Context, f EventFilter, after *Position, ascending bool, limit int) ([]StoredEvent, error) {
	c := filterConditions(f, postgres)
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
	c := filterConditions(f, postgres)
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
		found := map[uuid.UUID]bool{}
		if _, err := pgx.ForEachRow(rows, []any{&eid, &data}, func() error {
			found[eid] = true
			for _, i := range refs[eid] {
				env.Data[i] = append(json.RawMessage(nil), data...)
			}
			return nil
		}); err != nil {
			return nil, translate(fmt.Errorf("envelope %d: %w", id, err))
		}
		env.dropUnfilled(refs, found) // erased or expired since
	}
	out, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("envelope %d: %w", id, err)
	}
	return out, nil
}

// TableCounts returns how many envelopes, events and entities are stored (all tenants).
func (s *Postgres) TableCounts(ctx context.Context) (TableCounts, error) {
	var c TableCounts
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM envelopes), (SELECT count(*) FROM events), (SELECT count(*) FROM entities)`).
		Scan(&c.Envelopes, &c.Events, &c.Entities)
	if err != nil {
		return c, translate(fmt.Errorf("table counts: %w", err))
	}
	return c, nil
}
