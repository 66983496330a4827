package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/lrs-dev/lrs/ingest/caliper"
)

// sqliteBatch bounds rows per INSERT: SQLite allows 32,766 bound values a statement.
const sqliteBatch = 1000

// SaveEnvelope stores env atomically, as Postgres.SaveEnvelope does. It
// waits its turn first come, first served, and is committed together with the
// envelopes queued beside it (see groupWriter).
func (s *SQLite) SaveEnvelope(ctx context.Context, env *Envelope) (SaveResult, error) {
	return s.group.save(ctx, env)
}

// GroupStats says how many commits have stored how many envelopes.
func (s *SQLite) GroupStats() GroupStats { return s.group.stats() }

func (s *SQLite) saveEnvelope(ctx context.Context, tx *sql.Tx, env *Envelope, envID func(int64) string) (SaveResult, error) {
	var (
		res   SaveResult
		rowID int64
	)
	now := micros(time.Now())
	var keyID any
	if env.APIKeyID != 0 {
		keyID = env.APIKeyID
	}
	if err := s.stmts.queryRow(ctx, tx, insertEnvelope, env.TenantID, env.Sensor, micros(env.SendTime), env.DataVersion, now, keyID, env.ItemCount,
		nullBytes(env.Skeleton)).Scan(&rowID); err != nil {
		return res, fmt.Errorf("insert envelope: %w", err)
	}
	res.EnvelopeID = envID(rowID)

	stored := make(map[uuid.UUID]bool, len(env.Events))
	for start := 0; start < len(env.Events); start += sqliteBatch {
		chunk := env.Events[start:min(start+sqliteBatch, len(env.Events))]
		args := make([]any, 0, len(chunk)*15)
		for _, e := range chunk {
			id := e.ID
			args = append(args, env.TenantID, rowID, id[:], e.Type, e.Action, nullString(e.ActorID),
				nullString(e.ObjectID), nullString(e.ObjectType), nullString(e.GroupID), nullString(e.SessionID),
				nullString(e.EdAppID), nullString(e.Profile), micros(e.EventTime), now, string(e.Data))
		}
		rows, err := s.stmts.query(ctx, tx, insertEventsSQL(len(chunk)), args...)
		if err != nil {
			return res, fmt.Errorf("insert events: %w", err)
		}
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return res, fmt.Errorf("insert events: %w", err)
			}
			stored[uuid.UUID(b)] = true
		}
		if err := rows.Close(); err != nil {
			return res, fmt.Errorf("insert events: %w", err)
		}
	}
	res.EventsStored = len(stored)
	res.Duplicates = len(env.Events) - len(stored)
	if res.Duplicates > 0 {
		if err := s.checkDuplicates(ctx, tx, env, stored); err != nil {
			return SaveResult{}, err
		}
	}

	for start := 0; start < len(env.Entities); start += sqliteBatch {
		chunk := env.Entities[start:min(start+sqliteBatch, len(env.Entities))]
		args := make([]any, 0, len(chunk)*7)
		for _, e := range chunk {
			args = append(args, env.TenantID, rowID, e.ID, nullString(e.Type), now, now, string(e.Data))
		}
		if _, err := s.stmts.exec(ctx, tx, upsertEntitiesSQL(len(chunk)), args...); err != nil {
			return res, fmt.Errorf("upsert entities: %w", err)
		}
	}
	res.Entities = len(env.Entities)
	return res, nil
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// checkDuplicates compares, as JSON, each event that was already stored with
// what was sent; a difference is a *ConflictError.
func (s *SQLite) checkDuplicates(ctx context.Context, tx *sql.Tx, env *Envelope, stored map[uuid.UUID]bool) error {
	sent := map[uuid.UUID][]byte{}
	var args []any
	args = append(args, env.TenantID)
	for _, e := range env.Events {
		if !stored[e.ID] {
			id := e.ID
			sent[e.ID] = e.Data
			args = append(args, id[:])
		}
	}
	var conflicts []uuid.UUID
	for start := 1; start < len(args); start += sqliteBatch {
		chunk := args[start:min(start+sqliteBatch, len(args))]
		q := `SELECT id, data FROM events WHERE tenant_id = ? AND id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		rows, err := tx.QueryContext(ctx, q, append([]any{env.TenantID}, chunk...)...)
		if err != nil {
			return fmt.Errorf("check duplicate events: %w", err)
		}
		for rows.Next() {
			var (
				b    []byte
				data string
			)
			if err := rows.Scan(&b, &data); err != nil {
				rows.Close()
				return fmt.Errorf("check duplicate events: %w", err)
			}
			have, err1 := caliper.DecodeJSON([]byte(data))
			want, err2 := caliper.DecodeJSON(sent[uuid.UUID(b)])
			if err1 != nil || err2 != nil || !caliper.EqualJSON(have, want) {
				conflicts = append(conflicts, uuid.UUID(b))
			}
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("check duplicate events: %w", err)
		}
	}
	if len(conflicts) > 0 {
		return &ConflictError{IDs: conflicts}
	}
	return nil
}
