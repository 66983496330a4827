package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// StreamHead returns the position of the tenant's last event: with one
// writer at a time, whatever commits later comes after it.
func (s *SQLite) StreamHead(ctx context.Context, tenantID int64) (Position, error) {
	var pos Position
	err := s.r.QueryRowContext(ctx, `SELECT e.seq FROM events e WHERE e.tenant_id = ? ORDER BY e.seq DESC LIMIT 1`, tenantID).Scan(&pos.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return Position{}, nil
	}
	return pos, translateSQLite(err)
}

// streamChunk bounds the tenants of one compound SELECT (SQLite allows 500 terms).
const streamChunk = 200

// StreamEvents returns, for each tenant of from, up to limit of its events
// after its position, in stored order per tenant: one compound statement
// for up to streamChunk tenants. Insert order is commit order here, so
// nothing is ever held back (held is false).
func (s *SQLite) StreamEvents(ctx context.Context, from []TenantAfter, limit int) ([]LiveEvent, bool, error) {
	var events []LiveEvent
	for len(from) > 0 {
		chunk := from[:min(len(from), streamChunk)]
		from = from[len(chunk):]
		terms := make([]string, len(chunk))
		args := make([]any, 0, 4*len(chunk))
		for i, f := range chunk {
			terms[i] = `SELECT * FROM (
    SELECT ? AS t, v.sensor,` + sqliteEventColumns + `
    FROM events e JOIN envelopes v ON v.id = e.envelope_id
    WHERE e.tenant_id = ? AND e.seq > ?
    ORDER BY e.seq
    LIMIT ?)`
			args = append(args, f.TenantID, f.TenantID, f.After.Seq, limit)
		}
		rows, err := s.r.QueryContext(ctx, strings.Join(terms, "\nUNION ALL\n"), args...)
		if err != nil {
			return nil, false, translateSQLite(fmt.Errorf("stream events: %w", err))
		}
		noEnvelopeID := func(int64) string { return "" }
		for rows.Next() {
			var ev LiveEvent
			scan := func(dest ...any) error { return rows.Scan(append([]any{&ev.TenantID, &ev.Sensor}, dest...)...) }
			if err := scanSQLiteEvent(scan, &ev.StoredEvent, noEnvelopeID); err != nil {
				rows.Close()
				return nil, false, translateSQLite(fmt.Errorf("stream events: %w", err))
			}
			events = append(events, ev)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, false, translateSQLite(fmt.Errorf("stream events: %w", err))
		}
	}
	// Stored order per tenant, whatever order the terms came back in.
	slices.SortStableFunc(events, func(a, b LiveEvent) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.Seq, b.Seq))
	})
	return events, false, nil
}

// WatchCommits calls wake after every commit of this process's writer that
// stored envelopes, until ctx ends. Another process writing the same file
// (lrs import) is not seen: the stream's periodic look catches its events.
func (s *SQLite) WatchCommits(ctx context.Context, wake func()) error {
	stop := s.commits.watch(wake)
	defer stop()
	wake()
	<-ctx.Done()
	return ctx.Err()
}
