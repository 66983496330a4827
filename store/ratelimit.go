package store

import (
	"context"
	"fmt"
)

// SetKeyRateLimit sets key id's own ingest limit in events per second: nil
// returns it to the server's default, 0 lifts it. ErrNotFound if no such key.
func (s *Postgres) SetKeyRateLimit(ctx context.Context, id int64, eventsPerSec *float64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET rate_limit = $2 WHERE id = $1`, id, eventsPerSec)
	if err != nil {
		return translate(fmt.Errorf("set key rate limit: %w", err))
	}
	s.keys.changed() // this node at once; others when notified
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set key %d rate limit: %w", id, ErrNotFound)
	}
	return nil
}

// SetKeyRateLimit sets key id's own ingest limit, as Postgres.SetKeyRateLimit does.
func (s *SQLite) SetKeyRateLimit(ctx context.Context, id int64, eventsPerSec *float64) error {
	r, err := s.w.ExecContext(ctx, `UPDATE api_keys SET rate_limit = ? WHERE id = ?`, eventsPerSec, id)
	if err != nil {
		return translateSQLite(fmt.Errorf("set key rate limit: %w", err))
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("set key %d rate limit: %w", id, ErrNotFound)
	}
	return nil
}
