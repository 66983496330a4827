package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SweepErasures does one step of the oldest erasure's sweep (erase.go) in
// one short transaction and reports whether there was one.
func (s *SQLite) SweepErasures(ctx context.Context) (bool, error) {
	worked := false
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var w sweep
		var sketches []byte
		err := tx.QueryRowContext(ctx, `
SELECT erasure_id, tenant_id, iri, events_through, events_at, envelopes_through, envelopes_at,
    sketches, events_redacted, envelopes_redacted
FROM erasure_sweeps ORDER BY erasure_id LIMIT 1`).Scan(&w.erasure, &w.tenant, &w.iri,
			&w.eventsThrough, &w.eventsAt, &w.envelopesThrough, &w.envelopesAt, &sketches, &w.eventsRedacted, &w.envelopesRedacted)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		worked = true
		if w.sketches, err = decodeSketches(sketches); err != nil {
			return err
		}
		switch {
		case len(w.sketches) > 0:
			pos, err := sqliteHoldRollups(ctx, tx, w.tenant)
			if err != nil {
				return err
			}
			days, rest := nextSketchDays(w.sketches, sweepSketchDays)
			if err := sqliteRebuildSketches(ctx, tx, w.tenant, pos, days); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE erasure_sweeps SET sketches = ? WHERE erasure_id = ?`, encodeSketchKeys(rest), w.erasure)
			return err
		case w.eventsAt < w.eventsThrough:
			upTo := min(w.eventsAt+sweepRows, w.eventsThrough)
			n, err := sqliteSweepEvents(ctx, tx, w, upTo)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE erasure_sweeps SET events_at = ?, events_redacted = events_redacted + ? WHERE erasure_id = ?`, upTo, n, w.erasure)
			return err
		case w.envelopesAt < w.envelopesThrough:
			upTo := min(w.envelopesAt+sweepRows, w.envelopesThrough)
			changes, err := sqliteRedactRows(ctx, tx, w.iri, `SELECT id, skeleton FROM envelopes
WHERE tenant_id = ? AND id > ? AND id <= ? AND skeleton IS NOT NULL AND `+fmt.Sprintf(sqliteCandidates, "skeleton"),
				w.tenant, w.envelopesAt, upTo, w.iri)
			if err != nil {
				return fmt.Errorf("sweep envelopes: %w", err)
			}
			for id, skel := range changes {
				if _, err := tx.ExecContext(ctx, `UPDATE envelopes SET skeleton = ? WHERE id = ?`, skel, id); err != nil {
					return fmt.Errorf("sweep envelopes: %w", err)
				}
			}
			_, err = tx.ExecContext(ctx, `UPDATE erasure_sweeps SET envelopes_at = ?, envelopes_redacted = envelopes_redacted + ? WHERE erasure_id = ?`,
				upTo, len(changes), w.erasure)
			return err
		}
		return sqliteEndSweep(ctx, tx, w)
	})
	if err != nil {
		return false, translateSQLite(fmt.Errorf("erasure sweep: %w", err))
	}
	return worked, nil
}

// sqliteSweepEvents redacts the IRI in the tenant's events with seq in
// (eventsAt, upTo].
func sqliteSweepEvents(ctx context.Context, tx *sql.Tx, w sweep, upTo int64) (int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, data FROM events
WHERE tenant_id = ? AND seq > ? AND seq <= ? AND `+fmt.Sprintf(sqliteCandidates, "data"), w.tenant, w.eventsAt, upTo, w.iri)
	if err != nil {
		return 0, fmt.Errorf("sweep events: %w", err)
	}
	defer rows.Close()
	var changes []redactedEvent
	for rows.Next() {
		var c redactedEvent
		if err := rows.Scan(&c.seq, &c.data); err != nil {
			return 0, fmt.Errorf("sweep events: %w", err)
		}
		red, changed, err := redact(c.data, w.iri)
		if err != nil {
			return 0, err
		}
		if changed {
			changes = append(changes, redactedEvent{c.seq, red})
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("sweep events: %w", err)
	}
	rows.Close()
	return int64(len(changes)), sqliteUpdateRedacted(ctx, tx, w.iri, changes)
}

// sqliteEndSweep adds the sweep's counts to the audit record, marks it
// complete and forgets the IRI.
func sqliteEndSweep(ctx context.Context, tx *sql.Tx, w sweep) error {
	var counts []byte
	if err := tx.QueryRowContext(ctx, `SELECT counts FROM erasures WHERE id = ?`, w.erasure).Scan(&counts); err != nil {
		return err
	}
	merged, err := w.addCounts(counts)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE erasures SET counts = ?, completed_at = ? WHERE id = ?`, merged, micros(time.Now()), w.erasure); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM erasure_sweeps WHERE erasure_id = ?`, w.erasure)
	return err
}

// Erasures lists a tenant's erasure records, newest first; id > 0 asks for
// that one only (ErrNotFound when the tenant has none such).
func (s *SQLite) Erasures(ctx context.Context, tenant, id int64) ([]ErasureRecord, error) {
	rows, err := s.r.QueryContext(ctx, `
SELECT id, at, coalesce(api_key_id, 0), counts, completed_at FROM erasures
WHERE tenant_id = ?1 AND (?2 = 0 OR id = ?2) ORDER BY id DESC LIMIT 1000`, tenant, id)
	if err != nil {
		return nil, translateSQLite(fmt.Errorf("erasures: %w", err))
	}
	defer rows.Close()
	var out []ErasureRecord
	for rows.Next() {
		var (
			r      ErasureRecord
			at     int64
			done   sql.NullInt64
			counts []byte
		)
		if err := rows.Scan(&r.ID, &at, &r.KeyID, &counts, &done); err != nil {
			return nil, translateSQLite(fmt.Errorf("erasures: %w", err))
		}
		r.At = fromMicros(at)
		if done.Valid {
			t := fromMicros(done.Int64)
			r.CompletedAt = &t
		}
		rec, err := r.withCounts(counts)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, translateSQLite(fmt.Errorf("erasures: %w", err))
	}
	if id > 0 && len(out) == 0 {
		return nil, fmt.Errorf("erasure %d: %w", id, ErrNotFound)
	}
	return out, nil
}
