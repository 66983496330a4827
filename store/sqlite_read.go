package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

const sqliteEventColumns = `
    e.seq, e.id, e.envelope_id, e.type, e.action,
    coalesce(e.actor_id, ''), coalesce(e.object_id, ''), coalesce(e.object_type, ''),
    coalesce(e.group_id, ''), coalesce(e.session_id, ''), coalesce(e.edapp_id, ''),
    coalesce(e.profile, ''), e.event_time, e.stored_at, e.data`

func scanSQLiteEvent(scan func(...any) error, ev *StoredEvent, envelopeID func(int64) string) error {
	var (
		id             []byte
		env            int64
		evTime, stored int64
		data           []byte
	)
	if err := scan(&ev.Seq, &id, &env, &ev.Type, &ev.Action, &ev.ActorID, &ev.ObjectID, &ev.ObjectType,
		&ev.GroupID, &ev.SessionID, &ev.EdAppID, &ev.Profile, &evTime, &stored, &data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	}
	ev.Tx = 0
	ev.ID = uuid.UUID(id)
	ev.EnvelopeID = envelopeID(env)
	ev.EventTime, ev.StoredAt = fromMicros(evTime), fromMicros(stored)
	ev.Data = data
	return nil
}

// ListEvents pages in stored order (seq: one writer at a time makes insert
// order commit order, so no late commit can land behind a cursor).
func (s *SQLite) ListEvents(ctx context.Context, f EventFilter, after *Position, ascending bool, limit int) ([]StoredEvent, error) {
	c := filterConditions(f, sqliteDialect)
	order, cmp := "e.seq DESC", "<"
	if ascending {
		order, cmp = "e.seq", ">"
	}
	if after != nil {
		c.add("e.seq " + cmp + " " + c.arg(after.Seq))
	}
	envID, err := s.ids.encoder(ctx, f.TenantID)
	if err != nil {
		return nil, translateSQLite(err)
	}
	q := "SELECT" + sqliteEventColumns + "\nFROM events e\nWHERE " + c.sql() + "\nORDER BY " + order + "\nLIMIT " + c.arg(limit)
	rows, err := s.r.QueryContext(ctx, q, c.args...)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("list events: %w", err))
	}
	defer rows.Close()
	events := make([]StoredEvent, 0, limit)
	for rows.Next() {
		var ev StoredEvent
		if err := scanSQLiteEvent(rows.Scan, &ev, envID); err != nil {
			return nil, translateSQLite(fmt.Errorf("list events: %w", err))
		}
		events = append(events, ev)
	}
	return events, translateSQLite(rows.Err())
}

// ExportEvents streams matching events in stored order from one read
// transaction; with dataOnly, only Data is filled.
func (s *SQLite) ExportEvents(ctx context.Context, f EventFilter, dataOnly bool, fn func(*StoredEvent) error) error {
	c := filterConditions(f, sqliteDialect)
	cols := sqliteEventColumns
	if dataOnly {
		cols = " e.data"
	}
	envID, err := s.ids.encoder(ctx, f.TenantID)
	if err != nil {
		return translateSQLite(err)
	}
	rows, err := s.r.QueryContext(ctx, "SELECT"+cols+"\nFROM events e\nWHERE "+c.sql()+"\nORDER BY e.seq", c.args...)
	if err != nil {
		return translateSQLite(fmt.Errorf("export events: %w", err))
	}
	defer rows.Close()
	scan := func(ev *StoredEvent) error { return scanSQLiteEvent(rows.Scan, ev, envID) }
	if dataOnly {
		scan = func(ev *StoredEvent) error { return rows.Scan(&ev.Data) }
	}
	return eachEvent(rows, scan, fn, translateSQLite)
}

// EventByID returns one of the tenant's events, or ErrNotFound.
func (s *SQLite) EventByID(ctx context.Context, tenantID int64, id uuid.UUID) (StoredEvent, error) {
	envID, err := s.ids.encoder(ctx, tenantID)
	if err != nil {
		return StoredEvent{}, translateSQLite(err)
	}
	var ev StoredEvent
	row := s.r.QueryRowContext(ctx, "SELECT"+sqliteEventColumns+"\nFROM events e\nWHERE e.tenant_id = ? AND e.id = ?", tenantID, id[:])
	if err := scanSQLiteEvent(row.Scan, &ev, envID); err != nil {
		return StoredEvent{}, translateSQLite(fmt.Errorf("event %s: %w", id, err))
	}
	return ev, nil
}

// EntityByID returns the latest description of an entity, or ErrNotFound.
func (s *SQLite) EntityByID(ctx context.Context, tenantID int64, id string) (json.RawMessage, error) {
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT data FROM entities WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&data)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("entity %s: %w", id, err))
	}
	return data, nil
}

// EnvelopeByID rebuilds an envelope as it was received, or returns ErrNotFound.
func (s *SQLite) EnvelopeByID(ctx context.Context, tenantID int64, publicID string) (json.RawMessage, error) {
	id, err := s.ids.decode(ctx, tenantID, publicID)
	if err != nil {
		return nil, fmt.Errorf("envelope %s: %w", publicID, translateSQLite(err))
	}
	var skel []byte
	err = s.r.QueryRowContext(ctx, `SELECT skeleton FROM envelopes WHERE tenant_id = ? AND id = ? AND skeleton IS NOT NULL`,
		tenantID, id).Scan(&skel)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("envelope %d: %w", id, err))
	}
	env, refs, err := parseSkeleton(skel)
	if err != nil {
		return nil, fmt.Errorf("envelope %d: %w", id, err)
	}
	found := map[uuid.UUID]bool{}
	for eid, positions := range refs {
		var data []byte
		err := s.r.QueryRowContext(ctx, `SELECT data FROM events WHERE tenant_id = ? AND id = ?`, tenantID, eid[:]).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			continue // erased or expired since
		}
		if err != nil {
			return nil, translateSQLite(fmt.Errorf("envelope %d: event %s: %w", id, eid, err))
		}
		found[eid] = true
		for _, i := range positions {
			env.Data[i] = data
		}
	}
	env.dropUnfilled(refs, found)
	out, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("envelope %d: %w", id, err)
	}
	return out, nil
}

// TableCounts returns how many envelopes, events and entities are stored (all tenants).
func (s *SQLite) TableCounts(ctx context.Context) (TableCounts, error) {
	var c TableCounts
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM envelopes), (SELECT count(*) FROM events), (SELECT count(*) FROM entities)`).
		Scan(&c.Envelopes, &c.Events, &c.Entities)
	return c, translateSQLite(err)
}
