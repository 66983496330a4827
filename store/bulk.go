package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// StorageSize is the disk the event data takes. Table and Indexes are 0
// where the backend cannot tell them apart (the embedded file holds both).
type StorageSize struct {
	Total, Table, Indexes int64
}

// StorageSize reports the bytes the events table takes, TOAST and indexes
// included.
func (s *Postgres) StorageSize(ctx context.Context) (StorageSize, error) {
	var z StorageSize
	err := s.pool.QueryRow(ctx, `SELECT pg_total_relation_size('events'),
  pg_relation_size('events') + pg_relation_size(reltoastrelid), pg_indexes_size('events')
FROM pg_class WHERE relname = 'events'`).Scan(&z.Total, &z.Table, &z.Indexes)
	return z, translate(err)
}

// StorageSize reports the size of the database file and its write-ahead log.
func (s *SQLite) StorageSize(context.Context) (StorageSize, error) {
	n, err := s.FileSize()
	return StorageSize{Total: n}, err
}

// Optimize refreshes the query planner's statistics of the events table, as
// after a bulk load.
func (s *Postgres) Optimize(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `ANALYZE events`); err != nil {
		return translate(fmt.Errorf("analyze events: %w", err))
	}
	return nil
}

// CopyEvents bulk-loads env into an empty or dedicated database with COPY:
// one envelope row (no skeleton) and its events, in one transaction. It
// neither dedupes nor checks for conflicts (a repeated id is ErrConflict)
// and stores no entities: it is for loading test datasets, not for ingest.
func (s *Postgres) CopyEvents(ctx context.Context, env *Envelope) error {
	cols := []string{"tenant_id", "envelope_id", "id", "type", "action", "actor_id", "object_id", "object_type",
		"group_id", "session_id", "edapp_id", "profile", "event_time", "data"}
	return s.withTx(ctx, func(tx pgx.Tx) error {
		var envID int64
		if err := tx.QueryRow(ctx, insertEnvelopeSQL, env.TenantID, env.Sensor, env.SendTime, env.DataVersion,
			env.APIKeyID, env.ItemCount, nil).Scan(&envID); err != nil {
			return fmt.Errorf("insert envelope: %w", err)
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, cols, pgx.CopyFromSlice(len(env.Events), func(i int) ([]any, error) {
			e := env.Events[i]
			return []any{env.TenantID, envID, e.ID, e.Type, e.Action, nullString(e.ActorID), nullString(e.ObjectID),
				nullString(e.ObjectType), nullString(e.GroupID), nullString(e.SessionID), nullString(e.EdAppID),
				nullString(e.Profile), e.EventTime, e.Data}, nil
		}))
		if err != nil {
			return fmt.Errorf("copy events: %w", err)
		}
		return nil
	})
}
